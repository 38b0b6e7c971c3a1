// Evaluation datasets: cases from JSONL (one object per line), optionally joined
// with BEIR qrels, versioned by a content hash of their canonical form.
//
// A JSONL line: {"id", "input", "reference", "contexts": [...], "output",
// "output_b", "labels": {...}}. `input` is required ("text", "query" and
// "question" are accepted for it, "_id" for "id", so BEIR queries load as
// they are); a case without an id gets "case-<line>".
#ifndef TESSERA_EVAL_DATASET_H_
#define TESSERA_EVAL_DATASET_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eval/retrieval_metrics.h"
#include "tessera/eval/v1/eval.pb.h"

namespace tessera::eval {

using Cases = std::vector<v1::EvalCase>;

// The label holding a case's relevance judgments: "doc-a:2,doc-b" (grade 1
// when omitted).
inline constexpr char kRelevantLabel[] = "relevant";
// The label holding a human score of the output (1-5), used for calibration.
inline constexpr char kHumanScoreLabel[] = "human_score";

// Errors name `what` and the line.
absl::StatusOr<Cases> ParseJsonlCases(absl::string_view text, absl::string_view what = "dataset");
absl::StatusOr<Cases> LoadJsonlCases(const std::string& path);

// Keeps the cases with at least one judged document in `qrels` (as BEIR
// evaluates) and writes their judgments into labels["relevant"].
Cases AttachQrels(const Qrels& qrels, Cases cases);

// labels["relevant"] as judgments; InvalidArgument for a malformed grade.
absl::StatusOr<QueryJudgments> ParseRelevantLabel(absl::string_view label);

// Checks ids (present after defaults, unique) and inputs (non-empty).
absl::Status ValidateCases(const Cases& cases);

// Hex SHA-256 of the cases' canonical JSON, one per line, in order: the
// dataset's version. Equal cases give equal hashes whatever their source.
std::string ContentHash(const Cases& cases);

// Inline cases or `jsonl_path` (+ `qrels_path`), cut to `max_cases`, with
// defaults applied and validated. `dataset_id` is resolved by the store, not here.
absl::StatusOr<Cases> ResolveDataset(const v1::Dataset& dataset);

}  // namespace tessera::eval

#endif  // TESSERA_EVAL_DATASET_H_

// RAG metrics judged through a ChatModel (definitions after Ragas), each in [0, 1]:
//  - faithfulness: the judge splits the answer (output) into claims; each claim
//    is checked against the contexts; supported claims / claims.
//  - answer relevance: the judge rates how directly the answer addresses the
//    input (1-5, ignoring correctness), mapped to (score - 1) / 4.
//  - context precision: per context in rank order, is it useful for reaching
//    the reference (the output when there is no reference)? The mean of
//    precision@k over the ranks k of the useful contexts (0 when none is).
//  - context recall: the reference split into sentences; each is checked for
//    attribution to the contexts; attributed sentences / sentences.
#ifndef TESSERA_EVAL_RAG_METRICS_H_
#define TESSERA_EVAL_RAG_METRICS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eval/model_call.h"
#include "tessera/eval/v1/eval.pb.h"

namespace tessera::eval {

struct MetricValue {
  double value = 0;
  std::string detail;  // What was judged, for the report.
};

absl::StatusOr<MetricValue> Faithfulness(ModelCaller& caller, const v1::EvalCase& c);
absl::StatusOr<MetricValue> AnswerRelevance(ModelCaller& caller, const v1::EvalCase& c);
absl::StatusOr<MetricValue> ContextPrecision(ModelCaller& caller, const v1::EvalCase& c);
absl::StatusOr<MetricValue> ContextRecall(ModelCaller& caller, const v1::EvalCase& c);

// Sentences ending in . ! or ? followed by whitespace (or the end), trimmed.
std::vector<std::string> SplitSentences(absl::string_view text);
// A judge's list, one item per line, without bullets or numbering; a reply
// of "NONE" is an empty list.
std::vector<std::string> ParseList(absl::string_view reply);
// Mean of precision@k over the ranks k whose verdict is true; 0 when none is.
double MeanPrecisionAtRelevant(const std::vector<bool>& useful);

}  // namespace tessera::eval

#endif  // TESSERA_EVAL_RAG_METRICS_H_

// LLM-as-judge over agents::ChatModel (through a ModelCaller):
//  - pointwise: a 1-5 score against the rubric;
//  - pairwise: output vs output_b, asked in both orders; when the two orders
//    disagree the result is a tie, which cancels position bias;
//  - G-Eval: evaluation steps written once per criterion (GEvalSteps), then a
//    score whose value is the probability-weighted mean over the score tokens
//    1-5 (falls back to the sampled score, flagged and explained, when the
//    backend gives no logprobs or no score token among the alternatives).
// Structured output (Judge.structured_output; by default when the judge model
// enforces JSON schemas): the reply is asked for as JSON constrained to a
// schema -- {"reason", "score": 1-5}, {"reason", "preference": A|B|TIE}, and
// G-Eval's form {"score": 1-5} -- through sampling.json_schema. The reason is
// capped at max_tokens - 24 characters (600 at most; left out below 16) so the
// verdict fits. Replies are read by score_parsing.h either way.
#ifndef TESSERA_EVAL_JUDGES_H_
#define TESSERA_EVAL_JUDGES_H_

#include <string>

#include "absl/status/statusor.h"
#include "eval/model_call.h"
#include "tessera/eval/v1/eval.pb.h"

namespace tessera::eval {

// The judge's name in results: its `name`, else "<kind>:<criterion>".
std::string JudgeName(const v1::Judge& judge);
// "pointwise", "pairwise", "g_eval".
std::string JudgeKindName(v1::Judge::Kind kind);

// Score 1-5 in `score`; the reply in `reasoning`.
absl::StatusOr<v1::JudgeResult> JudgePointwise(ModelCaller& caller, const v1::Judge& judge,
                                               const v1::EvalCase& c);

// `preference` A (output), B (output_b) or TIE; `score` 1, 0 or 0.5 (A's win
// share). Needs both outputs.
absl::StatusOr<v1::JudgeResult> JudgePairwise(ModelCaller& caller, const v1::Judge& judge,
                                              const v1::EvalCase& c);

// G-Eval's first stage: the evaluation steps for the judge's criterion.
absl::StatusOr<std::string> GEvalSteps(ModelCaller& caller, const v1::Judge& judge);
// G-Eval's second stage. Asks for logprobs (top 20 alternatives unless the
// judge's sampling says otherwise).
absl::StatusOr<v1::JudgeResult> JudgeGEval(ModelCaller& caller, const v1::Judge& judge,
                                           const std::string& steps, const v1::EvalCase& c);

}  // namespace tessera::eval

#endif  // TESSERA_EVAL_JUDGES_H_

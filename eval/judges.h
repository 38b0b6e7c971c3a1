// LLM-as-judge over agents::ChatModel (through a ModelCaller):
//  - pointwise: a 1-5 score against the rubric;
//  - pairwise: output vs output_b, asked in both orders; when the two orders
//    disagree the result is a tie, which cancels position bias;
//  - G-Eval: evaluation steps written once per criterion (GEvalSteps), then a
//    chain-of-thought score whose value is the probability-weighted mean over
//    the score tokens 1-5 (falls back to the sampled score, flagged, when the
//    backend gives no logprobs).
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

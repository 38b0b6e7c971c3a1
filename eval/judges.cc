#include "eval/judges.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/json.h"
#include "eval/score_parsing.h"

namespace tessera::eval {
namespace {

constexpr char kSystem[] =
    "You are a careful, impartial evaluator. Follow the instructions exactly and keep the "
    "required reply format.";

// Structured replies: a reason of at most this many characters, and at most
// max_tokens minus this many, so that the verdict after it always fits; with
// room for fewer than kMinReasonChars, no reason (the verdict alone).
constexpr int kMaxReasonChars = 600;
constexpr int kMinReasonChars = 16;
constexpr int kJsonOverheadTokens = 24;

bool Structured(const ModelCaller& caller, const v1::Judge& judge) {
  return judge.has_structured_output() ? judge.structured_output() : caller.SupportsJsonSchema();
}

// A token spells at least one character (rarely less: byte pieces of one
// multi-byte character), so this many leave room for the verdict. -1: none.
int ReasonChars(const agents::SamplingParams& sampling) {
  const int budget = sampling.max_tokens() > 0 ? sampling.max_tokens() : 512;
  const int room = std::min(budget - kJsonOverheadTokens, kMaxReasonChars);
  return room >= kMinReasonChars ? room : -1;
}

Json ScoreValueSchema() { return {{"type", "integer"}, {"minimum", 1}, {"maximum", 5}}; }

// {"reason": <= reason_chars characters (none when negative), key: verdict}.
Json ReplySchema(int reason_chars, const std::string& key, Json verdict) {
  Json properties = Json::object();
  Json required = Json::array();
  if (reason_chars >= 0) {
    properties["reason"] = {{"type", "string"}, {"maxLength", reason_chars}};
    required.push_back("reason");
  }
  properties[key] = std::move(verdict);
  required.push_back(key);
  return {{"type", "object"},
          {"properties", std::move(properties)},
          {"required", std::move(required)},
          {"additionalProperties", false}};
}

// The sampling of a judge call: the caller's, with `schema` when structured
// unless the judge's sampling brings its own (its reply is read the same way).
absl::StatusOr<agents::SamplingParams> CallSampling(const ModelCaller& caller, bool structured,
                                                    const Json& schema) {
  agents::SamplingParams sampling = caller.sampling();
  if (!structured || sampling.has_json_schema()) return sampling;
  absl::StatusOr<google::protobuf::Struct> converted = JsonToStruct(schema);
  if (!converted.ok()) return converted.status();
  *sampling.mutable_json_schema() = *std::move(converted);
  return sampling;
}

constexpr char kDefaultRubric[] =
    "1: wrong, irrelevant or harmful\n"
    "2: mostly wrong or missing the point\n"
    "3: partly correct or incomplete\n"
    "4: correct with minor issues\n"
    "5: fully correct, complete and clear";

std::string Criterion(const v1::Judge& judge) {
  return judge.criterion().empty() ? "overall quality" : judge.criterion();
}

// Input, reference and contexts of a case, as the judge sees them.
std::string CaseBlock(const v1::EvalCase& c) {
  std::string text = absl::StrCat("Input:\n", c.input(), "\n\n");
  if (!c.reference().empty()) absl::StrAppend(&text, "Reference answer:\n", c.reference(), "\n\n");
  for (int i = 0; i < c.contexts_size(); ++i) {
    absl::StrAppend(&text, "Context ", i + 1, ":\n", c.contexts(i), "\n\n");
  }
  return text;
}

std::string Trimmed(const std::string& text) {
  return std::string(absl::StripAsciiWhitespace(text));
}

absl::Status NeedsOutput(const v1::EvalCase& c, const v1::Judge& judge) {
  if (!c.output().empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("judge ", JudgeName(judge), ": case \"", c.id(), "\" has no output to judge"));
}

std::string PairwisePrompt(const v1::Judge& judge, const v1::EvalCase& c, const std::string& a,
                           const std::string& b, bool structured) {
  return absl::StrCat("Compare two responses on this criterion: ", Criterion(judge), "\n",
                      judge.rubric().empty() ? "" : absl::StrCat(judge.rubric(), "\n"), "\n",
                      CaseBlock(c), "Response A:\n", a, "\n\nResponse B:\n", b,
                      "\n\nWhich response is better on the criterion? ",
                      structured ? "Reply with only a JSON object {\"reason\": \"<a brief explanation>\", "
                                   "\"preference\": \"A\", \"B\" or \"TIE\"}."
                                 : "Explain briefly, then end with one line \"Preference: A\", "
                                   "\"Preference: B\" or \"Preference: TIE\".");
}

}  // namespace

std::string JudgeKindName(v1::Judge::Kind kind) {
  switch (kind) {
    case v1::Judge::POINTWISE:
      return "pointwise";
    case v1::Judge::PAIRWISE:
      return "pairwise";
    case v1::Judge::G_EVAL:
      return "g_eval";
    default:
      return "unspecified";
  }
}

std::string JudgeName(const v1::Judge& judge) {
  if (!judge.name().empty()) return judge.name();
  return judge.criterion().empty() ? JudgeKindName(judge.kind())
                                   : absl::StrCat(JudgeKindName(judge.kind()), ":", judge.criterion());
}

absl::StatusOr<v1::JudgeResult> JudgePointwise(ModelCaller& caller, const v1::Judge& judge,
                                               const v1::EvalCase& c) {
  if (absl::Status status = NeedsOutput(c, judge); !status.ok()) return status;
  const bool structured = Structured(caller, judge);
  const std::string prompt = absl::StrCat(
      "Score the response on this criterion: ", Criterion(judge), "\nRubric (1-5):\n",
      judge.rubric().empty() ? kDefaultRubric : judge.rubric(), "\n\n", CaseBlock(c),
      "Response:\n", c.output(), "\n\n",
      structured ? "Reply with only a JSON object {\"reason\": \"<your reasoning in one or two "
                   "sentences>\", \"score\": N} where N is an integer from 1 to 5."
                 : "Explain your reasoning in one or two sentences, then end with one line "
                   "\"Score: N\" where N is an integer from 1 to 5.");
  auto sampling =
      CallSampling(caller, structured, ReplySchema(ReasonChars(caller.sampling()), "score", ScoreValueSchema()));
  if (!sampling.ok()) return sampling.status();
  auto reply = caller.Call(kSystem, prompt, &*sampling);
  if (!reply.ok()) return reply.status();
  auto score = ParseScore(reply->text);
  if (!score.ok()) return score.status();
  v1::JudgeResult result;
  result.set_judge(JudgeName(judge));
  result.set_score(*score);
  result.set_reasoning(Trimmed(reply->text));
  return result;
}

absl::StatusOr<v1::JudgeResult> JudgePairwise(ModelCaller& caller, const v1::Judge& judge,
                                              const v1::EvalCase& c) {
  if (c.output().empty() || c.output_b().empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "judge ", JudgeName(judge), ": case \"", c.id(), "\" needs output and output_b"));
  }
  const bool structured = Structured(caller, judge);
  auto sampling = CallSampling(caller, structured,
                               ReplySchema(ReasonChars(caller.sampling()), "preference", {{"enum", {"A", "B", "TIE"}}}));
  if (!sampling.ok()) return sampling.status();
  // First order: A = output. Second order: A = output_b, so its answer is mirrored.
  auto first = caller.Call(kSystem, PairwisePrompt(judge, c, c.output(), c.output_b(), structured), &*sampling);
  if (!first.ok()) return first.status();
  auto first_preference = ParsePreference(first->text);
  if (!first_preference.ok()) return first_preference.status();
  auto second = caller.Call(kSystem, PairwisePrompt(judge, c, c.output_b(), c.output(), structured), &*sampling);
  if (!second.ok()) return second.status();
  auto second_preference = ParsePreference(second->text);
  if (!second_preference.ok()) return second_preference.status();
  Preference mirrored = *second_preference == Preference::kA   ? Preference::kB
                        : *second_preference == Preference::kB ? Preference::kA
                                                               : Preference::kTie;
  const Preference final_preference =
      *first_preference == mirrored ? *first_preference : Preference::kTie;
  v1::JudgeResult result;
  result.set_judge(JudgeName(judge));
  result.set_preference(PreferenceName(final_preference));
  result.set_score(final_preference == Preference::kA   ? 1.0
                   : final_preference == Preference::kB ? 0.0
                                                        : 0.5);
  result.set_reasoning(absl::StrCat(
      "output first: ", PreferenceName(*first_preference), "; output_b first: ",
      PreferenceName(mirrored), " (in terms of output = A)",
      *first_preference == mirrored ? "" : "; the orders disagree, so TIE", "\n--- output first\n",
      Trimmed(first->text), "\n--- output_b first\n", Trimmed(second->text)));
  return result;
}

absl::StatusOr<std::string> GEvalSteps(ModelCaller& caller, const v1::Judge& judge) {
  const std::string prompt = absl::StrCat(
      "You will evaluate responses on this criterion: ", Criterion(judge), "\n",
      judge.rubric().empty() ? "" : absl::StrCat("Rubric (1-5):\n", judge.rubric(), "\n"),
      "\nWrite the evaluation steps: a short numbered list of what to check, first to last, "
      "to score a response from 1 to 5 on this criterion. Reply with the steps only.");
  auto reply = caller.Call(kSystem, prompt);
  if (!reply.ok()) return reply.status();
  std::string steps = Trimmed(reply->text);
  if (steps.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("judge ", JudgeName(judge), ": the model wrote no evaluation steps"));
  }
  return steps;
}

absl::StatusOr<v1::JudgeResult> JudgeGEval(ModelCaller& caller, const v1::Judge& judge,
                                           const std::string& steps, const v1::EvalCase& c) {
  if (absl::Status status = NeedsOutput(c, judge); !status.ok()) return status;
  const bool structured = Structured(caller, judge);
  // Structured: G-Eval's form filling (the steps are the chain of thought; the
  // reply is the score alone, so its token's alternatives are the score's).
  const std::string prompt = absl::StrCat(
      "Evaluate the response on this criterion: ", Criterion(judge), "\n\nEvaluation steps:\n",
      steps, "\n\n", CaseBlock(c), "Response:\n", c.output(), "\n\n",
      structured ? "Follow the evaluation steps, then fill in the evaluation form: reply with only "
                   "the JSON object {\"score\": N} where N is an integer from 1 to 5."
                 : "Follow the evaluation steps and reason step by step, then end with one line "
                   "\"Score: N\" where N is an integer from 1 to 5.");
  auto sampling = CallSampling(caller, structured, ReplySchema(-1, "score", ScoreValueSchema()));
  if (!sampling.ok()) return sampling.status();
  sampling->set_logprobs(true);
  if (sampling->top_logprobs() == 0) sampling->set_top_logprobs(20);
  auto reply = caller.Call(kSystem, prompt, &*sampling);
  if (!reply.ok()) return reply.status();
  auto sampled = ParseScore(reply->text);
  absl::StatusOr<WeightedScore> weighted = LogprobWeightedScore(reply->logprobs);
  if (!weighted.ok() && !sampled.ok()) return sampled.status();
  v1::JudgeResult result;
  result.set_judge(JudgeName(judge));
  result.set_logprob_weighted(weighted.ok());
  if (weighted.ok()) {
    result.set_score(weighted->score);
    result.set_reasoning(absl::StrFormat(
        "probability-weighted over score tokens 1-5 (mass %.3f%s)\n%s", weighted->mass,
        sampled.ok() ? absl::StrFormat(", sampled %g", *sampled) : "", Trimmed(reply->text)));
  } else {
    result.set_score(*sampled);
    result.set_reasoning(absl::StrCat("sampled score: ", weighted.status().message(), "\n",
                                      Trimmed(reply->text)));
  }
  return result;
}

}  // namespace tessera::eval

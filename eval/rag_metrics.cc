#include "eval/rag_metrics.h"

#include <re2/re2.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "eval/score_parsing.h"

namespace tessera::eval {
namespace {

constexpr char kSystem[] =
    "You are a careful fact checker. Answer exactly in the format asked for.";
constexpr char kVerdictLine[] =
    "Answer with a short reason, then one line \"Verdict: YES\" or \"Verdict: NO\".";

std::string JoinedContexts(const v1::EvalCase& c) {
  std::string text;
  for (int i = 0; i < c.contexts_size(); ++i) absl::StrAppend(&text, "[", i + 1, "] ", c.contexts(i), "\n");
  return text;
}

absl::Status Needs(bool present, absl::string_view metric, absl::string_view what,
                   const v1::EvalCase& c) {
  if (present) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(metric, ": case \"", c.id(), "\" has no ", what));
}

// Asks one yes/no question per item; returns the verdicts in order.
absl::StatusOr<std::vector<bool>> Verdicts(ModelCaller& caller,
                                           const std::vector<std::string>& prompts) {
  std::vector<bool> verdicts;
  for (const std::string& prompt : prompts) {
    auto reply = caller.Call(kSystem, prompt);
    if (!reply.ok()) return reply.status();
    auto verdict = ParseVerdict(reply->text);
    if (!verdict.ok()) return verdict.status();
    verdicts.push_back(*verdict);
  }
  return verdicts;
}

int CountTrue(const std::vector<bool>& verdicts) {
  int count = 0;
  for (bool verdict : verdicts) count += verdict;
  return count;
}

}  // namespace

std::vector<std::string> SplitSentences(absl::string_view text) {
  std::vector<std::string> sentences;
  std::string current;
  for (size_t i = 0; i < text.size(); ++i) {
    current += text[i];
    const bool end = text[i] == '.' || text[i] == '!' || text[i] == '?';
    if (end && (i + 1 == text.size() || absl::ascii_isspace(static_cast<unsigned char>(text[i + 1])))) {
      std::string sentence(absl::StripAsciiWhitespace(current));
      if (!sentence.empty()) sentences.push_back(std::move(sentence));
      current.clear();
    }
  }
  std::string rest(absl::StripAsciiWhitespace(current));
  if (!rest.empty()) sentences.push_back(std::move(rest));
  return sentences;
}

std::vector<std::string> ParseList(absl::string_view reply) {
  static const RE2* const kBullet = new RE2("^\\s*(?:[-*\\x{2022}]\\s*|\\(?[0-9]+[.)]\\s+)");
  std::vector<std::string> items;
  for (absl::string_view line : absl::StrSplit(reply, '\n', absl::SkipWhitespace())) {
    std::string item(line);
    RE2::Replace(&item, *kBullet, "");
    item = std::string(absl::StripAsciiWhitespace(item));
    if (item.empty() || absl::EqualsIgnoreCase(item, "none")) continue;
    // A heading such as "Claims:" is not a claim.
    if (item.back() == ':' && item.find(' ') == std::string::npos) continue;
    items.push_back(std::move(item));
  }
  return items;
}

double MeanPrecisionAtRelevant(const std::vector<bool>& useful) {
  double sum = 0;
  int relevant = 0;
  for (size_t k = 0; k < useful.size(); ++k) {
    if (!useful[k]) continue;
    ++relevant;
    sum += static_cast<double>(relevant) / (k + 1);
  }
  return relevant == 0 ? 0 : sum / relevant;
}

absl::StatusOr<MetricValue> Faithfulness(ModelCaller& caller, const v1::EvalCase& c) {
  if (auto s = Needs(!c.output().empty(), "faithfulness", "output", c); !s.ok()) return s;
  if (auto s = Needs(c.contexts_size() > 0, "faithfulness", "contexts", c); !s.ok()) return s;
  auto reply = caller.Call(
      kSystem, absl::StrCat("Break the answer into short, self-contained factual claims, one per "
                            "line. Reply with the claims only, or NONE.\n\nQuestion:\n",
                            c.input(), "\n\nAnswer:\n", c.output()));
  if (!reply.ok()) return reply.status();
  std::vector<std::string> claims = ParseList(reply->text);
  if (claims.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("faithfulness: the judge found no claims in the answer of case \"", c.id(), "\""));
  }
  std::vector<std::string> prompts;
  for (const std::string& claim : claims) {
    prompts.push_back(absl::StrCat("Context:\n", JoinedContexts(c), "\nClaim: ", claim,
                                   "\n\nIs the claim supported by the context? ", kVerdictLine));
  }
  auto verdicts = Verdicts(caller, prompts);
  if (!verdicts.ok()) return verdicts.status();
  const int supported = CountTrue(*verdicts);
  return MetricValue{static_cast<double>(supported) / claims.size(),
                     absl::StrFormat("%d of %d claims supported", supported, claims.size())};
}

absl::StatusOr<MetricValue> AnswerRelevance(ModelCaller& caller, const v1::EvalCase& c) {
  if (auto s = Needs(!c.output().empty(), "answer_relevance", "output", c); !s.ok()) return s;
  auto reply = caller.Call(
      kSystem,
      absl::StrCat("Rate how directly the answer addresses the question, ignoring whether it is "
                   "correct (answer relevance).\n1: unrelated or evasive\n3: partly on topic, "
                   "incomplete or padded\n5: answers exactly what was asked\n\nQuestion:\n",
                   c.input(), "\n\nAnswer:\n", c.output(),
                   "\n\nEnd with one line \"Score: N\" where N is an integer from 1 to 5."));
  if (!reply.ok()) return reply.status();
  auto score = ParseScore(reply->text);
  if (!score.ok()) return score.status();
  return MetricValue{(*score - 1) / 4, absl::StrFormat("relevance %g of 5", *score)};
}

absl::StatusOr<MetricValue> ContextPrecision(ModelCaller& caller, const v1::EvalCase& c) {
  if (auto s = Needs(c.contexts_size() > 0, "context_precision", "contexts", c); !s.ok()) return s;
  const std::string& target = c.reference().empty() ? c.output() : c.reference();
  if (auto s = Needs(!target.empty(), "context_precision", "reference or output", c); !s.ok()) return s;
  std::vector<std::string> prompts;
  for (const std::string& context : c.contexts()) {
    prompts.push_back(absl::StrCat("Question:\n", c.input(), "\n\nReference answer:\n", target,
                                   "\n\nContext to judge:\n", context,
                                   "\n\nIs this context useful for arriving at the reference "
                                   "answer? ",
                                   kVerdictLine));
  }
  auto verdicts = Verdicts(caller, prompts);
  if (!verdicts.ok()) return verdicts.status();
  std::string ranks;
  for (bool useful : *verdicts) ranks += useful ? '1' : '0';
  return MetricValue{MeanPrecisionAtRelevant(*verdicts), absl::StrCat("useful by rank: ", ranks)};
}

absl::StatusOr<MetricValue> ContextRecall(ModelCaller& caller, const v1::EvalCase& c) {
  if (auto s = Needs(!c.reference().empty(), "context_recall", "reference", c); !s.ok()) return s;
  if (auto s = Needs(c.contexts_size() > 0, "context_recall", "contexts", c); !s.ok()) return s;
  std::vector<std::string> sentences = SplitSentences(c.reference());
  std::vector<std::string> prompts;
  for (const std::string& sentence : sentences) {
    prompts.push_back(absl::StrCat("Context:\n", JoinedContexts(c), "\nStatement: ", sentence,
                                   "\n\nCan the statement be attributed to the context? ",
                                   kVerdictLine));
  }
  auto verdicts = Verdicts(caller, prompts);
  if (!verdicts.ok()) return verdicts.status();
  const int attributed = CountTrue(*verdicts);
  return MetricValue{static_cast<double>(attributed) / sentences.size(),
                     absl::StrFormat("%d of %d reference sentences attributed", attributed,
                                     sentences.size())};
}

}  // namespace tessera::eval

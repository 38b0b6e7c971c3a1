// Reading judges' replies: a 1-5 score, a pairwise preference, a yes/no
// verdict, and G-Eval's probability-weighted score from token logprobs.
#ifndef TESSERA_EVAL_SCORE_PARSING_H_
#define TESSERA_EVAL_SCORE_PARSING_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "agents/chat_model.h"

namespace tessera::eval {

// The score in [low, high] a reply gives. A JSON object reply (structured
// output, possibly in a ``` fence or cut short after the score) gives its
// top-level "score". Otherwise, last one winning: "Score: 4", "score = 4.5",
// "**Score:** 4", "4/5", "4 out of 5", "[[4]]"; else a reply that is only a
// number, else one whose last line starts with a number. InvalidArgument
// (quoting the reply) when none is in range.
absl::StatusOr<double> ParseScore(absl::string_view reply, int low = 1, int high = 5);

// Where the value of `key` starts (its first non-blank byte) when `text` is a
// JSON object (after blanks and an optional ``` fence line) with that key at
// its top level; the object may be unfinished. nullopt otherwise.
std::optional<size_t> JsonValueOffset(absl::string_view text, absl::string_view key);

enum class Preference { kA, kB, kTie };
const char* PreferenceName(Preference preference);  // "A", "B", "TIE"

// {"preference": "A"} (top-level JSON), "Preference: A", "Winner: B", "[[A]]",
// "[[C]]" (tie), "tie", a bare "A"...
absl::StatusOr<Preference> ParsePreference(absl::string_view reply);

// true for yes, false for no: "Verdict: YES", "Yes, because...", "no".
absl::StatusOr<bool> ParseVerdict(absl::string_view reply);

struct WeightedScore {
  double score = 0;
  // Probability mass of the score tokens at the score position (before
  // normalisation); how sure the judge was that a score goes there.
  double mass = 0;
};

// G-Eval: at the token where the reply states its score (the value of a
// top-level JSON "score", "Score: N", or a reply that is only N), the mean of
// low..high weighted by the probabilities of those tokens among the listed
// alternatives, renormalised over them (so alternatives a schema constraint
// ruled out do not count; a backend that reports the unconstrained
// distribution loses only the mass outside low..high). The sampled token counts
// when it is not listed. NOT_FOUND, saying why, when there are no logprobs, no
// score token, or no score token among the alternatives (then only the sampled
// score is known).
absl::StatusOr<WeightedScore> LogprobWeightedScore(const std::vector<agents::TokenLogprob>& tokens,
                                                   int low = 1, int high = 5);

}  // namespace tessera::eval

#endif  // TESSERA_EVAL_SCORE_PARSING_H_

#include "eval/score_parsing.h"

#include <cmath>

#include "eval/test_models.h"
#include "gtest/gtest.h"

namespace tessera::eval {
namespace {

TEST(ParseScoreTest, ReadsTheCommonShapes) {
  EXPECT_EQ(*ParseScore("The answer is correct.\nScore: 4"), 4);
  EXPECT_EQ(*ParseScore("**Score:** 5"), 5);
  EXPECT_EQ(*ParseScore("score = 3.5"), 3.5);
  EXPECT_EQ(*ParseScore(R"({"reasoning": "ok", "score": 2})"), 2);
  EXPECT_EQ(*ParseScore("I would give it 4/5."), 4);
  EXPECT_EQ(*ParseScore("That is 3 out of 5"), 3);
  EXPECT_EQ(*ParseScore("Rating: [[2]]"), 2);
  EXPECT_EQ(*ParseScore("  4. "), 4);
  EXPECT_EQ(*ParseScore("Mostly right.\n4 - minor omissions"), 4);
  // The last labelled score wins (the judge revised itself).
  EXPECT_EQ(*ParseScore("Score: 2 at first, but on reflection Score: 3"), 3);
  // Out-of-range labelled numbers are skipped for a valid form.
  EXPECT_EQ(*ParseScore("Step 7 done. 5/5"), 5);
}

TEST(ParseScoreTest, StructuredRepliesGiveTheirTopLevelScore) {
  // The reason's own "Score: 2" does not count; the JSON field does.
  EXPECT_EQ(*ParseScore(R"({"reason": "Score: 2 at first, then better", "score": 4})"), 4);
  EXPECT_EQ(*ParseScore(R"({"score": 3, "reason": "a Score: 5 elsewhere"})"), 3);
  EXPECT_EQ(*ParseScore("```json\n{\"score\": 5}\n```"), 5);
  // Cut short by max_tokens after the score: still read.
  EXPECT_EQ(*ParseScore(R"({"score":2,"reason":"the answer misses)"), 2);
  // A nested "score" is not the verdict; the top-level one is.
  EXPECT_EQ(*ParseScore(R"({"details": {"score": 1}, "score": 5})"), 5);
  // Escaped quotes inside the reason do not end it.
  EXPECT_EQ(*ParseScore(R"({"reason": "says \"score\": 1", "score": 4})"), 4);
  // Out of range in JSON: no score from the field (and none elsewhere).
  EXPECT_FALSE(ParseScore(R"({"score": 7})").ok());
}

TEST(JsonValueOffsetTest, FindsTopLevelKeysOnly) {
  EXPECT_EQ(JsonValueOffset(R"({"score": 4})", "score"), 10u);
  EXPECT_EQ(JsonValueOffset(R"(  {"a": [1, {"score": 2}], "score":3})", "score"), 35u);
  EXPECT_FALSE(JsonValueOffset(R"({"a": {"score": 2}})", "score").has_value());
  EXPECT_FALSE(JsonValueOffset(R"({"note": "score", "x": 1})", "score").has_value());
  EXPECT_FALSE(JsonValueOffset("Score: 4", "score").has_value());
  EXPECT_FALSE(JsonValueOffset(R"({"score": )", "score").has_value());  // No value yet.
}

TEST(ParseScoreTest, RejectsRepliesWithoutAScore) {
  auto none = ParseScore("I cannot evaluate this.");
  ASSERT_EQ(none.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(none.status().message().find("I cannot evaluate"), std::string::npos);
  EXPECT_FALSE(ParseScore("Score: 9").ok());
  EXPECT_FALSE(ParseScore("").ok());
}

TEST(ParsePreferenceTest, ReadsPreferences) {
  EXPECT_EQ(*ParsePreference("A is clearer.\nPreference: A"), Preference::kA);
  EXPECT_EQ(*ParsePreference("Winner: **B**"), Preference::kB);
  EXPECT_EQ(*ParsePreference("[[C]]"), Preference::kTie);
  EXPECT_EQ(*ParsePreference("Preference: TIE"), Preference::kTie);
  EXPECT_EQ(*ParsePreference("B"), Preference::kB);
  EXPECT_EQ(*ParsePreference("Overall, Response A is better."), Preference::kA);
  EXPECT_FALSE(ParsePreference("Both are fine I guess").ok());
  EXPECT_EQ(*ParsePreference(R"({"reason": "Preference: A would be wrong", "preference": "B"})"), Preference::kB);
  EXPECT_EQ(*ParsePreference(R"({"preference": "TIE", "reason": "same"})"), Preference::kTie);
}

TEST(ParseVerdictTest, ReadsYesAndNo) {
  EXPECT_TRUE(*ParseVerdict("YES"));
  EXPECT_FALSE(*ParseVerdict("No, the context does not say so."));
  EXPECT_TRUE(*ParseVerdict("Reasoning... Verdict: yes"));
  EXPECT_FALSE(*ParseVerdict("Supported: false"));
  EXPECT_FALSE(ParseVerdict("maybe").ok());
}

using testing::MakeToken;

TEST(LogprobWeightedScoreTest, WeighsTheScoreTokensAtTheScorePosition) {
  // "Step 1 ok. Score: 4" -- the "1" of "Step 1" is not the score.
  std::vector<agents::TokenLogprob> tokens = {
      MakeToken("Step", 0.9), MakeToken(" ", 0.9), MakeToken("1", 0.8, {{"1", 0.8}, {"2", 0.2}}),
      MakeToken(" ok.", 0.9), MakeToken(" Score", 0.9), MakeToken(":", 0.9), MakeToken(" ", 0.9),
      MakeToken("4", 0.6, {{"4", 0.6}, {"5", 0.3}, {"3", 0.1}})};
  auto weighted = LogprobWeightedScore(tokens);
  ASSERT_TRUE(weighted.ok()) << weighted.status();
  // 4 * .6 + 5 * .3 + 3 * .1 = 4.2 over a mass of 1.
  EXPECT_NEAR(weighted->score, 4.2, 1e-9);
  EXPECT_NEAR(weighted->mass, 1.0, 1e-9);
}

TEST(LogprobWeightedScoreTest, RenormalisesOverScoreTokensAndMergesSpellings) {
  // Alternatives "4" (.3) and " 4" (.2) are the same score; "the" is not a score.
  std::vector<agents::TokenLogprob> tokens = {
      MakeToken("Score:", 0.9), MakeToken(" 4", 0.3, {{" 4", 0.3}, {"4", 0.2}, {"5", 0.25}, {"the", 0.25}})};
  auto weighted = LogprobWeightedScore(tokens);
  ASSERT_TRUE(weighted.ok()) << weighted.status();
  // (4 * .5 + 5 * .25) / .75 = 4.3333...
  EXPECT_NEAR(weighted->score, 3.25 / 0.75, 1e-9);
  EXPECT_NEAR(weighted->mass, 0.75, 1e-9);
}

TEST(LogprobWeightedScoreTest, BareNumberReplyAndSampledTokenWithoutAlternatives) {
  std::vector<agents::TokenLogprob> bare = {MakeToken("3", 0.5, {{"3", 0.5}, {"2", 0.5}})};
  EXPECT_NEAR(LogprobWeightedScore(bare)->score, 2.5, 1e-9);
  // No alternatives listed: only the sampled score is known, which is no weighting.
  std::vector<agents::TokenLogprob> alone = {MakeToken("Score: ", 1), MakeToken("5", 0.7)};
  auto unweighted = LogprobWeightedScore(alone);
  EXPECT_EQ(unweighted.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(unweighted.status().message().find("no alternatives"), std::string::npos);
}

TEST(LogprobWeightedScoreTest, StructuredReplyWeighsTheScoreFieldsToken) {
  // {"score": 4, "reason": "Score: 1 is too low"}: the field's token, not the reason's.
  std::vector<agents::TokenLogprob> tokens = {
      MakeToken("{\"", 1),      MakeToken("score", 1), MakeToken("\":", 1),
      MakeToken(" ", 1),        MakeToken("4", 0.5, {{"4", 0.5}, {"3", 0.3}, {"{", 0.2}}),
      MakeToken(",", 1),        MakeToken(" \"reason\": \"Score: ", 1),
      MakeToken("1", 0.9, {{"1", 0.9}}), MakeToken(" is too low\"}", 1)};
  auto weighted = LogprobWeightedScore(tokens);
  ASSERT_TRUE(weighted.ok()) << weighted.status();
  EXPECT_NEAR(weighted->score, (4 * 0.5 + 3 * 0.3) / 0.8, 1e-9);
  EXPECT_NEAR(weighted->mass, 0.8, 1e-9);
  // Byte-fallback pieces spell their byte: "<0x7B>" is "{".
  std::vector<agents::TokenLogprob> bytes = {MakeToken("<0x7B>", 1), MakeToken("\"score\":", 1),
                                             MakeToken("<0x32>", 0.6, {{"<0x32>", 0.6}, {"5", 0.2}})};
  EXPECT_NEAR(LogprobWeightedScore(bytes)->score, (2 * 0.6 + 5 * 0.2) / 0.8, 1e-9);
}

TEST(LogprobWeightedScoreTest, ConstrainedPickOutsideTheListedAlternatives) {
  // A schema constraint forced "3" although the unconstrained top alternatives
  // hold no score digit: no weighting is possible, and the status says why.
  std::vector<agents::TokenLogprob> tokens = {
      MakeToken("{\"score\":", 1), MakeToken("3", 0.001, {{"the", 0.4}, {"Paris", 0.3}})};
  auto weighted = LogprobWeightedScore(tokens);
  EXPECT_EQ(weighted.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(weighted.status().message().find("no score token among the 2 alternatives"), std::string::npos)
      << weighted.status();
  // With some digits listed, the sampled one joins them and they are renormalised.
  std::vector<agents::TokenLogprob> some = {
      MakeToken("{\"score\":", 1), MakeToken("3", 0.01, {{"the", 0.4}, {"5", 0.03}})};
  EXPECT_NEAR(LogprobWeightedScore(some)->score, (3 * 0.01 + 5 * 0.03) / 0.04, 1e-9);
}

TEST(LogprobWeightedScoreTest, NoScoreTokenOrNoLogprobs) {
  EXPECT_EQ(LogprobWeightedScore({}).status().code(), absl::StatusCode::kNotFound);
  std::vector<agents::TokenLogprob> words = {MakeToken("Looks", 1), MakeToken(" fine", 1)};
  EXPECT_FALSE(LogprobWeightedScore(words).ok());
  // A digit in running text (not after "Score") is not a score position.
  std::vector<agents::TokenLogprob> running = {MakeToken("Has", 1), MakeToken(" 3", 1), MakeToken(" parts", 1)};
  EXPECT_FALSE(LogprobWeightedScore(running).ok());
}

}  // namespace
}  // namespace tessera::eval

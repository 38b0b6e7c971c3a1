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
  ASSERT_TRUE(weighted.has_value());
  // 4 * .6 + 5 * .3 + 3 * .1 = 4.2 over a mass of 1.
  EXPECT_NEAR(weighted->score, 4.2, 1e-9);
  EXPECT_NEAR(weighted->mass, 1.0, 1e-9);
}

TEST(LogprobWeightedScoreTest, RenormalisesOverScoreTokensAndMergesSpellings) {
  // Alternatives "4" (.3) and " 4" (.2) are the same score; "the" is not a score.
  std::vector<agents::TokenLogprob> tokens = {
      MakeToken("Score:", 0.9), MakeToken(" 4", 0.3, {{" 4", 0.3}, {"4", 0.2}, {"5", 0.25}, {"the", 0.25}})};
  auto weighted = LogprobWeightedScore(tokens);
  ASSERT_TRUE(weighted.has_value());
  // (4 * .5 + 5 * .25) / .75 = 4.3333...
  EXPECT_NEAR(weighted->score, 3.25 / 0.75, 1e-9);
  EXPECT_NEAR(weighted->mass, 0.75, 1e-9);
}

TEST(LogprobWeightedScoreTest, BareNumberReplyAndSampledTokenWithoutAlternatives) {
  std::vector<agents::TokenLogprob> bare = {MakeToken("3", 0.5, {{"3", 0.5}, {"2", 0.5}})};
  EXPECT_NEAR(LogprobWeightedScore(bare)->score, 2.5, 1e-9);
  // No alternatives listed: the sampled token alone decides.
  std::vector<agents::TokenLogprob> alone = {MakeToken("Score: ", 1), MakeToken("5", 0.7)};
  EXPECT_NEAR(LogprobWeightedScore(alone)->score, 5.0, 1e-9);
}

TEST(LogprobWeightedScoreTest, NoScoreTokenOrNoLogprobs) {
  EXPECT_FALSE(LogprobWeightedScore({}).has_value());
  std::vector<agents::TokenLogprob> words = {MakeToken("Looks", 1), MakeToken(" fine", 1)};
  EXPECT_FALSE(LogprobWeightedScore(words).has_value());
  // A digit in running text (not after "Score") is not a score position.
  std::vector<agents::TokenLogprob> running = {MakeToken("Has", 1), MakeToken(" 3", 1), MakeToken(" parts", 1)};
  EXPECT_FALSE(LogprobWeightedScore(running).has_value());
}

}  // namespace
}  // namespace tessera::eval

#include "eval/judges.h"

#include "eval/test_models.h"
#include "gtest/gtest.h"

namespace tessera::eval {
namespace {

using testing::MakeToken;

v1::EvalCase Case(std::string output, std::string output_b = "") {
  v1::EvalCase c;
  c.set_id("c1");
  c.set_input("What is the capital of France?");
  c.set_reference("Paris");
  c.set_output(std::move(output));
  c.set_output_b(std::move(output_b));
  return c;
}

v1::Judge MakeJudge(v1::Judge::Kind kind, std::string criterion = "correctness") {
  v1::Judge judge;
  judge.set_kind(kind);
  judge.set_criterion(std::move(criterion));
  return judge;
}

TEST(JudgesTest, NamesDefaultToKindAndCriterion) {
  EXPECT_EQ(JudgeName(MakeJudge(v1::Judge::G_EVAL)), "g_eval:correctness");
  v1::Judge named = MakeJudge(v1::Judge::POINTWISE);
  named.set_name("accuracy");
  EXPECT_EQ(JudgeName(named), "accuracy");
}

TEST(JudgesTest, PointwiseScoresWithTheRubricAndTalliesTokens) {
  agents::ScriptedChatModel model;
  model.AddTurn("It names Paris correctly.\nScore: 5");
  ModelCaller caller(&model, JudgeSampling({}));
  v1::Judge judge = MakeJudge(v1::Judge::POINTWISE);
  judge.set_rubric("5: names Paris\n1: anything else");
  auto result = JudgePointwise(caller, judge, Case("Paris."));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->score(), 5);
  EXPECT_EQ(result->judge(), "pointwise:correctness");
  EXPECT_NE(result->reasoning().find("Paris correctly"), std::string::npos);
  const auto requests = model.requests();
  ASSERT_EQ(requests.size(), 1u);
  const std::string& prompt = requests[0].messages.back().content();
  EXPECT_NE(prompt.find("5: names Paris"), std::string::npos);
  EXPECT_NE(prompt.find("Reference answer:\nParis"), std::string::npos);
  EXPECT_NE(prompt.find("Response:\nParis."), std::string::npos);
  EXPECT_GT(caller.usage().total_tokens(), 0);
}

TEST(JudgesTest, PointwiseErrors) {
  agents::ScriptedChatModel model;
  model.AddTurn("no idea");
  ModelCaller caller(&model, {});
  EXPECT_EQ(JudgePointwise(caller, MakeJudge(v1::Judge::POINTWISE), Case("")).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(JudgePointwise(caller, MakeJudge(v1::Judge::POINTWISE), Case("x")).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(JudgesTest, PairwiseConsistentPreferenceWinsInBothOrders) {
  // The judge prefers "Paris" wherever it stands.
  agents::ScriptedChatModel model;
  model.AddRule("Response A:\nParis", "A is right.\nPreference: A");
  model.AddRule("Response B:\nParis", "B is right.\nPreference: B");
  ModelCaller caller(&model, {});
  auto result = JudgePairwise(caller, MakeJudge(v1::Judge::PAIRWISE), Case("Paris", "Lyon"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->preference(), "A");
  EXPECT_EQ(result->score(), 1.0);
  ASSERT_EQ(model.call_count(), 2);
  // The second call swapped the positions.
  const auto requests = model.requests();
  EXPECT_NE(requests[0].messages.back().content().find("Response A:\nParis"), std::string::npos);
  EXPECT_NE(requests[1].messages.back().content().find("Response A:\nLyon"), std::string::npos);

  auto b_wins = JudgePairwise(caller, MakeJudge(v1::Judge::PAIRWISE), Case("Lyon", "Paris"));
  ASSERT_TRUE(b_wins.ok());
  EXPECT_EQ(b_wins->preference(), "B");
  EXPECT_EQ(b_wins->score(), 0.0);
}

TEST(JudgesTest, PairwisePositionBiasBecomesATie) {
  // A judge that always picks whatever comes first: the orders disagree.
  agents::ScriptedChatModel model;
  model.AddRule("Response A:", "The first one.\nPreference: A");
  ModelCaller caller(&model, {});
  auto result = JudgePairwise(caller, MakeJudge(v1::Judge::PAIRWISE), Case("Paris", "Lyon"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->preference(), "TIE");
  EXPECT_EQ(result->score(), 0.5);
  EXPECT_NE(result->reasoning().find("disagree"), std::string::npos);
  // Needs both outputs.
  EXPECT_EQ(JudgePairwise(caller, MakeJudge(v1::Judge::PAIRWISE), Case("Paris")).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(JudgesTest, GEvalWritesStepsThenWeighsScoreTokens) {
  testing::LogprobChatModel model(
      {MakeToken("Steps followed.", 0.9), MakeToken(" Score: ", 0.9),
       MakeToken("4", 0.5, {{"4", 0.5}, {"5", 0.25}, {"3", 0.25}})});
  ModelCaller caller(&model, JudgeSampling({}));
  v1::Judge judge = MakeJudge(v1::Judge::G_EVAL, "coherence");
  auto steps = GEvalSteps(caller, judge);
  ASSERT_TRUE(steps.ok()) << steps.status();
  auto result = JudgeGEval(caller, judge, *steps, Case("Paris"));
  ASSERT_TRUE(result.ok()) << result.status();
  // 4 * .5 + 5 * .25 + 3 * .25 = 4.0; a sampled-only judge would also say 4,
  // so check a skewed distribution below as well.
  EXPECT_NEAR(result->score(), 4.0, 1e-9);
  EXPECT_TRUE(result->logprob_weighted());
  const auto samplings = model.samplings();
  ASSERT_EQ(samplings.size(), 2u);
  EXPECT_FALSE(samplings[0].logprobs());  // Steps: plain.
  EXPECT_TRUE(samplings[1].logprobs());
  EXPECT_EQ(samplings[1].top_logprobs(), 20);

  testing::LogprobChatModel skewed(
      {MakeToken("Score: ", 1), MakeToken("2", 0.4, {{"2", 0.4}, {"5", 0.4}, {"x", 0.2}})});
  ModelCaller skewed_caller(&skewed, {});
  auto weighted = JudgeGEval(skewed_caller, judge, "1. Check.", Case("Paris"));
  ASSERT_TRUE(weighted.ok());
  // (2 * .4 + 5 * .4) / .8 = 3.5, not the sampled 2.
  EXPECT_NEAR(weighted->score(), 3.5, 1e-9);
  EXPECT_NE(weighted->reasoning().find("sampled 2"), std::string::npos);
}

TEST(JudgesTest, GEvalFallsBackToTheSampledScoreWithoutLogprobs) {
  agents::ScriptedChatModel model;  // Reports no logprobs.
  model.AddTurn("1. Check the facts.\n2. Check clarity.");
  model.AddTurn("Facts fine, clarity fine.\nScore: 4");
  ModelCaller caller(&model, {});
  v1::Judge judge = MakeJudge(v1::Judge::G_EVAL);
  auto steps = GEvalSteps(caller, judge);
  ASSERT_TRUE(steps.ok());
  auto result = JudgeGEval(caller, judge, *steps, Case("Paris"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->score(), 4);
  EXPECT_FALSE(result->logprob_weighted());
  EXPECT_NE(result->reasoning().find("no logprobs"), std::string::npos);
  // The steps reached the scoring prompt.
  EXPECT_NE(model.requests()[1].messages.back().content().find("2. Check clarity."),
            std::string::npos);
}

}  // namespace
}  // namespace tessera::eval

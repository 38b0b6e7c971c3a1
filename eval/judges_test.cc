#include "eval/judges.h"

#include "common/json.h"
#include "engine/constrained/json_schema_constraint.h"
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

// Whether the local engine's constraint for `schema` admits `reply` whole.
bool Admits(const google::protobuf::Struct& schema, const std::string& reply) {
  auto compiled = constrained::CompiledSchema::Compile(DumpJson(StructToJson(schema)));
  EXPECT_TRUE(compiled.ok()) << compiled.status();
  if (!compiled.ok()) return false;
  constrained::JsonSchemaAcceptor acceptor(*compiled);
  return acceptor.FeedAll(reply) && acceptor.CanEnd();
}

TEST(JudgesTest, StructuredPointwiseAsksForAScoreFromOneToFive) {
  // A model that enforces schemas: the judge sends one and reads the JSON reply.
  testing::LogprobChatModel model(
      {MakeToken(R"({"reason": "Score: 2 would be unfair; it is right", "score": 4})", 1)},
      /*supports_json_schema=*/true);
  agents::SamplingParams configured;
  configured.set_max_tokens(100);
  ModelCaller caller(&model, JudgeSampling(configured));
  auto result = JudgePointwise(caller, MakeJudge(v1::Judge::POINTWISE), Case("Paris."));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->score(), 4);  // The field, not the reason's "Score: 2".
  const auto samplings = model.samplings();
  ASSERT_EQ(samplings.size(), 1u);
  ASSERT_TRUE(samplings[0].has_json_schema());
  const Json schema = StructToJson(samplings[0].json_schema());
  EXPECT_EQ(schema["properties"]["score"]["minimum"], 1);
  EXPECT_EQ(schema["properties"]["score"]["maximum"], 5);
  // The reason leaves room for the score inside max_tokens.
  EXPECT_EQ(schema["properties"]["reason"]["maxLength"], 100 - 24);
  EXPECT_EQ(schema["required"], Json::array({"reason", "score"}));
  // The engine's constraint takes it and admits scores 1-5 only.
  EXPECT_TRUE(Admits(samplings[0].json_schema(), R"({"reason": "fine", "score": 5})"));
  EXPECT_TRUE(Admits(samplings[0].json_schema(), R"({"score":1,"reason":""})"));
  for (const char* bad : {R"({"reason": "x", "score": 0})", R"({"reason": "x", "score": 6})",
                          R"({"reason": "x", "score": 45})", R"({"reason": "x", "score": 4.5})",
                          R"({"score": 3})", R"({"reason": "x", "score": 3, "extra": 1})"}) {
    EXPECT_FALSE(Admits(samplings[0].json_schema(), bad)) << bad;
  }
  // Too few tokens for a reason: the score alone.
  configured.set_max_tokens(30);
  ModelCaller short_caller(&model, JudgeSampling(configured));
  ASSERT_TRUE(JudgePointwise(short_caller, MakeJudge(v1::Judge::POINTWISE), Case("Paris.")).ok());
  const Json short_schema = StructToJson(model.samplings().back().json_schema());
  EXPECT_FALSE(short_schema["properties"].contains("reason"));
  EXPECT_EQ(short_schema["required"], Json::array({"score"}));
}

TEST(JudgesTest, StructuredOutputSwitch) {
  // Unset: only for models that enforce schemas; true: always; false: never.
  agents::ScriptedChatModel plain;  // Enforces nothing.
  plain.AddRule("JSON object", R"({"reason": "ok", "score": 3})");
  plain.AddRule("Score: N", "ok\nScore: 2");
  ModelCaller plain_caller(&plain, JudgeSampling({}));
  v1::Judge judge = MakeJudge(v1::Judge::POINTWISE);
  EXPECT_EQ(JudgePointwise(plain_caller, judge, Case("Paris"))->score(), 2);
  judge.set_structured_output(true);
  EXPECT_EQ(JudgePointwise(plain_caller, judge, Case("Paris"))->score(), 3);

  testing::LogprobChatModel enforcing({MakeToken("Score: 5", 1)}, /*supports_json_schema=*/true);
  ModelCaller enforcing_caller(&enforcing, JudgeSampling({}));
  judge.set_structured_output(false);
  ASSERT_TRUE(JudgePointwise(enforcing_caller, judge, Case("Paris")).ok());
  EXPECT_FALSE(enforcing.samplings().back().has_json_schema());
  // A schema in the judge's own sampling is sent as given.
  judge.clear_structured_output();
  agents::SamplingParams own = JudgeSampling({});
  (*own.mutable_json_schema()->mutable_fields())["type"].set_string_value("object");
  ModelCaller own_caller(&enforcing, own);
  ASSERT_TRUE(JudgePointwise(own_caller, judge, Case("Paris")).ok());
  EXPECT_EQ(StructToJson(enforcing.samplings().back().json_schema()), Json({{"type", "object"}}));
}

TEST(JudgesTest, StructuredGEvalFillsTheFormAndWeighsItsScoreToken) {
  testing::LogprobChatModel model(
      {MakeToken("{\"score\": ", 1), MakeToken("2", 0.5, {{"2", 0.5}, {"3", 0.25}, {"}", 0.25}}),
       MakeToken("}", 1)},
      /*supports_json_schema=*/true);
  ModelCaller caller(&model, JudgeSampling({}));
  v1::Judge judge = MakeJudge(v1::Judge::G_EVAL);
  auto result = JudgeGEval(caller, judge, "1. Check.", Case("Paris"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->logprob_weighted());
  EXPECT_NEAR(result->score(), (2 * 0.5 + 3 * 0.25) / 0.75, 1e-9);
  const auto samplings = model.samplings();
  ASSERT_EQ(samplings.size(), 1u);
  EXPECT_TRUE(samplings[0].logprobs());
  // The form is the score alone.
  EXPECT_TRUE(Admits(samplings[0].json_schema(), R"({"score": 4})"));
  EXPECT_FALSE(Admits(samplings[0].json_schema(), R"({"score": 4, "reason": "x"})"));
  EXPECT_FALSE(Admits(samplings[0].json_schema(), R"({"score": 9})"));

  // The constraint forced a digit the listed alternatives do not hold: the
  // sampled score, flagged and explained.
  testing::LogprobChatModel forced(
      {MakeToken("{\"score\":", 1), MakeToken("4", 0.001, {{"Paris", 0.5}, {"the", 0.2}}), MakeToken("}", 1)},
      /*supports_json_schema=*/true);
  ModelCaller forced_caller(&forced, JudgeSampling({}));
  auto sampled = JudgeGEval(forced_caller, judge, "1. Check.", Case("Paris"));
  ASSERT_TRUE(sampled.ok()) << sampled.status();
  EXPECT_FALSE(sampled->logprob_weighted());
  EXPECT_EQ(sampled->score(), 4);
  EXPECT_NE(sampled->reasoning().find("sampled score: no score token among the 2 alternatives"),
            std::string::npos)
      << sampled->reasoning();
}

TEST(JudgesTest, StructuredPairwiseReadsThePreferenceField) {
  agents::ScriptedChatModel model;
  model.AddRule("Response A:\nParis", R"({"reason": "Preference: B is tempting", "preference": "A"})");
  model.AddRule("Response B:\nParis", R"({"reason": "the second", "preference": "B"})");
  ModelCaller caller(&model, {});
  v1::Judge judge = MakeJudge(v1::Judge::PAIRWISE);
  judge.set_structured_output(true);
  auto result = JudgePairwise(caller, judge, Case("Paris", "Lyon"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->preference(), "A");
  EXPECT_NE(model.requests()[0].messages.back().content().find("\"preference\""), std::string::npos);
}

}  // namespace
}  // namespace tessera::eval

#include "eval/rag_metrics.h"

#include "gtest/gtest.h"

namespace tessera::eval {
namespace {

v1::EvalCase ParisCase() {
  v1::EvalCase c;
  c.set_id("paris");
  c.set_input("Tell me about Paris.");
  c.set_output("Paris is the capital of France. It has 10 million people.");
  c.set_reference("Paris is the capital of France. It lies on the Seine! It hosts the Louvre.");
  c.add_contexts("Paris is the capital and largest city of France.");
  c.add_contexts("Lyon is known for its cuisine.");
  c.add_contexts("The Seine flows through Paris.");
  return c;
}

TEST(RagMetricsTest, FaithfulnessJudgesClaimByClaim) {
  agents::ScriptedChatModel model;
  model.AddRule("Break the answer into",
                "Claims:\n- Paris is the capital of France.\n2. Paris has 10 million people.");
  model.AddRule("Claim: Paris is the capital", "Stated in [1].\nVerdict: YES");
  model.AddRule("Claim: Paris has 10 million", "Not in the context.\nVerdict: NO");
  ModelCaller caller(&model, {});
  auto value = Faithfulness(caller, ParisCase());
  ASSERT_TRUE(value.ok()) << value.status();
  // 1 of 2 claims supported.
  EXPECT_DOUBLE_EQ(value->value, 0.5);
  EXPECT_EQ(value->detail, "1 of 2 claims supported");
  EXPECT_EQ(model.call_count(), 3);  // Split + one verdict per claim.
}

TEST(RagMetricsTest, FaithfulnessWithoutClaimsOrContextsIsAnError) {
  agents::ScriptedChatModel model;
  model.AddRule("Break the answer into", "NONE");
  ModelCaller caller(&model, {});
  EXPECT_EQ(Faithfulness(caller, ParisCase()).status().code(), absl::StatusCode::kInvalidArgument);
  v1::EvalCase no_contexts = ParisCase();
  no_contexts.clear_contexts();
  EXPECT_EQ(Faithfulness(caller, no_contexts).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(RagMetricsTest, AnswerRelevanceMapsTheScoreToUnitRange) {
  agents::ScriptedChatModel model;
  model.AddTurn("On topic.\nScore: 4");
  ModelCaller caller(&model, {});
  auto value = AnswerRelevance(caller, ParisCase());
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_DOUBLE_EQ(value->value, 0.75);  // (4 - 1) / 4
}

TEST(RagMetricsTest, ContextPrecisionAveragesPrecisionAtUsefulRanks) {
  agents::ScriptedChatModel model;
  model.AddRule("Context to judge:\nParis is the capital", "Verdict: YES");
  model.AddRule("Context to judge:\nLyon", "Verdict: NO");
  model.AddRule("Context to judge:\nThe Seine", "Verdict: YES");
  ModelCaller caller(&model, {});
  auto value = ContextPrecision(caller, ParisCase());
  ASSERT_TRUE(value.ok()) << value.status();
  // Useful at ranks 1 and 3: (P@1 + P@3) / 2 = (1 + 2/3) / 2.
  EXPECT_NEAR(value->value, (1 + 2.0 / 3) / 2, 1e-12);
  EXPECT_EQ(value->detail, "useful by rank: 101");
}

TEST(RagMetricsTest, ContextRecallChecksEachReferenceSentence) {
  agents::ScriptedChatModel model;
  model.AddRule("Statement: Paris is the capital", "Verdict: YES");
  model.AddRule("Statement: It lies on the Seine!", "Verdict: YES");
  model.AddRule("Statement: It hosts the Louvre.", "Verdict: NO");
  ModelCaller caller(&model, {});
  auto value = ContextRecall(caller, ParisCase());
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_NEAR(value->value, 2.0 / 3, 1e-12);
  v1::EvalCase no_reference = ParisCase();
  no_reference.clear_reference();
  EXPECT_EQ(ContextRecall(caller, no_reference).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(RagMetricsTest, Helpers) {
  EXPECT_EQ(SplitSentences("One. Two! Three? 3.5 stays. Tail"),
            (std::vector<std::string>{"One.", "Two!", "Three?", "3.5 stays.", "Tail"}));
  EXPECT_EQ(ParseList("1) first\n* second\n\nNONE\n- third"),
            (std::vector<std::string>{"first", "second", "third"}));
  EXPECT_DOUBLE_EQ(MeanPrecisionAtRelevant({false, true, true}), (0.5 + 2.0 / 3) / 2);
  EXPECT_DOUBLE_EQ(MeanPrecisionAtRelevant({false, false}), 0);
}

}  // namespace
}  // namespace tessera::eval

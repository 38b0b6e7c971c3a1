#include "eval/job_spec.h"

#include "gtest/gtest.h"

namespace tessera::eval {
namespace {

TEST(JobSpecTest, ParsesYamlWithLooseEnumNames) {
  auto spec = ParseJobSpec(R"(
name: smoke
dataset:
  jsonl_path: /data/cases.jsonl
  qrels_path: /data/qrels.tsv
  max_cases: 5
target:
  rag: {"collection": "papers", "top_k": 3}
judges:
  - kind: pointwise
    criterion: correctness
  - kind: g-eval
    criterion: coherence
    sampling:
      top_logprobs: 10
  - kind: PAIRWISE
metrics: [faithfulness, "ndcg@10", map, CONTEXT_RECALL]
concurrency: 2
requestsPerMinute: 120
)");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name(), "smoke");
  EXPECT_EQ(spec->dataset().max_cases(), 5);
  EXPECT_EQ(spec->dataset().qrels_path(), "/data/qrels.tsv");
  EXPECT_EQ(spec->target().rag().collection(), "papers");
  ASSERT_EQ(spec->judges_size(), 3);
  EXPECT_EQ(spec->judges(0).kind(), v1::Judge::POINTWISE);
  EXPECT_EQ(spec->judges(1).kind(), v1::Judge::G_EVAL);
  EXPECT_EQ(spec->judges(1).sampling().top_logprobs(), 10);
  EXPECT_EQ(spec->judges(2).kind(), v1::Judge::PAIRWISE);
  ASSERT_EQ(spec->metrics_size(), 4);
  EXPECT_EQ(spec->metrics(0), v1::FAITHFULNESS);
  EXPECT_EQ(spec->metrics(1), v1::NDCG_AT_10);
  EXPECT_EQ(spec->metrics(2), v1::MAP);
  EXPECT_EQ(spec->metrics(3), v1::CONTEXT_RECALL);
  EXPECT_EQ(spec->concurrency(), 2);
  EXPECT_EQ(spec->requests_per_minute(), 120);
  EXPECT_TRUE(ValidateJobSpec(*spec).ok());
}

TEST(JobSpecTest, ParsesJson) {
  auto spec = ParseJobSpec(R"({"name": "j", "judges": [{"kind": "POINTWISE"}],
                              "dataset": {"cases": [{"input": "q", "output": "a"}]}})");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->dataset().cases(0).output(), "a");
}

TEST(JobSpecTest, UnknownFieldsAndEnumsAreErrors) {
  auto unknown = ParseJobSpec("name: x\nconcurency: 3\n");
  ASSERT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("concurency"), std::string::npos);
  EXPECT_EQ(ParseJobSpec("metrics: [bleu]\n").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseJobSpec("- a\n").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(JobSpecTest, ValidationNamesTheProblem) {
  v1::JobSpec spec;
  EXPECT_NE(ValidateJobSpec(spec).message().find("at least one judge"), std::string::npos);
  spec.add_metrics(v1::FAITHFULNESS);
  EXPECT_TRUE(ValidateJobSpec(spec).ok());
  spec.set_concurrency(1000);
  EXPECT_NE(ValidateJobSpec(spec).message().find("concurrency"), std::string::npos);
  spec.set_concurrency(4);
  spec.add_judges()->set_kind(v1::Judge::POINTWISE);
  spec.add_judges()->set_kind(v1::Judge::POINTWISE);
  EXPECT_NE(ValidateJobSpec(spec).message().find("two judges are named"), std::string::npos);
  spec.mutable_judges(1)->set_name("second");
  EXPECT_TRUE(ValidateJobSpec(spec).ok());
  spec.add_judges();
  EXPECT_NE(ValidateJobSpec(spec).message().find("judges[2].kind"), std::string::npos);
  spec.mutable_judges()->RemoveLast();
  spec.mutable_target()->set_graph_id("g");
  EXPECT_TRUE(ValidateJobSpec(spec).ok());  // checked against the agents service at creation
  spec.mutable_target()->set_graph_id("");
  EXPECT_NE(ValidateJobSpec(spec).message().find("target.graph_id"), std::string::npos);
  spec.mutable_target()->mutable_rag()->set_top_k(3);
  EXPECT_NE(ValidateJobSpec(spec).message().find("collection"), std::string::npos);
}

TEST(JobSpecTest, MetricNames) {
  EXPECT_EQ(MetricName(v1::NDCG_AT_10), "ndcg@10");
  EXPECT_EQ(MetricName(v1::MRR), "mrr@10");
  EXPECT_TRUE(IsRetrievalMetric(v1::MAP));
  EXPECT_FALSE(IsRetrievalMetric(v1::FAITHFULNESS));
}

}  // namespace
}  // namespace tessera::eval

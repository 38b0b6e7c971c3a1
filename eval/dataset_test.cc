#include "eval/dataset.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include "common/hash.h"
#include "gtest/gtest.h"

namespace tessera::eval {
namespace {

std::string WriteFile(const std::string& name, const std::string& text) {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(DatasetTest, ParsesEveryFieldAndDefaultsIds) {
  auto cases = ParseJsonlCases(
      R"({"id": "q1", "input": "What is 2+2?", "reference": "4", "contexts": ["2+2=4"], "output": "4", "output_b": "5", "labels": {"human_score": 5, "topic": "math"}})"
      "\n\n"
      R"({"question": "Capital of France?"})"
      "\n");
  ASSERT_TRUE(cases.ok()) << cases.status();
  ASSERT_EQ(cases->size(), 2u);
  const v1::EvalCase& first = (*cases)[0];
  EXPECT_EQ(first.id(), "q1");
  EXPECT_EQ(first.input(), "What is 2+2?");
  EXPECT_EQ(first.reference(), "4");
  ASSERT_EQ(first.contexts_size(), 1);
  EXPECT_EQ(first.output(), "4");
  EXPECT_EQ(first.output_b(), "5");
  EXPECT_EQ(first.labels().at("human_score"), "5");
  EXPECT_EQ(first.labels().at("topic"), "math");
  EXPECT_EQ((*cases)[1].id(), "case-3");  // Line 3 (blank lines count).
  EXPECT_EQ((*cases)[1].input(), "Capital of France?");
}

TEST(DatasetTest, BadLinesNameTheLine) {
  auto missing = ParseJsonlCases("{\"input\": \"ok\"}\n{\"output\": \"x\"}\n", "cases.jsonl");
  ASSERT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("cases.jsonl:2"), std::string::npos);
  EXPECT_NE(missing.status().message().find("input"), std::string::npos);
  auto bad_json = ParseJsonlCases("{\"input\": ", "d");
  EXPECT_EQ(bad_json.status().code(), absl::StatusCode::kInvalidArgument);
  auto bad_contexts = ParseJsonlCases(R"({"input": "x", "contexts": "not a list"})");
  EXPECT_EQ(bad_contexts.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadJsonlCases("/nonexistent/cases.jsonl").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(DatasetTest, ContentHashIsTheVersion) {
  auto a = ParseJsonlCases(R"({"id": "1", "input": "x", "labels": {"b": "2", "a": "1"}})");
  auto b = ParseJsonlCases(R"({"labels": {"a": "1", "b": "2"}, "input": "x", "id": "1"})");
  auto c = ParseJsonlCases(R"({"id": "1", "input": "y"})");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(ContentHash(*a), ContentHash(*b));  // Key order does not matter.
  EXPECT_NE(ContentHash(*a), ContentHash(*c));
  EXPECT_EQ(ContentHash(*a).size(), 64u);
  // The canonical form, hashed by hand.
  EXPECT_EQ(ContentHash(*c),
            Sha256Hex(R"({"contexts":[],"id":"1","input":"y","labels":{},"output":"","output_b":"","reference":""})"
                      "\n"));
}

TEST(DatasetTest, ValidationRejectsDuplicatesAndEmptyDatasets) {
  EXPECT_FALSE(ValidateCases({}).ok());
  auto dup = ParseJsonlCases("{\"id\": \"a\", \"input\": \"x\"}\n{\"id\": \"a\", \"input\": \"y\"}");
  ASSERT_TRUE(dup.ok());
  absl::Status status = ValidateCases(*dup);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("duplicate"), std::string::npos);
}

TEST(DatasetTest, QrelsKeepJudgedCasesAndBecomeRelevantLabels) {
  const std::string queries = WriteFile(
      "queries.jsonl",
      "{\"_id\": \"1\", \"text\": \"first\"}\n{\"_id\": \"2\", \"text\": \"unjudged\"}\n"
      "{\"_id\": \"3\", \"text\": \"third\"}\n");
  const std::string qrels =
      WriteFile("qrels.tsv", "query-id\tcorpus-id\tscore\n1\td1\t1\n1\td2\t2\n3\td9\t1\n");
  v1::Dataset dataset;
  dataset.set_jsonl_path(queries);
  dataset.set_qrels_path(qrels);
  auto cases = ResolveDataset(dataset);
  ASSERT_TRUE(cases.ok()) << cases.status();
  ASSERT_EQ(cases->size(), 2u);
  EXPECT_EQ((*cases)[0].id(), "1");
  EXPECT_EQ((*cases)[0].labels().at(kRelevantLabel), "d1:1,d2:2");
  auto judgments = ParseRelevantLabel((*cases)[0].labels().at(kRelevantLabel));
  ASSERT_TRUE(judgments.ok());
  EXPECT_EQ(judgments->at("d2"), 2);
  dataset.set_max_cases(1);
  EXPECT_EQ(ResolveDataset(dataset)->size(), 1u);
  EXPECT_EQ(ParseRelevantLabel("a:x").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseRelevantLabel("a, b:3")->at("a"), 1);
}

TEST(DatasetTest, ResolveNeedsExactlyOneSource) {
  v1::Dataset none;
  EXPECT_EQ(ResolveDataset(none).status().code(), absl::StatusCode::kInvalidArgument);
  v1::Dataset both;
  both.add_cases()->set_input("x");
  both.set_jsonl_path("/tmp/x.jsonl");
  EXPECT_EQ(ResolveDataset(both).status().code(), absl::StatusCode::kInvalidArgument);
  v1::Dataset inline_cases;
  inline_cases.add_cases()->set_input("x");
  auto cases = ResolveDataset(inline_cases);
  ASSERT_TRUE(cases.ok());
  EXPECT_EQ((*cases)[0].id(), "case-1");
}

}  // namespace
}  // namespace tessera::eval

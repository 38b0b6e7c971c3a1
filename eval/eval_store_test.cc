#include "eval/eval_store.h"

#include <cstdlib>
#include <filesystem>

#include "gtest/gtest.h"

namespace tessera::eval {
namespace {

std::string TempDb(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
  std::filesystem::remove(path);
  return path;
}

Cases TwoCases() {
  Cases cases(2);
  cases[0].set_id("a");
  cases[0].set_input("first");
  cases[1].set_id("b");
  cases[1].set_input("second");
  return cases;
}

StoredJob NewJob(const std::string& id, const std::string& tenant, const std::string& dataset) {
  StoredJob stored;
  stored.job.set_id(id);
  stored.job.mutable_spec()->set_name("spec");
  stored.job.set_state(v1::RUNNING);
  stored.job.set_cases_total(2);
  stored.tenant = tenant;
  stored.dataset_id = dataset;
  stored.spec_hash = "hash-" + id;
  return stored;
}

v1::CaseResult Result(const std::string& case_id, int64_t tokens) {
  v1::CaseResult result;
  result.set_case_id(case_id);
  result.set_output("out");
  result.mutable_usage()->set_total_tokens(tokens);
  result.mutable_usage()->set_prompt_tokens(tokens);
  (*result.mutable_metrics())["faithfulness"] = 0.5;
  return result;
}

TEST(EvalStoreTest, DatasetsAreStoredOnceByContentHash) {
  auto store = EvalStore::Open(TempDb("datasets.db"));
  ASSERT_TRUE(store.ok()) << store.status();
  auto id = (*store)->PutDataset(TwoCases());
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, ContentHash(TwoCases()));
  EXPECT_EQ(*(*store)->PutDataset(TwoCases()), *id);
  auto cases = (*store)->GetDataset(*id);
  ASSERT_TRUE(cases.ok());
  ASSERT_EQ(cases->size(), 2u);
  EXPECT_EQ((*cases)[1].input(), "second");
  EXPECT_EQ((*store)->GetDataset("nope").status().code(), absl::StatusCode::kNotFound);
}

TEST(EvalStoreTest, CaseCheckpointsUpdateTheJobAtomicallyAndSurviveReopening) {
  const std::string path = TempDb("jobs.db");
  {
    auto store = EvalStore::Open(path);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->CreateJob(NewJob("job-1", "acme", "ds")).ok());
    auto after = (*store)->RecordCase("job-1", 1, Result("b", 7), /*failed=*/false, {});
    ASSERT_TRUE(after.ok()) << after.status();
    EXPECT_EQ(after->cases_done(), 1);
    v1::ReviewItem item;
    item.set_id("job-1/a");
    item.set_job_id("job-1");
    item.set_case_id("a");
    item.add_judges()->set_score(1);
    item.add_judges()->set_score(5);
    after = (*store)->RecordCase("job-1", 0, Result("a", 5), /*failed=*/true, {item});
    ASSERT_TRUE(after.ok());
    EXPECT_EQ(after->cases_done(), 2);
    EXPECT_EQ(after->cases_failed(), 1);
    EXPECT_EQ(after->usage().total_tokens(), 12);
    // A case is recorded once.
    EXPECT_EQ((*store)->RecordCase("job-1", 0, Result("a", 5), false, {}).status().code(),
              absl::StatusCode::kAlreadyExists);
  }
  auto store = EvalStore::Open(path);
  ASSERT_TRUE(store.ok());
  auto job = (*store)->GetJob("acme", "job-1");
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->job.cases_done(), 2);
  EXPECT_EQ(job->job.usage().total_tokens(), 12);
  EXPECT_EQ(job->job.spec().name(), "spec");
  EXPECT_EQ(*(*store)->FinishedCaseIds("job-1"), (std::set<std::string>{"a", "b"}));
  int64_t total = 0;
  auto results = (*store)->ListResults("job-1", {0, 10}, &total);
  ASSERT_TRUE(results.ok());
  EXPECT_EQ(total, 2);
  ASSERT_EQ(results->size(), 2u);
  EXPECT_EQ((*results)[0].case_id(), "a");  // Dataset order.
  EXPECT_EQ((*results)[0].metrics().at("faithfulness"), 0.5);
  auto second_page = (*store)->ListResults("job-1", {1, 1}, &total);
  ASSERT_EQ(second_page->size(), 1u);
  EXPECT_EQ((*second_page)[0].case_id(), "b");
}

TEST(EvalStoreTest, JobsAreScopedByTenantAndFoundWhenUnfinished) {
  auto store = EvalStore::Open(TempDb("tenants.db"));
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->CreateJob(NewJob("j1", "acme", "ds")).ok());
  ASSERT_TRUE((*store)->CreateJob(NewJob("j2", "other", "ds")).ok());
  EXPECT_EQ((*store)->GetJob("other", "j1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE((*store)->GetJobAnyTenant("j1").ok());
  EXPECT_EQ((*store)->UnfinishedJobs()->size(), 2u);
  auto found = (*store)->FindUnfinishedJob("acme", "hash-j1");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->job.id(), "j1");
  std::map<std::string, double> summary = {{"faithfulness", 0.75}};
  const std::string report = "/tmp/report.html";
  auto done = (*store)->UpdateJob("j1", v1::SUCCEEDED, "", &summary, &report);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->state(), v1::SUCCEEDED);
  EXPECT_EQ(done->summary().at("faithfulness"), 0.75);
  EXPECT_EQ(done->report_path(), report);
  EXPECT_FALSE((*(*store)->FindUnfinishedJob("acme", "hash-j1")).has_value());
  EXPECT_EQ((*store)->UnfinishedJobs()->size(), 1u);
  // Steps and their tokens.
  agents::Usage usage;
  usage.set_total_tokens(9);
  ASSERT_TRUE((*store)->SaveJudgeSteps("j2", Json{{"g_eval", "1. Check."}}, usage).ok());
  auto j2 = (*store)->GetJob("other", "j2");
  EXPECT_EQ(j2->judge_steps["g_eval"], "1. Check.");
  EXPECT_EQ(j2->job.usage().total_tokens(), 9);
  EXPECT_EQ((*store)->UpdateJob("missing", v1::FAILED, "x").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(EvalStoreTest, ReviewQueueListsAndLabels) {
  auto store = EvalStore::Open(TempDb("review.db"));
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->CreateJob(NewJob("j1", "acme", "ds")).ok());
  v1::ReviewItem item;
  item.set_id("j1/a");
  item.set_job_id("j1");
  item.set_case_id("a");
  ASSERT_TRUE((*store)->RecordCase("j1", 0, Result("a", 1), false, {item}).ok());
  int64_t total = 0;
  auto items = (*store)->ListReviewItems("acme", "", true, {}, &total);
  ASSERT_TRUE(items.ok()) << items.status();
  ASSERT_EQ(total, 1);
  EXPECT_FALSE((*items)[0].has_human_score());
  EXPECT_TRUE((*store)->ListReviewItems("other", "", false, {}, &total)->empty());
  EXPECT_EQ((*store)->LabelReviewItem("other", "j1/a", 4, "x").status().code(),
            absl::StatusCode::kNotFound);
  auto labelled = (*store)->LabelReviewItem("acme", "j1/a", 4, "ann");
  ASSERT_TRUE(labelled.ok()) << labelled.status();
  EXPECT_EQ(labelled->human_score(), 4);
  EXPECT_EQ(labelled->reviewer(), "ann");
  EXPECT_TRUE((*store)->ListReviewItems("acme", "j1", true, {}, &total)->empty());
  EXPECT_EQ((*store)->ListReviewItems("acme", "j1", false, {}, &total)->size(), 1u);
}

}  // namespace
}  // namespace tessera::eval

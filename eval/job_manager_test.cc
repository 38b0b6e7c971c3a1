#include "eval/job_manager.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "eval/test_models.h"
#include "gtest/gtest.h"

namespace tessera::eval {
namespace {

constexpr char kTenant[] = "acme";

std::string TempDir(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
  std::filesystem::remove_all(path);
  std::filesystem::create_directories(path);
  return path;
}

// A YAML job over `n` inline cases judged by one pointwise judge.
std::string JobYaml(int n, const std::string& extra = "") {
  std::string yaml = "name: manager test\nconcurrency: 1\njudges:\n  - kind: pointwise\n    name: p\n" + extra +
                     "dataset:\n  cases:\n";
  for (int i = 0; i < n; ++i) {
    absl::StrAppend(&yaml, "    - id: c", i, "\n      input: question ", i, "?\n      output: answer ", i, "\n");
  }
  return yaml;
}

v1::CreateJobRequest FromText(const std::string& text) {
  v1::CreateJobRequest request;
  request.set_spec_text(text);
  return request;
}

class JobManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    scripted_.AddRule("Response:", "Score: 4");
    model_ = std::make_shared<testing::InstrumentedChatModel>(&scripted_);
    models_->SetDefault(model_);
  }
  std::unique_ptr<JobManager> Open() {
    JobManagerOptions options;
    options.database_path = dir_ + "/eval.db";
    options.reports_dir = dir_ + "/reports";
    options.models = models_;
    auto manager = JobManager::Open(options);
    EXPECT_TRUE(manager.ok()) << manager.status();
    return manager.ok() ? *std::move(manager) : nullptr;
  }
  // Watches the job to its end; returns every snapshot.
  std::vector<v1::Job> Watch(JobManager& manager, const std::string& id) {
    std::vector<v1::Job> seen;
    absl::Status status = manager.WatchJob(
        kTenant, id, [&](const v1::Job& job) { seen.push_back(job); return true; }, {});
    EXPECT_TRUE(status.ok()) << status;
    return seen;
  }

  std::string dir_;
  agents::ScriptedChatModel scripted_;
  std::shared_ptr<testing::InstrumentedChatModel> model_;
  std::shared_ptr<agents::ModelRegistry> models_ = std::make_shared<agents::ModelRegistry>();
};

TEST_F(JobManagerTest, BadRequestsAreRejectedWithTheReason) {
  auto manager = Open();
  v1::CreateJobRequest both = FromText(JobYaml(1));
  both.mutable_spec()->set_name("x");
  EXPECT_EQ(manager->CreateJob(kTenant, both).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(manager->CreateJob(kTenant, {}).status().code(), absl::StatusCode::kInvalidArgument);
  auto typo = manager->CreateJob(kTenant, FromText("judges: [{\"kind\": \"POINTWISE\"}]\ndatset: {}\n"));
  EXPECT_EQ(typo.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(typo.status().message().find("datset"), std::string::npos);
  auto no_model = manager->CreateJob(
      kTenant, FromText(JobYaml(1, "  - kind: pointwise\n    name: q\n    model: gpt-none\n")));
  EXPECT_EQ(no_model.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(no_model.status().message().find("gpt-none"), std::string::npos);
  auto no_cases = manager->CreateJob(kTenant, FromText("judges: [{\"kind\": \"POINTWISE\"}]\n"));
  EXPECT_EQ(no_cases.status().code(), absl::StatusCode::kInvalidArgument);
  auto missing_file = manager->CreateJob(
      kTenant, FromText("judges: [{\"kind\": \"POINTWISE\"}]\ndataset: {\"jsonl_path\": \"/nonexistent.jsonl\"}\n"));
  EXPECT_EQ(missing_file.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(manager->GetJob(kTenant, "nope").status().code(), absl::StatusCode::kNotFound);
  v1::ListResultsRequest bad_page;
  EXPECT_EQ(manager->ListResults(kTenant, bad_page).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(JobManagerTest, RunsAJobWatchesItAndPagesResults) {
  auto manager = Open();
  auto job = manager->CreateJob(kTenant, FromText(JobYaml(5)));
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->cases_total(), 5);
  EXPECT_EQ(job->spec().dataset().content_hash().size(), 64u);
  EXPECT_EQ(job->spec().dataset().cases_size(), 0);  // Stored by version, not inline.
  const std::vector<v1::Job> seen = Watch(*manager, job->id());
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().state(), v1::SUCCEEDED);
  EXPECT_EQ(seen.back().cases_done(), 5);
  EXPECT_EQ(seen.back().summary().at("p"), 4);
  EXPECT_TRUE(std::filesystem::exists(seen.back().report_path()));
  for (size_t i = 1; i < seen.size(); ++i) EXPECT_GE(seen[i].cases_done(), seen[i - 1].cases_done());
  // Another tenant sees nothing.
  EXPECT_EQ(manager->GetJob("other", job->id()).status().code(), absl::StatusCode::kNotFound);

  v1::ListResultsRequest request;
  request.set_job_id(job->id());
  request.mutable_page()->set_page_size(2);
  std::vector<std::string> ids;
  while (true) {
    auto page = manager->ListResults(kTenant, request);
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_EQ(page->page().total_size(), 5);
    for (const auto& result : page->results()) ids.push_back(result.case_id());
    if (page->page().next_page_token().empty()) break;
    request.mutable_page()->set_page_token(page->page().next_page_token());
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"c0", "c1", "c2", "c3", "c4"}));
  request.mutable_page()->set_page_token("x");
  EXPECT_EQ(manager->ListResults(kTenant, request).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(JobManagerTest, RecreatingAnUnfinishedJobResumesItAndCancelKeepsResults) {
  model_->HoldCall(2);
  auto manager = Open();
  auto job = manager->CreateJob(kTenant, FromText(JobYaml(4)));
  ASSERT_TRUE(job.ok()) << job.status();
  ASSERT_TRUE(model_->WaitUntilHeld(absl::Seconds(20)));
  auto again = manager->CreateJob(kTenant, FromText(JobYaml(4)));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id(), job->id());
  std::thread release([this] {
    absl::SleepFor(absl::Milliseconds(50));
    model_->Release();
  });
  auto cancelled = manager->CancelJob(kTenant, job->id());
  release.join();
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->state(), v1::CANCELLED);
  EXPECT_EQ(cancelled->cases_done(), 2);  // The case in flight finished and counts.
  const std::vector<v1::Job> seen = Watch(*manager, job->id());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].state(), v1::CANCELLED);
  // Cancelling an ended job returns it as it is.
  EXPECT_EQ(manager->CancelJob(kTenant, job->id())->state(), v1::CANCELLED);
}

TEST_F(JobManagerTest, ARestartedManagerResumesUnfinishedJobs) {
  model_->HoldCall(3);
  std::string id;
  {
    auto manager = Open();
    auto job = manager->CreateJob(kTenant, FromText(JobYaml(6)));
    ASSERT_TRUE(job.ok());
    id = job->id();
    ASSERT_TRUE(model_->WaitUntilHeld(absl::Seconds(20)));
    std::thread release([this] {
      absl::SleepFor(absl::Milliseconds(50));
      model_->Release();
    });
    manager.reset();  // Stops the runner; the job stays RUNNING.
    release.join();
  }
  auto manager = Open();
  const std::vector<v1::Job> seen = Watch(*manager, id);
  EXPECT_EQ(seen.back().state(), v1::SUCCEEDED);
  EXPECT_EQ(seen.back().cases_done(), 6);
  EXPECT_EQ(model_->prompts().size(), 6u);  // No case judged twice.
}

TEST_F(JobManagerTest, ReviewQueueLabelsAndCalibration) {
  auto strict = std::make_shared<agents::ScriptedChatModel>();
  strict->AddRule("Response:", "Score: 1");
  models_->Register("strict", strict);
  std::string yaml =
      "disagreement_threshold: 2\njudges:\n  - {\"kind\": \"POINTWISE\", \"name\": \"lenient\"}\n"
      "  - {\"kind\": \"POINTWISE\", \"name\": \"strict\", \"model\": \"strict\"}\n"
      "dataset:\n  cases:\n"
      "    - {\"id\": \"a\", \"input\": \"q\", \"output\": \"x\", \"labels\": {\"human_score\": \"4\"}}\n"
      "    - {\"id\": \"b\", \"input\": \"q\", \"output\": \"y\"}\n"
      "    - {\"id\": \"c\", \"input\": \"q\", \"output\": \"z\"}\n";
  auto manager = Open();
  auto job = manager->CreateJob(kTenant, FromText(yaml));
  ASSERT_TRUE(job.ok()) << job.status();
  ASSERT_EQ(Watch(*manager, job->id()).back().state(), v1::SUCCEEDED);

  v1::ListReviewItemsRequest list;
  list.set_job_id(job->id());
  list.set_unlabelled_only(true);
  auto items = manager->ListReviewItems(kTenant, list);
  ASSERT_TRUE(items.ok()) << items.status();
  ASSERT_EQ(items->items_size(), 3);  // 4 vs 1 everywhere.
  v1::LabelReviewItemRequest label;
  label.set_id(items->items(1).id());
  label.set_human_score(9);
  EXPECT_EQ(manager->LabelReviewItem(kTenant, label).status().code(), absl::StatusCode::kInvalidArgument);
  label.set_human_score(2);
  label.set_reviewer("ann");
  auto labelled = manager->LabelReviewItem(kTenant, label);
  ASSERT_TRUE(labelled.ok()) << labelled.status();
  EXPECT_EQ(labelled->human_score(), 2);
  EXPECT_EQ(manager->ListReviewItems(kTenant, list)->items_size(), 2);

  // Human scores: a = 4 (dataset label), b = 2 (review). Judge "lenient" says 4, 4.
  v1::CalibrationRequest calibration;
  calibration.set_job_id(job->id());
  EXPECT_EQ(manager->GetCalibration(kTenant, calibration).status().code(),
            absl::StatusCode::kInvalidArgument);  // Two judges: name one.
  calibration.set_judge("lenient");
  auto report = manager->GetCalibration(kTenant, calibration);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->labelled_cases(), 2);
  // Judge buckets 4, 4 vs human 4, 2: p_o = .5, p_e = 1 * .5 = .5, kappa 0.
  EXPECT_NEAR(report->cohen_kappa(), 0, 1e-12);
  EXPECT_EQ(report->confusion_matrix(3 * 5 + 3), 1);
  EXPECT_EQ(report->confusion_matrix(3 * 5 + 1), 1);
  // The ended job's report now has the judge-vs-human chart.
  auto ended = manager->GetJob(kTenant, job->id());
  std::ifstream html(ended->report_path());
  std::string text((std::istreambuf_iterator<char>(html)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(absl::StrContains(text, "class=\"chart confusion\""));
}

}  // namespace
}  // namespace tessera::eval

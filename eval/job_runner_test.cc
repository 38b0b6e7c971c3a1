#include "eval/job_runner.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "eval/test_models.h"
#include "gtest/gtest.h"

namespace tessera::eval {
namespace {

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
  std::filesystem::remove_all(path);
  return path;
}

class JobRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_path_ = TempPath(std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + ".db");
    reports_ = TempPath("reports");
    Reopen();
  }
  void Reopen() {
    store_.reset();
    auto store = EvalStore::Open(db_path_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  JobResources Resources() {
    JobResources resources;
    resources.store = store_.get();
    resources.models = models_;
    resources.retriever = retriever_;
    resources.reports_dir = reports_;
    return resources;
  }

  // Stores the dataset and a QUEUED job over it.
  std::string CreateJob(const v1::JobSpec& spec, const Cases& cases, const std::string& id = "job-1") {
    auto dataset = store_->PutDataset(cases);
    EXPECT_TRUE(dataset.ok()) << dataset.status();
    StoredJob stored;
    stored.job.set_id(id);
    *stored.job.mutable_spec() = spec;
    stored.job.set_state(v1::QUEUED);
    stored.job.set_cases_total(static_cast<int64_t>(cases.size()));
    stored.tenant = "default";
    stored.dataset_id = *dataset;
    stored.spec_hash = id;
    EXPECT_TRUE(store_->CreateJob(stored).ok());
    return id;
  }

  v1::Job RunToEnd(const std::string& id) {
    JobRunner runner(Resources(), id);
    runner.Start();
    runner.Wait();
    return store_->GetJobAnyTenant(id)->job;
  }

  static Cases NumberedCases(int n) {
    Cases cases(n);
    for (int i = 0; i < n; ++i) {
      cases[i].set_id(absl::StrCat("c", i));
      cases[i].set_input(absl::StrCat("question ", i, "?"));
      cases[i].set_output(absl::StrCat("answer ", i));
    }
    return cases;
  }

  static v1::Judge Judge(v1::Judge::Kind kind, const std::string& name, const std::string& model = "") {
    v1::Judge judge;
    judge.set_kind(kind);
    judge.set_name(name);
    judge.set_model(model);
    return judge;
  }

  std::string db_path_;
  std::string reports_;
  std::unique_ptr<EvalStore> store_;
  std::shared_ptr<agents::ModelRegistry> models_ = std::make_shared<agents::ModelRegistry>();
  std::shared_ptr<agents::Retriever> retriever_;
};

TEST_F(JobRunnerTest, JudgesAndMetricsEveryCaseThenReports) {
  auto judge = std::make_shared<agents::ScriptedChatModel>();
  judge->AddRule("Write the evaluation steps", "1. Check the facts.");
  judge->AddRule("Break the answer into", "- Paris is in France.");
  judge->AddRule("Claim: Paris is in France", "Verdict: YES");
  judge->AddRule("Response:\nParis is in France.", "Correct.\nScore: 5");
  judge->AddRule("Response:\nParis is in Spain.", "Wrong.\nScore: 1");
  models_->SetDefault(judge);
  Cases cases(2);
  cases[0].set_id("good");
  cases[0].set_input("Where is Paris?");
  cases[0].set_output("Paris is in France.");
  cases[0].add_contexts("Paris is the capital of France.");
  cases[1] = cases[0];
  cases[1].set_id("bad");
  cases[1].set_output("Paris is in Spain.");
  v1::JobSpec spec;
  spec.set_name("smoke");
  *spec.add_judges() = Judge(v1::Judge::POINTWISE, "correct");
  *spec.add_judges() = Judge(v1::Judge::G_EVAL, "geval");
  spec.add_metrics(v1::FAITHFULNESS);
  const std::string id = CreateJob(spec, cases);

  std::vector<v1::Job> progress;
  absl::Mutex mu;
  {
    JobRunner runner(Resources(), id, [&](const v1::Job& job) {
      absl::MutexLock lock(&mu);
      progress.push_back(job);
    });
    runner.Start();
    runner.Wait();
    EXPECT_TRUE(runner.finished());
  }
  auto job = store_->GetJobAnyTenant(id);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->job.state(), v1::SUCCEEDED) << job->job.error();
  EXPECT_EQ(job->job.cases_done(), 2);
  EXPECT_EQ(job->job.cases_failed(), 0);
  EXPECT_EQ(job->job.summary().at("correct"), 3);      // (5 + 1) / 2
  EXPECT_EQ(job->job.summary().at("geval"), 3);        // sampled scores, no logprobs
  EXPECT_EQ(job->job.summary().at("faithfulness"), 1);  // the claim is supported in both
  EXPECT_EQ(job->judge_steps["geval"], "1. Check the facts.");
  // Progress: RUNNING, one per case, then the end.
  ASSERT_GE(progress.size(), 4u);
  EXPECT_EQ(progress.front().state(), v1::RUNNING);
  EXPECT_EQ(progress.back().state(), v1::SUCCEEDED);
  // Tokens: the job's tally is every call's (steps + per-case calls).
  int64_t case_tokens = 0;
  int64_t total = 0;
  auto results = store_->ListResults(id, {}, &total);
  ASSERT_TRUE(results.ok());
  for (const v1::CaseResult& result : *results) {
    case_tokens += result.usage().total_tokens();
    EXPECT_GT(result.usage().total_tokens(), 0);
  }
  EXPECT_GT(job->job.usage().total_tokens(), case_tokens);  // + the steps call
  // Reports.
  EXPECT_EQ(job->job.report_path(), reports_ + "/" + id + "/report.html");
  std::ifstream html(job->job.report_path());
  std::string text((std::istreambuf_iterator<char>(html)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("class=\"chart histogram\""), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(reports_ + "/" + id + "/report.md"));
}

TEST_F(JobRunnerTest, ResumesAfterTheRunnerIsDestroyedWithoutRedoingCases) {
  agents::ScriptedChatModel scripted;
  scripted.AddRule("Write the evaluation steps", "1. Check.");
  scripted.AddRule("Response:", "Fine.\nScore: 4");
  auto model = std::make_shared<testing::InstrumentedChatModel>(&scripted);
  models_->SetDefault(model);
  v1::JobSpec spec;
  *spec.add_judges() = Judge(v1::Judge::POINTWISE, "pointwise");
  *spec.add_judges() = Judge(v1::Judge::G_EVAL, "geval");
  spec.set_concurrency(1);
  const std::string id = CreateJob(spec, NumberedCases(8));

  // Calls: 1 = G-Eval steps, then two per case. Hold call 7 (case 3's second
  // judge), ask the runner to stop, let the call finish, destroy the runner.
  model->HoldCall(7);
  {
    auto runner = std::make_unique<JobRunner>(Resources(), id);
    runner->Start();
    ASSERT_TRUE(model->WaitUntilHeld(absl::Seconds(20)));
    runner->RequestStop();
    model->Release();
    runner.reset();
  }
  auto stopped = store_->GetJobAnyTenant(id);
  ASSERT_TRUE(stopped.ok());
  EXPECT_EQ(stopped->job.state(), v1::RUNNING);  // As after a crash.
  EXPECT_EQ(stopped->job.cases_done(), 3);       // The case in flight was checkpointed.

  Reopen();  // A new process: reopen the database.
  v1::Job job = RunToEnd(id);
  EXPECT_EQ(job.state(), v1::SUCCEEDED) << job.error();
  EXPECT_EQ(job.cases_done(), 8);
  const std::vector<std::string> prompts = model->prompts();
  EXPECT_EQ(prompts.size(), 1u + 2 * 8);  // No case judged twice, steps written once.
  for (int i = 0; i < 8; ++i) {
    int seen = 0;
    for (const std::string& prompt : prompts) seen += absl::StrContains(prompt, absl::StrCat("question ", i, "?"));
    EXPECT_EQ(seen, 2) << "case " << i;
  }
  int steps = 0;
  for (const std::string& prompt : prompts) steps += absl::StrContains(prompt, "Write the evaluation steps");
  EXPECT_EQ(steps, 1);
  // Running a finished job again does nothing.
  EXPECT_EQ(RunToEnd(id).cases_done(), 8);
  EXPECT_EQ(model->prompts().size(), prompts.size());
}

TEST_F(JobRunnerTest, ConcurrencyIsBounded) {
  agents::ScriptedChatModel scripted;
  scripted.AddRule("Response:", "Score: 3");
  auto model = std::make_shared<testing::InstrumentedChatModel>(&scripted, absl::Milliseconds(20));
  models_->SetDefault(model);
  v1::JobSpec spec;
  *spec.add_judges() = Judge(v1::Judge::POINTWISE, "p");
  spec.set_concurrency(3);
  v1::Job job = RunToEnd(CreateJob(spec, NumberedCases(12)));
  EXPECT_EQ(job.cases_done(), 12);
  EXPECT_LE(model->max_in_flight(), 3);
  EXPECT_GE(model->max_in_flight(), 2);
}

TEST_F(JobRunnerTest, RequestsPerMinuteIsEnforced) {
  auto scripted = std::make_shared<agents::ScriptedChatModel>();
  scripted->AddRule("Response:", "Score: 3");
  models_->SetDefault(scripted);
  gateway::FakeClock clock;
  absl::Duration slept;
  JobResources resources = Resources();
  resources.clock = &clock;
  resources.sleep = [&](absl::Duration d) {
    slept += d;
    clock.Advance(d);
  };
  v1::JobSpec spec;
  *spec.add_judges() = Judge(v1::Judge::POINTWISE, "p");
  spec.set_concurrency(1);
  spec.set_requests_per_minute(6);
  const std::string id = CreateJob(spec, NumberedCases(10));
  JobRunner runner(resources, id);
  runner.Start();
  runner.Wait();
  EXPECT_EQ(store_->GetJobAnyTenant(id)->job.cases_done(), 10);
  // A burst of 6, then one call per 10 s for the other 4.
  EXPECT_GE(slept, absl::Seconds(39.9));
  EXPECT_LE(slept, absl::Seconds(40.5));
}

TEST_F(JobRunnerTest, RagTargetRetrievesGeneratesAndScoresRetrieval) {
  auto keyword = std::make_shared<agents::KeywordRetriever>();
  keyword->Add("default", "docs", "d1", "Paris is the capital of France.", {{"document_id", "d1"}});
  keyword->Add("default", "docs", "d2", "Berlin is the capital of Germany.", {{"document_id", "d2"}});
  keyword->Add("default", "docs", "d3", "Madrid is in Spain.", {{"document_id", "d3"}});
  retriever_ = keyword;
  auto generator = std::make_shared<agents::ScriptedChatModel>();
  generator->AddRule("Question: What is the capital of France?", "Paris.");
  models_->Register("generator", generator);
  auto judge = std::make_shared<agents::ScriptedChatModel>();
  judge->AddRule("Break the answer into", "- The capital of France is Paris.");
  judge->AddRule("Claim:", "Verdict: YES");
  models_->SetDefault(judge);
  v1::JobSpec spec;
  spec.mutable_target()->mutable_rag()->set_collection("docs");
  spec.mutable_target()->mutable_rag()->set_model("generator");
  spec.mutable_target()->mutable_rag()->set_top_k(2);
  spec.add_metrics(v1::FAITHFULNESS);
  spec.add_metrics(v1::NDCG_AT_10);
  spec.add_metrics(v1::MRR);
  Cases cases(1);
  cases[0].set_id("q1");
  cases[0].set_input("What is the capital of France?");
  (*cases[0].mutable_labels())[kRelevantLabel] = "d1:1";
  const std::string id = CreateJob(spec, cases);
  v1::Job job = RunToEnd(id);
  ASSERT_EQ(job.state(), v1::SUCCEEDED) << job.error();
  int64_t total = 0;
  auto results = store_->ListResults(id, {}, &total);
  ASSERT_EQ(results->size(), 1u);
  const v1::CaseResult& result = (*results)[0];
  EXPECT_EQ(result.output(), "Paris.");
  EXPECT_EQ(result.error(), "");
  EXPECT_EQ(result.metrics().at("faithfulness"), 1);
  EXPECT_EQ(result.metrics().at("ndcg@10"), 1);  // d1 ranked first.
  EXPECT_EQ(result.metrics().at("mrr@10"), 1);
  // The generator saw the top-2 contexts in the prompt.
  const std::string prompt = generator->requests()[0].messages.back().content();
  EXPECT_NE(prompt.find("[1] Paris is the capital of France."), std::string::npos);
  EXPECT_EQ(prompt.find("[3]"), std::string::npos);
}

TEST_F(JobRunnerTest, DisagreeingJudgesFillTheReviewQueue) {
  auto strict = std::make_shared<agents::ScriptedChatModel>();
  strict->AddRule("Response:", "Score: 1");
  auto lenient = std::make_shared<agents::ScriptedChatModel>();
  lenient->AddRule("Response:\nanswer 0", "Score: 2");
  lenient->AddRule("Response:", "Score: 5");
  models_->Register("strict", strict);
  models_->Register("lenient", lenient);
  v1::JobSpec spec;
  *spec.add_judges() = Judge(v1::Judge::POINTWISE, "strict", "strict");
  *spec.add_judges() = Judge(v1::Judge::POINTWISE, "lenient", "lenient");
  spec.set_disagreement_threshold(2);
  const std::string id = CreateJob(spec, NumberedCases(3));
  ASSERT_EQ(RunToEnd(id).state(), v1::SUCCEEDED);
  int64_t total = 0;
  auto items = store_->ListReviewItems("default", id, true, {}, &total);
  ASSERT_TRUE(items.ok());
  ASSERT_EQ(total, 2);  // c1 and c2 (1 vs 5); c0 (1 vs 2) agrees well enough.
  EXPECT_EQ((*items)[0].case_id(), "c1");
  EXPECT_EQ((*items)[0].judges_size(), 2);
}

TEST_F(JobRunnerTest, FailuresAreRecordedPerCaseAndMissingModelsFailTheJob) {
  auto judge = std::make_shared<agents::ScriptedChatModel>();
  judge->AddRule("Response:\nanswer 1", "I refuse to score.");
  judge->AddRule("Response:", "Score: 4");
  models_->SetDefault(judge);
  v1::JobSpec spec;
  *spec.add_judges() = Judge(v1::Judge::POINTWISE, "p");
  const std::string id = CreateJob(spec, NumberedCases(3));
  v1::Job job = RunToEnd(id);
  EXPECT_EQ(job.state(), v1::SUCCEEDED);
  EXPECT_EQ(job.cases_failed(), 1);
  int64_t total = 0;
  auto results = store_->ListResults(id, {}, &total);
  EXPECT_NE((*results)[1].error().find("judge p: no score"), std::string::npos);

  v1::JobSpec missing;
  *missing.add_judges() = Judge(v1::Judge::POINTWISE, "x", "no-such-model");
  EXPECT_NE(CheckJobModels(missing, *models_, nullptr).message().find("no-such-model"), std::string::npos);
  v1::Job failed = RunToEnd(CreateJob(missing, NumberedCases(1), "job-2"));
  EXPECT_EQ(failed.state(), v1::FAILED);
  EXPECT_NE(failed.error().find("no-such-model"), std::string::npos);
  v1::JobSpec rag;
  rag.mutable_target()->mutable_rag()->set_collection("docs");
  rag.add_metrics(v1::MAP);
  EXPECT_NE(CheckJobModels(rag, *models_, nullptr).message().find("retriever"), std::string::npos);
}

}  // namespace
}  // namespace tessera::eval

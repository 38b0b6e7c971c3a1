#include "eval/job_manager.h"

#include "eval/dataset_paths.h"
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <spdlog/spdlog.h>

#include "absl/random/random.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/hash.h"
#include "eval/calibration.h"
#include "eval/dataset.h"
#include "eval/dataset_paths.h"
#include "eval/job_spec.h"
#include "eval/judges.h"

namespace tessera::eval {
namespace {

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;

bool Ended(v1::JobState state) {
  return state == v1::SUCCEEDED || state == v1::FAILED || state == v1::CANCELLED;
}

std::string NewJobId() {
  static absl::Mutex mu(absl::kConstInit);
  static absl::BitGen* gen = new absl::BitGen();
  absl::MutexLock lock(&mu);
  return absl::StrFormat("eval-%016x", absl::Uniform<uint64_t>(*gen));
}

// Proto bytes with map entries in a fixed order, for hashing.
std::string DeterministicBytes(const google::protobuf::Message& message) {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  message.SerializeToCodedStream(&coded);
  coded.Trim();
  return bytes;
}

absl::StatusOr<Page> ToPage(const common::v1::PageRequest& request) {
  Page page;
  page.limit = request.page_size() > 0 ? std::min(request.page_size(), kMaxPageSize) : kDefaultPageSize;
  if (request.page_size() < 0) return absl::InvalidArgumentError("page.page_size must be >= 0");
  if (!request.page_token().empty() &&
      (!absl::SimpleAtoi(request.page_token(), &page.offset) || page.offset < 0)) {
    return absl::InvalidArgumentError(absl::StrCat("page.page_token \"", request.page_token(), "\" is not valid"));
  }
  return page;
}

void FillPage(const Page& page, size_t returned, int64_t total, common::v1::PageResponse* out) {
  out->set_total_size(total);
  const int64_t next = page.offset + static_cast<int64_t>(returned);
  if (returned > 0 && next < total) out->set_next_page_token(absl::StrCat(next));
}

}  // namespace

absl::StatusOr<std::unique_ptr<JobManager>> JobManager::Open(JobManagerOptions options) {
  if (options.models == nullptr) options.models = std::make_shared<agents::ModelRegistry>();
  auto store = EvalStore::Open(options.database_path);
  if (!store.ok()) return store.status();
  std::unique_ptr<JobManager> manager(new JobManager(std::move(options), *std::move(store)));
  auto unfinished = manager->store_->UnfinishedJobs();
  if (!unfinished.ok()) return unfinished.status();
  for (const StoredJob& job : *unfinished) manager->StartRunner(job.job.id());
  if (!unfinished->empty()) spdlog::info("resuming {} evaluation jobs", unfinished->size());
  return manager;
}

JobManager::~JobManager() {
  std::map<std::string, std::unique_ptr<JobRunner>> runners;
  {
    absl::MutexLock lock(&mu_);
    runners.swap(runners_);
  }
  for (auto& [id, runner] : runners) runner->RequestStop();
  runners.clear();  // Joins, with mu_ free for their last progress reports.
}

void JobManager::Changed(const std::string& id) {
  absl::MutexLock lock(&mu_);
  ++versions_[id];
}

void JobManager::StartRunner(const std::string& id) {
  std::vector<std::unique_ptr<JobRunner>> finished;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = runners_.begin(); it != runners_.end();) {
      if (it->second->finished()) {
        finished.push_back(std::move(it->second));
        it = runners_.erase(it);
      } else {
        ++it;
      }
    }
    if (runners_.count(id) > 0) return;
    JobResources resources;
    resources.store = store_.get();
    resources.models = options_.models;
    resources.retriever = options_.retriever;
    resources.graphs = options_.graphs;
    resources.reports_dir = options_.reports_dir;
    resources.clock = options_.clock;
    resources.sleep = options_.sleep;
    auto runner = std::make_unique<JobRunner>(std::move(resources), id,
                                              [this, id](const v1::Job&) { Changed(id); });
    runner->Start();
    runners_[id] = std::move(runner);
  }
}

absl::StatusOr<v1::Job> JobManager::CreateJob(const std::string& tenant,
                                              const v1::CreateJobRequest& request) {
  if (request.has_spec() == !request.spec_text().empty()) {
    return absl::InvalidArgumentError("give exactly one of spec and spec_text");
  }
  v1::JobSpec spec;
  if (request.has_spec()) {
    spec = request.spec();
  } else {
    auto parsed = ParseJobSpec(request.spec_text());
    if (!parsed.ok()) return parsed.status();
    spec = *std::move(parsed);
  }
  if (absl::Status valid = ValidateJobSpec(spec); !valid.ok()) return valid;
  if (absl::Status models =
          CheckJobModels(spec, *options_.models, options_.retriever.get(), options_.graphs.get());
      !models.ok()) {
    return models;
  }
  if (spec.target().kind_case() == v1::Target::kGraphId) {
    if (absl::Status graph = options_.graphs->CheckGraph(tenant, spec.target().graph_id()); !graph.ok()) {
      return graph;
    }
  }
  Cases cases;
  if (!spec.dataset().dataset_id().empty()) {
    if (spec.dataset().cases_size() > 0 || !spec.dataset().jsonl_path().empty()) {
      return absl::InvalidArgumentError("dataset: give exactly one of cases, jsonl_path and dataset_id");
    }
    auto stored = store_->GetDataset(spec.dataset().dataset_id());
    if (!stored.ok()) return stored.status();
    cases = *std::move(stored);
    if (spec.dataset().max_cases() > 0 && static_cast<int>(cases.size()) > spec.dataset().max_cases()) {
      cases.resize(spec.dataset().max_cases());
    }
  } else {
    if (options_.dataset_roots.has_value()) {
      absl::Status confined = ConfineDatasetPaths(*options_.dataset_roots, spec.mutable_dataset());
      if (!confined.ok()) return confined;
    }
    auto resolved = ResolveDataset(spec.dataset());
    if (!resolved.ok()) return resolved.status();
    cases = *std::move(resolved);
  }
  auto dataset_id = store_->PutDataset(cases);
  if (!dataset_id.ok()) return dataset_id.status();
  // The stored spec names its dataset by version instead of carrying it.
  v1::Dataset* dataset = spec.mutable_dataset();
  dataset->clear_cases();
  dataset->set_dataset_id(*dataset_id);
  dataset->set_content_hash(*dataset_id);
  const std::string spec_hash = Sha256Hex(DeterministicBytes(spec));
  absl::MutexLock create_lock(&create_mu_);
  auto existing = store_->FindUnfinishedJob(tenant, spec_hash);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) {
    StartRunner((*existing)->job.id());
    return (*existing)->job;
  }
  StoredJob stored;
  stored.job.set_id(NewJobId());
  *stored.job.mutable_spec() = spec;
  stored.job.set_state(v1::QUEUED);
  stored.job.set_cases_total(static_cast<int64_t>(cases.size()));
  stored.tenant = tenant;
  stored.dataset_id = *dataset_id;
  stored.spec_hash = spec_hash;
  if (absl::Status created = store_->CreateJob(stored); !created.ok()) return created;
  auto job = store_->GetJob(tenant, stored.job.id());
  if (!job.ok()) return job.status();
  spdlog::info("eval job {} created: {} cases, dataset {}", stored.job.id(), cases.size(),
               dataset_id->substr(0, 12));
  StartRunner(stored.job.id());
  return job->job;
}

absl::StatusOr<v1::Job> JobManager::GetJob(const std::string& tenant, const std::string& id) {
  auto job = store_->GetJob(tenant, id);
  if (!job.ok()) return job.status();
  return job->job;
}

absl::StatusOr<v1::Job> JobManager::CancelJob(const std::string& tenant, const std::string& id) {
  auto job = store_->GetJob(tenant, id);
  if (!job.ok()) return job.status();
  if (Ended(job->job.state())) return job->job;
  std::unique_ptr<JobRunner> runner;
  {
    absl::MutexLock lock(&mu_);
    auto it = runners_.find(id);
    if (it != runners_.end()) {
      runner = std::move(it->second);
      runners_.erase(it);
    }
  }
  if (runner != nullptr) {
    runner->RequestStop();
    runner->Wait();
  }
  auto now = store_->GetJob(tenant, id);
  if (!now.ok()) return now.status();
  if (Ended(now->job.state())) return now->job;
  auto cancelled = store_->UpdateJob(id, v1::CANCELLED, "cancelled");
  Changed(id);
  return cancelled;
}

absl::Status JobManager::WatchJob(const std::string& tenant, const std::string& id,
                                  const std::function<bool(const v1::Job&)>& emit,
                                  const std::function<bool()>& cancelled) {
  std::string last_sent;
  while (true) {
    if (cancelled && cancelled()) return absl::CancelledError("the watcher went away");
    int64_t version;
    {
      absl::MutexLock lock(&mu_);
      version = versions_[id];
    }
    auto job = store_->GetJob(tenant, id);
    if (!job.ok()) return job.status();
    std::string bytes = DeterministicBytes(job->job);
    if (bytes != last_sent) {
      if (!emit(job->job)) return absl::OkStatus();
      last_sent = std::move(bytes);
    }
    if (Ended(job->job.state())) return absl::OkStatus();
    absl::MutexLock lock(&mu_);
    auto moved = [this, &id, version]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return versions_[id] != version; };
    mu_.AwaitWithTimeout(absl::Condition(&moved), absl::Milliseconds(250));
  }
}

absl::StatusOr<v1::ListResultsResponse> JobManager::ListResults(const std::string& tenant,
                                                                const v1::ListResultsRequest& request) {
  if (auto job = store_->GetJob(tenant, request.job_id()); !job.ok()) return job.status();
  auto page = ToPage(request.page());
  if (!page.ok()) return page.status();
  int64_t total = 0;
  auto results = store_->ListResults(request.job_id(), *page, &total);
  if (!results.ok()) return results.status();
  v1::ListResultsResponse response;
  for (v1::CaseResult& result : *results) *response.add_results() = std::move(result);
  FillPage(*page, response.results_size(), total, response.mutable_page());
  return response;
}

absl::StatusOr<v1::ListReviewItemsResponse> JobManager::ListReviewItems(
    const std::string& tenant, const v1::ListReviewItemsRequest& request) {
  if (!request.job_id().empty()) {
    if (auto job = store_->GetJob(tenant, request.job_id()); !job.ok()) return job.status();
  }
  auto page = ToPage(request.page());
  if (!page.ok()) return page.status();
  int64_t total = 0;
  auto items = store_->ListReviewItems(tenant, request.job_id(), request.unlabelled_only(), *page, &total);
  if (!items.ok()) return items.status();
  v1::ListReviewItemsResponse response;
  for (v1::ReviewItem& item : *items) *response.add_items() = std::move(item);
  FillPage(*page, response.items_size(), total, response.mutable_page());
  return response;
}

absl::StatusOr<v1::ReviewItem> JobManager::LabelReviewItem(const std::string& tenant,
                                                           const v1::LabelReviewItemRequest& request) {
  if (request.id().empty()) return absl::InvalidArgumentError("id is required");
  if (!(request.human_score() >= 1 && request.human_score() <= 5)) {
    return absl::InvalidArgumentError("human_score must be in [1, 5]");
  }
  auto item = store_->LabelReviewItem(tenant, request.id(), request.human_score(), request.reviewer());
  if (!item.ok()) return item.status();
  auto job = store_->GetJob(tenant, item->job_id());
  if (job.ok() && Ended(job->job.state()) && !job->job.report_path().empty() &&
      !options_.reports_dir.empty()) {
    auto rewritten = WriteJobReports(store_.get(), *job, options_.reports_dir);
    if (!rewritten.ok()) spdlog::warn("eval job {}: {}", item->job_id(), rewritten.status().ToString());
  }
  return item;
}

absl::StatusOr<v1::CalibrationReport> JobManager::GetCalibration(const std::string& tenant,
                                                                 const v1::CalibrationRequest& request) {
  auto job = store_->GetJob(tenant, request.job_id());
  if (!job.ok()) return job.status();
  auto judged = LoadJudgedCases(store_.get(), *job);
  if (!judged.ok()) return judged.status();
  const auto& pairs = judged->human_pairs;
  std::string judge = request.judge();
  if (judge.empty()) {
    std::vector<std::string> names;
    for (const v1::Judge& spec_judge : job->job.spec().judges()) {
      if (spec_judge.kind() != v1::Judge::PAIRWISE) names.push_back(JudgeName(spec_judge));
    }
    if (names.size() != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("judge is required: one of ", absl::StrJoin(names, ", ")));
    }
    judge = names[0];
  }
  auto found = pairs.find(judge);
  return Calibrate(judge, found == pairs.end() ? std::vector<ScorePair>() : found->second);
}

}  // namespace tessera::eval

// Evaluation state in one SQLite file (WAL, synchronous=FULL): datasets by
// content hash, jobs, one checkpoint row per finished case, and the human
// review queue. Recording a case writes its result, the job's counters and
// usage, and its review items in one transaction, so after a crash a job's
// counters always match its stored results. Thread-safe (one connection
// behind a mutex).
#ifndef TESSERA_EVAL_EVAL_STORE_H_
#define TESSERA_EVAL_EVAL_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "agents/chat_model.h"
#include "common/json.h"
#include "common/sqlite.h"
#include "eval/dataset.h"
#include "tessera/eval/v1/eval.pb.h"

namespace tessera::eval {

struct StoredJob {
  v1::Job job;
  std::string tenant;
  std::string dataset_id;
  // SHA-256 of the spec: an unfinished job with the same spec is resumed
  // instead of started twice.
  std::string spec_hash;
  // G-Eval evaluation steps per judge name, written once per job.
  Json judge_steps = Json::object();
};

struct Page {
  int64_t offset = 0;
  int64_t limit = 100;
};

class EvalStore {
 public:
  static absl::StatusOr<std::unique_ptr<EvalStore>> Open(const std::string& path);

  // Stores the cases under their content hash (idempotent); returns the hash.
  absl::StatusOr<std::string> PutDataset(const Cases& cases);
  // NotFound for an unknown id.
  absl::StatusOr<Cases> GetDataset(const std::string& id);

  absl::Status CreateJob(const StoredJob& job);
  // NotFound (naming the id) when absent or another tenant's.
  absl::StatusOr<StoredJob> GetJob(const std::string& tenant, const std::string& id);
  absl::StatusOr<StoredJob> GetJobAnyTenant(const std::string& id);
  // QUEUED or RUNNING jobs (those a restart must pick up).
  absl::StatusOr<std::vector<StoredJob>> UnfinishedJobs();
  absl::StatusOr<std::optional<StoredJob>> FindUnfinishedJob(const std::string& tenant,
                                                             const std::string& spec_hash);
  // Sets state, error, summary and report path (summary/report only when given).
  absl::StatusOr<v1::Job> UpdateJob(const std::string& id, v1::JobState state,
                                    const std::string& error,
                                    const std::map<std::string, double>* summary = nullptr,
                                    const std::string* report_path = nullptr);
  // Saves G-Eval steps and charges the tokens spent writing them to the job.
  absl::Status SaveJudgeSteps(const std::string& id, const Json& steps,
                              const agents::Usage& usage);

  // The per-case checkpoint (see the file comment). Returns the job after it.
  // `position`: the case's index in the dataset (results list in that order).
  // AlreadyExists when the case was recorded before.
  absl::StatusOr<v1::Job> RecordCase(const std::string& job_id, int64_t position,
                                     const v1::CaseResult& result, bool failed,
                                     const std::vector<v1::ReviewItem>& review);
  absl::StatusOr<std::set<std::string>> FinishedCaseIds(const std::string& job_id);
  // In dataset order; `total` receives the count.
  absl::StatusOr<std::vector<v1::CaseResult>> ListResults(const std::string& job_id,
                                                          const Page& page, int64_t* total);

  // Every result of a job, in dataset order.
  absl::StatusOr<std::vector<v1::CaseResult>> AllResults(const std::string& job_id);

  // Items of `job_id` ("" = every job of the tenant).
  absl::StatusOr<std::vector<v1::ReviewItem>> ListReviewItems(const std::string& tenant,
                                                              const std::string& job_id,
                                                              bool unlabelled_only,
                                                              const Page& page, int64_t* total);
  absl::StatusOr<std::vector<v1::ReviewItem>> AllReviewItems(const std::string& tenant,
                                                             const std::string& job_id);
  absl::StatusOr<v1::ReviewItem> LabelReviewItem(const std::string& tenant, const std::string& id,
                                                 double human_score, const std::string& reviewer);

 private:
  explicit EvalStore(std::unique_ptr<SqliteDatabase> db) : db_(std::move(db)) {}
  absl::StatusOr<std::vector<StoredJob>> ReadJobs(const std::string& sql_where,
                                                  const std::vector<std::string>& args)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<v1::ReviewItem> ReadReviewItem(const std::string& tenant, const std::string& id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::unique_ptr<SqliteDatabase> db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tessera::eval

#endif  // TESSERA_EVAL_EVAL_STORE_H_

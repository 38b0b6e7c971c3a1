// Evaluation jobs for the gRPC service: creates jobs (spec checked, dataset
// resolved and stored by content hash, models checked), runs each on a
// JobRunner, resumes unfinished jobs when opened, cancels, streams progress,
// pages results and review items, labels review items and calibrates judges.
// Its methods mirror tessera.eval.v1.EvalService; the service is a thin adapter.
#ifndef TESSERA_EVAL_JOB_MANAGER_H_
#define TESSERA_EVAL_JOB_MANAGER_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "eval/eval_store.h"
#include "eval/job_runner.h"
#include "tessera/eval/v1/eval.pb.h"

namespace tessera::eval {

struct JobManagerOptions {
  std::string database_path;
  std::string reports_dir;  // "" = no report files.
  std::shared_ptr<agents::ModelRegistry> models = std::make_shared<agents::ModelRegistry>();
  std::shared_ptr<agents::Retriever> retriever;
  std::shared_ptr<GraphRunner> graphs;  // agent-graph targets; null: refused
  const gateway::Clock* clock = gateway::Clock::Real();
  std::function<void(absl::Duration)> sleep;
  // Dataset files (jsonl_path, qrels_path) must lie inside one of these
  // (eval/dataset_paths.h); nullopt: any path (trusted in-process callers).
  std::optional<std::vector<std::string>> dataset_roots;
};

class JobManager {
 public:
  // Opens the store and resumes every QUEUED or RUNNING job.
  static absl::StatusOr<std::unique_ptr<JobManager>> Open(JobManagerOptions options);
  // Stops the runners at their next case boundary; unfinished jobs stay
  // RUNNING and resume when a manager opens the database again.
  ~JobManager();

  // `spec` or `spec_text` (JSON or YAML). While a job with the same spec (and
  // dataset version) is unfinished, creating it again returns that job, so
  // re-running a stopped job file resumes it.
  absl::StatusOr<v1::Job> CreateJob(const std::string& tenant, const v1::CreateJobRequest& request);
  absl::StatusOr<v1::Job> GetJob(const std::string& tenant, const std::string& id);
  // Finished cases stay recorded; a job that already ended is returned as it is.
  absl::StatusOr<v1::Job> CancelJob(const std::string& tenant, const std::string& id);
  // Calls `emit` with the job now and whenever it changes, until it ends,
  // `emit` returns false, or `cancelled()` (polled) returns true.
  absl::Status WatchJob(const std::string& tenant, const std::string& id,
                        const std::function<bool(const v1::Job&)>& emit,
                        const std::function<bool()>& cancelled);
  absl::StatusOr<v1::ListResultsResponse> ListResults(const std::string& tenant,
                                                      const v1::ListResultsRequest& request);
  absl::StatusOr<v1::ListReviewItemsResponse> ListReviewItems(
      const std::string& tenant, const v1::ListReviewItemsRequest& request);
  // Scores are 1-5. An ended job's reports are rewritten with the new label.
  absl::StatusOr<v1::ReviewItem> LabelReviewItem(const std::string& tenant,
                                                 const v1::LabelReviewItemRequest& request);
  absl::StatusOr<v1::CalibrationReport> GetCalibration(const std::string& tenant,
                                                       const v1::CalibrationRequest& request);

  EvalStore* store() { return store_.get(); }

 private:
  explicit JobManager(JobManagerOptions options, std::unique_ptr<EvalStore> store)
      : options_(std::move(options)), store_(std::move(store)) {}
  void StartRunner(const std::string& id);
  void Changed(const std::string& id);

  JobManagerOptions options_;
  std::unique_ptr<EvalStore> store_;
  // Serialises "find an unfinished job with this spec, else create it".
  absl::Mutex create_mu_;
  absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<JobRunner>> runners_ ABSL_GUARDED_BY(mu_);
  // Bumped on every progress report; watchers wait for a change.
  std::map<std::string, int64_t> versions_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tessera::eval

#endif  // TESSERA_EVAL_JOB_MANAGER_H_

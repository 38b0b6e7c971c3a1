// Runs one evaluation job: cases on `concurrency` worker threads, every model
// call admitted by the job's requests-per-minute limit, each finished case
// checkpointed in the EvalStore before the next is taken. A runner started on
// a job that already has checkpoints skips the finished cases, so a job stopped
// by a crash (or by destroying its runner) resumes where it was.
//
// Per case: the output comes from the case or the target (a model, or a RAG
// route: retrieve, then generate with the contexts); then every judge and
// metric; judges that disagree by the job's threshold send the case to review.
// When the last case is recorded the runner writes the summary and reports
// and marks the job SUCCEEDED (FAILED when every case failed).
#ifndef TESSERA_EVAL_JOB_RUNNER_H_
#define TESSERA_EVAL_JOB_RUNNER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agents/chat_model.h"
#include "agents/retriever.h"
#include "eval/calibration.h"
#include "eval/eval_store.h"
#include "eval/graph_target.h"
#include "gateway/clock.h"

namespace tessera::eval {

struct JobResources {
  EvalStore* store = nullptr;
  std::shared_ptr<agents::ModelRegistry> models;
  std::shared_ptr<agents::Retriever> retriever;  // For RAG targets; may be null.
  std::shared_ptr<GraphRunner> graphs;           // For agent-graph targets; may be null.
  // Reports go to <reports_dir>/<job id>/; "" writes none.
  std::string reports_dir;
  // Time for the rate limit; tests pass a fake clock and a sleep that advances it.
  const gateway::Clock* clock = gateway::Clock::Real();
  std::function<void(absl::Duration)> sleep;  // Empty: absl::SleepFor.
};

// Called after every checkpoint and state change, on the runner's threads.
using JobProgress = std::function<void(const v1::Job&)>;

// The models a job needs, checked before it is created: FailedPrecondition
// naming the judge, metric or target whose model the registry lacks.
absl::Status CheckJobModels(const v1::JobSpec& spec, const agents::ModelRegistry& models,
                            const agents::Retriever* retriever, const GraphRunner* graphs = nullptr);

// Summarises a job whose cases are all recorded, writes its reports (when
// `reports_dir` is set) and marks it SUCCEEDED, or FAILED when every case failed.
absl::StatusOr<v1::Job> FinishJob(EvalStore* store, const std::string& job_id,
                                  const std::string& reports_dir);
// A job's results, and per judge its scores beside the human scores given so
// far (labelled review items, labels.human_score).
struct JudgedCases {
  std::vector<v1::CaseResult> results;
  std::map<std::string, std::vector<ScorePair>> human_pairs;
};
absl::StatusOr<JudgedCases> LoadJudgedCases(EvalStore* store, const StoredJob& job);

// (Re)writes a job's reports under <reports_dir>/<job id>/ from the store, with
// the human labels given so far; returns the HTML path.
absl::StatusOr<std::string> WriteJobReports(EvalStore* store, const StoredJob& job,
                                            const std::string& reports_dir);

class JobRunner {
 public:
  // What a runner resolved for its job (models, G-Eval steps, pending cases).
  struct Plan;

  JobRunner(JobResources resources, std::string job_id, JobProgress progress = {});
  // RequestStop() and Wait(): the job stays RUNNING in the store, as after a
  // crash, with every finished case checkpointed.
  ~JobRunner();

  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  void Start();
  // Cases in flight finish and are checkpointed; no new case starts.
  void RequestStop();
  void Wait();
  // True once Run has returned (job ended, failed, or stopped).
  bool finished() const { return finished_.load(); }

 private:
  void Run();
  absl::Status Execute();
  // Blocks until the rate limit admits a model call; CANCELLED when stopping.
  absl::Status Admit();
  void Report(const v1::Job& job);

  JobResources resources_;
  std::string job_id_;
  JobProgress progress_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> finished_{false};
  std::thread thread_;
  std::unique_ptr<Plan> plan_;
};

}  // namespace tessera::eval

#endif  // TESSERA_EVAL_JOB_RUNNER_H_

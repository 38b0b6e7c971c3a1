// tessera.eval.v1.EvalService over the job manager: the caller's tenant from
// the request metadata, absl::Status -> grpc::Status, WatchJob as a stream of
// Job snapshots until the job ends.
#ifndef TESSERA_EVAL_EVAL_SERVICE_H_
#define TESSERA_EVAL_EVAL_SERVICE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "eval/job_manager.h"
#include "tessera/eval/v1/eval.grpc.pb.h"

namespace tessera::eval {

struct EvalServiceOptions {
  // Jobs in <data_dir>/eval.db, reports under <data_dir>/eval-reports/<job>/.
  std::string data_dir;
  // Judges and targets by name ("" = the default model); the server shares
  // the registry its agents use.
  std::shared_ptr<agents::ModelRegistry> models;
  std::shared_ptr<agents::Retriever> retriever;  // For RAG targets.
  std::shared_ptr<GraphRunner> graphs;           // For agent-graph targets.
  // Directories whose files job specs may name as datasets (jsonl_path,
  // qrels_path); empty: <data_dir>/datasets only. Paths outside are refused.
  std::vector<std::string> dataset_roots;
};

class EvalServiceImpl final : public v1::EvalService::Service {
 public:
  // Opens the job store and resumes unfinished jobs.
  static absl::StatusOr<std::unique_ptr<EvalServiceImpl>> Open(const EvalServiceOptions& options);
  explicit EvalServiceImpl(std::unique_ptr<JobManager> jobs) : jobs_(std::move(jobs)) {}

  grpc::Status CreateJob(grpc::ServerContext* context, const v1::CreateJobRequest* request,
                         v1::Job* response) override;
  grpc::Status GetJob(grpc::ServerContext* context, const v1::GetJobRequest* request,
                      v1::Job* response) override;
  grpc::Status WatchJob(grpc::ServerContext* context, const v1::WatchJobRequest* request,
                        grpc::ServerWriter<v1::Job>* writer) override;
  grpc::Status CancelJob(grpc::ServerContext* context, const v1::CancelJobRequest* request,
                         v1::Job* response) override;
  grpc::Status ListResults(grpc::ServerContext* context, const v1::ListResultsRequest* request,
                           v1::ListResultsResponse* response) override;
  grpc::Status ListReviewItems(grpc::ServerContext* context,
                               const v1::ListReviewItemsRequest* request,
                               v1::ListReviewItemsResponse* response) override;
  grpc::Status LabelReviewItem(grpc::ServerContext* context,
                               const v1::LabelReviewItemRequest* request,
                               v1::ReviewItem* response) override;
  grpc::Status GetCalibration(grpc::ServerContext* context, const v1::CalibrationRequest* request,
                              v1::CalibrationReport* response) override;

  JobManager* jobs() { return jobs_.get(); }

 private:
  std::unique_ptr<JobManager> jobs_;
};

}  // namespace tessera::eval

#endif  // TESSERA_EVAL_EVAL_SERVICE_H_

#include "eval/eval_service.h"

#include "common/grpc_status.h"
#include "common/tenant.h"

namespace tessera::eval {
namespace {

template <typename T>
grpc::Status Reply(absl::StatusOr<T> result, T* out) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *out = *std::move(result);
  return grpc::Status::OK;
}

absl::Status RequireId(const std::string& id, const char* field) {
  if (!id.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(std::string(field) + " is required");
}

}  // namespace

absl::StatusOr<std::unique_ptr<EvalServiceImpl>> EvalServiceImpl::Open(
    const EvalServiceOptions& options) {
  JobManagerOptions jobs;
  jobs.database_path = options.data_dir + "/eval.db";
  jobs.reports_dir = options.data_dir + "/eval-reports";
  if (options.models != nullptr) jobs.models = options.models;
  jobs.retriever = options.retriever;
  jobs.graphs = options.graphs;
  // Specs arrive over the network: their dataset files stay inside the roots.
  jobs.dataset_roots = options.dataset_roots;
  if (jobs.dataset_roots->empty()) jobs.dataset_roots->push_back(options.data_dir + "/datasets");
  auto manager = JobManager::Open(std::move(jobs));
  if (!manager.ok()) return manager.status();
  return std::make_unique<EvalServiceImpl>(*std::move(manager));
}

grpc::Status EvalServiceImpl::CreateJob(grpc::ServerContext* context,
                                        const v1::CreateJobRequest* request, v1::Job* response) {
  return Reply(jobs_->CreateJob(TenantOf(*context), *request), response);
}

grpc::Status EvalServiceImpl::GetJob(grpc::ServerContext* context, const v1::GetJobRequest* request,
                                     v1::Job* response) {
  if (auto s = RequireId(request->id(), "id"); !s.ok()) return ToGrpcStatus(s);
  return Reply(jobs_->GetJob(TenantOf(*context), request->id()), response);
}

grpc::Status EvalServiceImpl::WatchJob(grpc::ServerContext* context,
                                       const v1::WatchJobRequest* request,
                                       grpc::ServerWriter<v1::Job>* writer) {
  if (auto s = RequireId(request->id(), "id"); !s.ok()) return ToGrpcStatus(s);
  return ToGrpcStatus(jobs_->WatchJob(
      TenantOf(*context), request->id(), [writer](const v1::Job& job) { return writer->Write(job); },
      [context] { return context->IsCancelled(); }));
}

grpc::Status EvalServiceImpl::CancelJob(grpc::ServerContext* context,
                                        const v1::CancelJobRequest* request, v1::Job* response) {
  if (auto s = RequireId(request->id(), "id"); !s.ok()) return ToGrpcStatus(s);
  return Reply(jobs_->CancelJob(TenantOf(*context), request->id()), response);
}

grpc::Status EvalServiceImpl::ListResults(grpc::ServerContext* context,
                                          const v1::ListResultsRequest* request,
                                          v1::ListResultsResponse* response) {
  if (auto s = RequireId(request->job_id(), "job_id"); !s.ok()) return ToGrpcStatus(s);
  return Reply(jobs_->ListResults(TenantOf(*context), *request), response);
}

grpc::Status EvalServiceImpl::ListReviewItems(grpc::ServerContext* context,
                                              const v1::ListReviewItemsRequest* request,
                                              v1::ListReviewItemsResponse* response) {
  return Reply(jobs_->ListReviewItems(TenantOf(*context), *request), response);
}

grpc::Status EvalServiceImpl::LabelReviewItem(grpc::ServerContext* context,
                                              const v1::LabelReviewItemRequest* request,
                                              v1::ReviewItem* response) {
  return Reply(jobs_->LabelReviewItem(TenantOf(*context), *request), response);
}

grpc::Status EvalServiceImpl::GetCalibration(grpc::ServerContext* context,
                                             const v1::CalibrationRequest* request,
                                             v1::CalibrationReport* response) {
  if (auto s = RequireId(request->job_id(), "job_id"); !s.ok()) return ToGrpcStatus(s);
  return Reply(jobs_->GetCalibration(TenantOf(*context), *request), response);
}

}  // namespace tessera::eval

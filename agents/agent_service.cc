#include "agents/agent_service.h"

#include <deque>

#include "absl/synchronization/mutex.h"
#include "common/grpc_status.h"
#include "common/tenant.h"

namespace tessera::agents {
namespace {

// Copies a StatusOr's value into `out`, or returns its error as a gRPC status.
template <typename T>
grpc::Status Reply(absl::StatusOr<T> result, T* out) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *out = std::move(*result);
  return grpc::Status::OK;
}

bool Terminal(v1::RunStatus status) {
  return status == v1::SUCCEEDED || status == v1::FAILED || status == v1::CANCELLED ||
         status == v1::INTERRUPTED;
}

}  // namespace

grpc::Status AgentServiceImpl::CreateGraph(grpc::ServerContext* context,
                                           const v1::CreateGraphRequest* request,
                                           v1::Graph* response) {
  return Reply(runs_->CreateGraph(TenantOf(*context), *request), response);
}

grpc::Status AgentServiceImpl::GetGraph(grpc::ServerContext* context,
                                        const v1::GetGraphRequest* request, v1::Graph* response) {
  return Reply(runs_->GetGraph(TenantOf(*context), request->id()), response);
}

grpc::Status AgentServiceImpl::ListGraphs(grpc::ServerContext* context,
                                          const v1::ListGraphsRequest* request,
                                          v1::ListGraphsResponse* response) {
  return Reply(runs_->ListGraphs(TenantOf(*context), *request), response);
}

grpc::Status AgentServiceImpl::StartRun(grpc::ServerContext* context,
                                        const v1::StartRunRequest* request, v1::Run* response) {
  return Reply(runs_->StartRun(TenantOf(*context), *request), response);
}

grpc::Status AgentServiceImpl::GetRun(grpc::ServerContext* context,
                                      const v1::GetRunRequest* request, v1::Run* response) {
  return Reply(runs_->GetRun(TenantOf(*context), request->run_id()), response);
}

grpc::Status AgentServiceImpl::ResumeRun(grpc::ServerContext* context,
                                         const v1::ResumeRunRequest* request, v1::Run* response) {
  return Reply(runs_->Resume(TenantOf(*context), *request), response);
}

grpc::Status AgentServiceImpl::ApproveAction(grpc::ServerContext* context,
                                             const v1::ApproveActionRequest* request,
                                             v1::Run* response) {
  return Reply(runs_->Approve(TenantOf(*context), *request), response);
}

grpc::Status AgentServiceImpl::RejectAction(grpc::ServerContext* context,
                                            const v1::RejectActionRequest* request,
                                            v1::Run* response) {
  return Reply(runs_->Reject(TenantOf(*context), *request), response);
}

grpc::Status AgentServiceImpl::CancelRun(grpc::ServerContext* context,
                                         const v1::CancelRunRequest* request, v1::Run* response) {
  return Reply(runs_->Cancel(TenantOf(*context), *request), response);
}

grpc::Status AgentServiceImpl::GetCheckpoint(grpc::ServerContext* context,
                                             const v1::GetCheckpointRequest* request,
                                             v1::Checkpoint* response) {
  return Reply(runs_->GetCheckpoint(TenantOf(*context), *request), response);
}

grpc::Status AgentServiceImpl::ListCheckpoints(grpc::ServerContext* context,
                                               const v1::ListCheckpointsRequest* request,
                                               v1::ListCheckpointsResponse* response) {
  return Reply(runs_->ListCheckpoints(TenantOf(*context), *request), response);
}

grpc::Status AgentServiceImpl::StreamRun(grpc::ServerContext* context,
                                         const v1::StreamRunRequest* request,
                                         grpc::ServerWriter<v1::RunEvent>* writer) {
  const std::string tenant = TenantOf(*context);
  auto run = runs_->GetRun(tenant, request->run_id());
  if (!run.ok()) return ToGrpcStatus(run.status());

  // Events arrive on driver threads; this thread writes them to the stream.
  absl::Mutex mu;
  std::deque<v1::RunEvent> queue;
  auto subscription = runs_->Subscribe(tenant, request->run_id(), request->after_step(), request->after_sequence(),
                                       [&](const v1::RunEvent& event) {
                                         absl::MutexLock lock(&mu);
                                         queue.push_back(event);
                                       });
  if (!subscription.ok()) return ToGrpcStatus(subscription.status());
  bool done = false;
  while (!done && !context->IsCancelled()) {
    std::deque<v1::RunEvent> batch;
    {
      absl::MutexLock lock(&mu);
      auto ready = [&queue]() { return !queue.empty(); };
      mu.AwaitWithTimeout(absl::Condition(&ready), absl::Milliseconds(200));
      batch.swap(queue);
    }
    for (const v1::RunEvent& event : batch) {
      if (!writer->Write(event)) {
        done = true;
        break;
      }
      if (event.kind() == v1::RunEvent::FINISHED || event.kind() == v1::RunEvent::ERROR ||
          event.kind() == v1::RunEvent::INTERRUPTED) {
        done = true;
      }
    }
    if (!done && batch.empty()) {
      // Nothing new: the run may have ended before we subscribed.
      auto current = runs_->GetRun(tenant, request->run_id());
      if (current.ok() && Terminal(current->status())) {
        absl::MutexLock lock(&mu);
        done = queue.empty();
      }
    }
  }
  runs_->Unsubscribe(*subscription);
  if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
  return grpc::Status::OK;
}

}  // namespace tessera::agents

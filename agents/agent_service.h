// tessera.agents.v1.AgentService over the run manager.
#ifndef TESSERA_AGENTS_AGENT_SERVICE_H_
#define TESSERA_AGENTS_AGENT_SERVICE_H_

#include "agents/run_manager.h"
#include "tessera/agents/v1/agents.grpc.pb.h"

namespace tessera::agents {

class AgentServiceImpl final : public agents::v1::AgentService::Service {
 public:
  // `runs` must outlive the service.
  explicit AgentServiceImpl(RunManager* runs) : runs_(runs) {}

  grpc::Status CreateGraph(grpc::ServerContext* context, const v1::CreateGraphRequest* request,
                           v1::Graph* response) override;
  grpc::Status GetGraph(grpc::ServerContext* context, const v1::GetGraphRequest* request,
                        v1::Graph* response) override;
  grpc::Status ListGraphs(grpc::ServerContext* context, const v1::ListGraphsRequest* request,
                          v1::ListGraphsResponse* response) override;
  grpc::Status StartRun(grpc::ServerContext* context, const v1::StartRunRequest* request,
                        v1::Run* response) override;
  grpc::Status GetRun(grpc::ServerContext* context, const v1::GetRunRequest* request,
                      v1::Run* response) override;
  grpc::Status StreamRun(grpc::ServerContext* context, const v1::StreamRunRequest* request,
                         grpc::ServerWriter<v1::RunEvent>* writer) override;
  grpc::Status ResumeRun(grpc::ServerContext* context, const v1::ResumeRunRequest* request,
                         v1::Run* response) override;
  grpc::Status ApproveAction(grpc::ServerContext* context, const v1::ApproveActionRequest* request,
                             v1::Run* response) override;
  grpc::Status RejectAction(grpc::ServerContext* context, const v1::RejectActionRequest* request,
                            v1::Run* response) override;
  grpc::Status CancelRun(grpc::ServerContext* context, const v1::CancelRunRequest* request,
                         v1::Run* response) override;
  grpc::Status GetCheckpoint(grpc::ServerContext* context, const v1::GetCheckpointRequest* request,
                             v1::Checkpoint* response) override;
  grpc::Status ListCheckpoints(grpc::ServerContext* context,
                               const v1::ListCheckpointsRequest* request,
                               v1::ListCheckpointsResponse* response) override;

 private:
  RunManager* runs_;
};

}  // namespace tessera::agents

#endif  // TESSERA_AGENTS_AGENT_SERVICE_H_

// tessera.gateway.v1.GatewayService: Ask/AskStream retrieve from the caller's
// collection (through the retrieval service, in process), then generate an
// answer grounded in the numbered hits through the model router, with
// guardrails, caching (deterministic requests) and usage accounting;
// SubmitFeedback stores feedback in SQLite; ListRoutes reports routes and the
// backends' circuit state; GetUsage reports a tenant's usage and budget.
#ifndef TESSERA_GATEWAY_GATEWAY_SERVICE_H_
#define TESSERA_GATEWAY_GATEWAY_SERVICE_H_

#include "absl/status/statusor.h"
#include "gateway/generation_path.h"
#include "tessera/gateway/v1/gateway.grpc.pb.h"
#include "tessera/retrieval/v1/retrieval.grpc.pb.h"

namespace tessera::gateway {

class GatewayServiceImpl final : public v1::GatewayService::Service {
 public:
  // `retrieval` must outlive this; `parts.feedback` and `parts.usage` must be set.
  GatewayServiceImpl(GatewayParts parts, retrieval::v1::RetrievalService::Service* retrieval)
      : path_(std::move(parts)), retrieval_(retrieval) {}

  grpc::Status Ask(grpc::ServerContext* context, const v1::AskRequest* request,
                   v1::AskResponse* response) override;
  grpc::Status AskStream(grpc::ServerContext* context, const v1::AskRequest* request,
                         grpc::ServerWriter<v1::AskStreamResponse>* writer) override;
  grpc::Status SubmitFeedback(grpc::ServerContext* context, const v1::SubmitFeedbackRequest* request,
                              v1::SubmitFeedbackResponse* response) override;
  grpc::Status ListRoutes(grpc::ServerContext* context, const v1::ListRoutesRequest* request,
                          v1::ListRoutesResponse* response) override;
  grpc::Status GetUsage(grpc::ServerContext* context, const v1::GetUsageRequest* request,
                        v1::GetUsageResponse* response) override;

 private:
  // Everything before generation: validation, guardrails, retrieval, prompt.
  struct Prepared;
  absl::StatusOr<Prepared> Prepare(grpc::ServerContext* context, const v1::AskRequest& request);

  GenerationPath path_;
  retrieval::v1::RetrievalService::Service* retrieval_;
};

}  // namespace tessera::gateway

#endif  // TESSERA_GATEWAY_GATEWAY_SERVICE_H_

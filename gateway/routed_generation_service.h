// tessera.generation.v1.GenerationService as callers see it through the
// router: Generate, GenerateStream and Embed go through guardrails, the cache
// and the model router (a model may name a route); Score, Tokenize and
// ListModels are answered by the local engine, and ListModels also lists the
// routes. Who served a call, cache hits and guardrail actions come back as
// trailing metadata (x-tessera-served-by, x-tessera-cache,
// x-tessera-guardrails).
#ifndef TESSERA_GATEWAY_ROUTED_GENERATION_SERVICE_H_
#define TESSERA_GATEWAY_ROUTED_GENERATION_SERVICE_H_

#include "gateway/generation_path.h"
#include "tessera/generation/v1/generation.grpc.pb.h"

namespace tessera::gateway {

class RoutedGenerationService final : public generation::v1::GenerationService::Service {
 public:
  // `local` (the engine's service) must outlive this.
  RoutedGenerationService(GatewayParts parts, generation::v1::GenerationService::Service* local)
      : path_(std::move(parts)), local_(local) {}

  grpc::Status Generate(grpc::ServerContext* context, const generation::v1::GenerateRequest* request,
                        generation::v1::GenerateResponse* response) override;
  grpc::Status GenerateStream(grpc::ServerContext* context,
                              const generation::v1::GenerateRequest* request,
                              grpc::ServerWriter<generation::v1::GenerateStreamResponse>* writer)
      override;
  grpc::Status Embed(grpc::ServerContext* context, const generation::v1::EmbedRequest* request,
                     generation::v1::EmbedResponse* response) override;
  grpc::Status Score(grpc::ServerContext* context, const generation::v1::ScoreRequest* request,
                     generation::v1::ScoreResponse* response) override;
  grpc::Status Tokenize(grpc::ServerContext* context, const generation::v1::TokenizeRequest* request,
                        generation::v1::TokenizeResponse* response) override;
  grpc::Status ListModels(grpc::ServerContext* context,
                          const generation::v1::ListModelsRequest* request,
                          generation::v1::ListModelsResponse* response) override;

 private:
  GenerationPath path_;
  generation::v1::GenerationService::Service* local_;
};

}  // namespace tessera::gateway

#endif  // TESSERA_GATEWAY_ROUTED_GENERATION_SERVICE_H_

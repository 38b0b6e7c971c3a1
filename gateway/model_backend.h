// Model backends the router sends generation and embedding calls to: a
// tessera.generation.v1 server over gRPC (the local engine through an
// in-process channel, or another process at host:port) and OpenAI-compatible
// HTTP endpoints through OpenAiClient. Each retries retryable failures itself
// (with backoff) so the router sees one outcome per backend call.
#ifndef TESSERA_GATEWAY_MODEL_BACKEND_H_
#define TESSERA_GATEWAY_MODEL_BACKEND_H_

#include <grpcpp/channel.h>
#include <grpcpp/server_context.h>

#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/openai_client.h"
#include "gateway/router_config.h"
#include "tessera/generation/v1/generation.pb.h"

namespace tessera::gateway {

// Per-call context: the caller's deadline, and for gRPC backends the server
// call being served, whose deadline and cancellation then propagate.
struct BackendCall {
  absl::Time deadline = absl::InfiniteFuture();
  const grpc::ServerContextBase* parent = nullptr;
};

class ModelBackend {
 public:
  virtual ~ModelBackend() = default;

  virtual absl::StatusOr<tessera::generation::v1::GenerateResponse> Generate(
      const tessera::generation::v1::GenerateRequest& request, const BackendCall& call) = 0;

  // Pieces, then a final message with finish_reason and usage. Retried only
  // before the first piece was delivered; cancelled when `on_chunk` says false.
  virtual absl::Status GenerateStream(const tessera::generation::v1::GenerateRequest& request,
                                      const BackendCall& call, const StreamCallback& on_chunk) = 0;

  virtual absl::StatusOr<tessera::generation::v1::EmbedResponse> Embed(
      const tessera::generation::v1::EmbedRequest& request, const BackendCall& call) = 0;
};

// A tessera.generation.v1 server behind `channel`.
std::unique_ptr<ModelBackend> NewGrpcModelBackend(const BackendConfig& config,
                                                  std::shared_ptr<grpc::Channel> channel);

// An OpenAI-compatible endpoint; FailedPrecondition when the API key's
// environment variable is not set.
absl::StatusOr<std::unique_ptr<ModelBackend>> NewOpenAiModelBackend(const BackendConfig& config);

// Whether a backend's failure says nothing about the request itself, so
// another backend may succeed (and the failure counts against the backend's
// circuit): not for INVALID_ARGUMENT, NOT_FOUND, OUT_OF_RANGE or CANCELLED.
bool IsBackendFailure(const absl::Status& status);

}  // namespace tessera::gateway

#endif  // TESSERA_GATEWAY_MODEL_BACKEND_H_

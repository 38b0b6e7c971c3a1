// The gateway's generation path, shared by GenerationService (and so the
// OpenAI-compatible HTTP API) and GatewayService.Ask: token-rate admission,
// the response cache (tenant-scoped, deterministic requests only), the
// semantic cache (routes that opt in), the model router, and usage and cost accounting per tenant. Guardrails are applied by
// the callers, which know which texts are the caller's.
#ifndef TESSERA_GATEWAY_GENERATION_PATH_H_
#define TESSERA_GATEWAY_GENERATION_PATH_H_

#include <grpcpp/server_context.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gateway/feedback_store.h"
#include "gateway/guardrail_policy.h"
#include "gateway/model_router.h"
#include "gateway/rate_limiter.h"
#include "gateway/response_cache.h"
#include "gateway/semantic_cache.h"
#include "gateway/traffic_observer.h"
#include "gateway/usage_ledger.h"
#include "tessera/generation/v1/generation.pb.h"

namespace tessera::gateway {

// The router's shared state. Only `router` and `guardrails` are required.
struct GatewayParts {
  ModelRouter* router = nullptr;
  GuardrailPolicy* guardrails = nullptr;
  ResponseCache* cache = nullptr;
  SemanticCache* semantic_cache = nullptr;
  RateLimiter* limiter = nullptr;
  UsageLedger* usage = nullptr;
  FeedbackStore* feedback = nullptr;
  // Told of every completed routed generation (online evaluation); may be null.
  TrafficObserver* traffic_observer = nullptr;
  // A number that changes with every write to the searchable data (the ingest
  // log head), so cached search-based answers never outlive a write.
  std::function<absl::StatusOr<int64_t>()> data_version;
};

// Trailing metadata the gateway adds to generation calls.
inline constexpr char kServedByTrailer[] = "x-tessera-served-by";
inline constexpr char kRouteTrailer[] = "x-tessera-route";
inline constexpr char kCacheTrailer[] = "x-tessera-cache";
// ServedBy.backend of an answer from the semantic cache ("cache": the exact one).
inline constexpr char kSemanticCacheBackend[] = "semantic-cache";
inline constexpr char kGuardrailsTrailer[] = "x-tessera-guardrails";

class GenerationPath {
 public:
  explicit GenerationPath(GatewayParts parts) : parts_(std::move(parts)) {}

  // Admits the request's tokens (prompt estimate + max_tokens) against the
  // tenant's token rate and budget; RESOURCE_EXHAUSTED with a retry-after
  // trailer on `context` otherwise. Returns the estimate for Settle.
  absl::StatusOr<int64_t> AdmitTokens(absl::string_view tenant,
                                      const tessera::generation::v1::GenerateRequest& request,
                                      grpc::ServerContextBase* context) const;

  // The exact cache, the semantic cache, then the router. The response is the backend's (before output
  // guardrails); usage.cost_micros is filled in and accounted.
  absl::StatusOr<tessera::generation::v1::GenerateResponse> Generate(
      absl::string_view tenant, const tessera::generation::v1::GenerateRequest& request,
      int64_t estimated_tokens, const grpc::ServerContextBase* context, ServedBy* served,
      bool* cache_hit) const;

  // The router's stream; the final piece's usage (with cost) is accounted.
  absl::Status GenerateStream(absl::string_view tenant,
                              const tessera::generation::v1::GenerateRequest& request,
                              int64_t estimated_tokens, const grpc::ServerContextBase* context,
                              const StreamCallback& on_chunk, ServedBy* served) const;

  absl::StatusOr<tessera::generation::v1::EmbedResponse> Embed(
      absl::string_view tenant, const tessera::generation::v1::EmbedRequest& request,
      const grpc::ServerContextBase* context, ServedBy* served, bool* cache_hit) const;

  // Adds the served-by, route, cache and guardrail trailers.
  static void AddTrailers(grpc::ServerContextBase* context, const ServedBy& served, bool cache_hit,
                          const std::vector<std::string>& guardrail_actions);

  // Tells parts().traffic_observer (when set) of one completed exchange.
  // `prompt` and `output` are the texts as the backend saw and wrote them.
  void ReportCompleted(absl::string_view tenant, const ServedBy& served, std::string request_id,
                       std::string prompt, std::string output, bool cache_hit) const;

  const GatewayParts& parts() const { return parts_; }

 private:
  RoutedCall CallFor(const tessera::generation::v1::GenerateRequest& request,
                     const grpc::ServerContextBase* context) const;
  // The semantic cache's answer for `request` (its route opts in and a close
  // enough question was answered before), settled as free; `probe` is for
  // storing the answer after a miss.
  std::optional<tessera::generation::v1::GenerateResponse> LookupSimilar(
      absl::string_view tenant, const tessera::generation::v1::GenerateRequest& request,
      int64_t estimated_tokens, ServedBy* served, SemanticCache::Probe* probe) const;
  void Account(absl::string_view tenant, const std::string& backend, int64_t estimated_tokens,
               tessera::common::v1::Usage* usage) const;

  GatewayParts parts_;
};

}  // namespace tessera::gateway

#endif  // TESSERA_GATEWAY_GENERATION_PATH_H_

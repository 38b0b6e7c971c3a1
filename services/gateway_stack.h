// The router in front of the server's services, built from the "router"
// section of the server config: API keys, rate limits and usage (gateway.db in
// the data directory), the response cache, guardrails, the model router over
// the local engine (served on an in-process-only gRPC server) and the
// configured remote backends, and the public faces of generation, retrieval
// and the gateway service, the forwarders of services other processes serve
// (router.services) and the active health checks of every remote backend.
// With router.enabled false the services are served as they are (no
// authentication, limits or caching).
#ifndef TESSERA_SERVICES_GATEWAY_STACK_H_
#define TESSERA_SERVICES_GATEWAY_STACK_H_

#include <grpcpp/security/credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/support/server_interceptor.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agents/chat_model.h"
#include "eval/online_evaluator.h"
#include "gateway/api_keys.h"
#include "gateway/cached_retrieval_service.h"
#include "gateway/feedback_store.h"
#include "gateway/gateway_service.h"
#include "gateway/grpc_gate.h"
#include "gateway/guardrail_policy.h"
#include "gateway/health_checker.h"
#include "gateway/model_router.h"
#include "gateway/rate_limiter.h"
#include "gateway/request_gate.h"
#include "gateway/response_cache.h"
#include "gateway/semantic_cache.h"
#include "gateway/routed_generation_service.h"
#include "gateway/service_forwarder.h"
#include "gateway/usage_ledger.h"
#include "services/server_config.h"

namespace tessera::services {

class GatewayStack {
 public:
  // `engine` is the local generation service and `retrieval` the retrieval
  // service (local or sharded); both must outlive the stack. `data_version`
  // changes with every write to searchable data (null: searches not cached).
  // `judge_models` resolve the judges of online evaluation (config.online_eval;
  // may be null when it has no routes); every router route is registered in
  // it as a model (RoutedChatModel). `backend_credentials` secure the
  // channels to remote model backends and forwarded services (null = plaintext).
  static absl::StatusOr<std::unique_ptr<GatewayStack>> Create(
      const ServerConfig& config, generation::v1::GenerationService::Service* engine,
      retrieval::v1::RetrievalService::Service* retrieval,
      std::function<absl::StatusOr<int64_t>()> data_version,
      std::shared_ptr<agents::ModelRegistry> judge_models = nullptr,
      std::shared_ptr<grpc::ChannelCredentials> backend_credentials = nullptr);
  ~GatewayStack();

  // What callers reach: the routed generation service, the cached retrieval
  // service and the gateway service (the given ones when the router is off).
  grpc::Service* generation() const;
  grpc::Service* retrieval() const;
  grpc::Service* gateway() const { return gateway_service_.get(); }

  // The forwarder to the processes serving `short_name` (ingest, retrieval,
  // agents, eval) when router.services lists it; null otherwise.
  grpc::Service* Remote(const std::string& short_name) const;

  // `service` as registered on the public server: behind the router's gate.
  absl::StatusOr<grpc::Service*> Public(grpc::Service* service, const std::string& full_name);

  // The interceptor that authenticates calls (null when the router is off).
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewInterceptorFactory();

  gateway::ModelRouter* router() const { return router_.get(); }
  gateway::HealthChecker* health() const { return health_.get(); }
  // Null unless config.online_eval has routes.
  eval::OnlineEvaluator* online_eval() const { return online_eval_.get(); }

 private:
  GatewayStack() = default;

  bool enabled_ = true;
  generation::v1::GenerationService::Service* engine_ = nullptr;
  retrieval::v1::RetrievalService::Service* plain_retrieval_ = nullptr;
  std::unique_ptr<grpc::Server> engine_server_;
  // Before the router and forwarders, which consult it, so it outlives them.
  std::unique_ptr<gateway::HealthChecker> health_;
  std::map<std::string, std::unique_ptr<gateway::ForwardingService>> remote_;
  std::unique_ptr<gateway::ApiKeyStore> keys_;
  std::unique_ptr<gateway::RateLimiter> limiter_;
  std::unique_ptr<gateway::UsageLedger> usage_;
  std::unique_ptr<gateway::FeedbackStore> feedback_;
  // After the feedback it reads, before the router and the routed service
  // that report to it, so it outlives them.
  std::unique_ptr<eval::OnlineEvaluator> online_eval_;
  std::unique_ptr<gateway::ResponseCache> cache_;
  std::unique_ptr<gateway::SemanticCache> semantic_cache_;
  std::unique_ptr<gateway::GuardrailPolicy> guardrails_;
  std::unique_ptr<gateway::ModelRouter> router_;
  std::unique_ptr<gateway::RequestGate> gate_;
  std::unique_ptr<gateway::GrpcGate> grpc_gate_;
  std::unique_ptr<gateway::RoutedGenerationService> routed_generation_;
  std::unique_ptr<gateway::CachedRetrievalService> cached_retrieval_;
  std::unique_ptr<gateway::GatewayServiceImpl> gateway_service_;
  std::vector<std::unique_ptr<grpc::Service>> gated_;
};

}  // namespace tessera::services

#endif  // TESSERA_SERVICES_GATEWAY_STACK_H_

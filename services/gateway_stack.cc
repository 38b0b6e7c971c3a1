#include "services/gateway_stack.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/server_builder.h>
#include <spdlog/spdlog.h>

#include "eval/online_quality_signal.h"
#include "services/routed_chat_model.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/service_catalog.h"

namespace tessera::services {

absl::StatusOr<std::unique_ptr<GatewayStack>> GatewayStack::Create(
    const ServerConfig& config, generation::v1::GenerationService::Service* engine,
    retrieval::v1::RetrievalService::Service* retrieval,
    std::function<absl::StatusOr<int64_t>()> data_version,
    std::shared_ptr<agents::ModelRegistry> judge_models,
    std::shared_ptr<grpc::ChannelCredentials> backend_credentials) {
  const gateway::RouterConfig& router = config.router;
  if (backend_credentials == nullptr) backend_credentials = grpc::InsecureChannelCredentials();
  auto stack = std::unique_ptr<GatewayStack>(new GatewayStack());
  stack->enabled_ = router.enabled;
  stack->engine_ = engine;
  stack->plain_retrieval_ = retrieval;

  // The local engine on a server without ports: the router reaches it through
  // an in-process channel, so local and remote backends share one client path
  // (deadlines and cancellation included) and its calls skip the front door.
  grpc::ServerBuilder engine_builder;
  engine_builder.SetMaxReceiveMessageSize(static_cast<int>(config.max_message_bytes));
  engine_builder.SetMaxSendMessageSize(static_cast<int>(config.max_message_bytes));
  engine_builder.RegisterService(engine);
  stack->engine_server_ = engine_builder.BuildAndStart();
  if (stack->engine_server_ == nullptr) {
    return absl::InternalError("cannot start the in-process engine server");
  }
  grpc::ChannelArguments channel_arguments;
  channel_arguments.SetMaxReceiveMessageSize(static_cast<int>(config.max_message_bytes));
  channel_arguments.SetMaxSendMessageSize(static_cast<int>(config.max_message_bytes));
  auto backends = gateway::ModelRouter::ConnectBackends(
      router, stack->engine_server_->InProcessChannel(channel_arguments), backend_credentials);
  if (!backends.ok()) return backends.status();
  auto model_router = gateway::ModelRouter::Create(router, std::move(*backends));
  if (!model_router.ok()) return model_router.status();
  stack->router_ = std::move(*model_router);
  // Judges and agents may name routes (registered before any reader starts).
  if (judge_models != nullptr) RegisterRoutes(stack->router_.get(), judge_models.get());

  // Services served by other processes, and health checks of every remote
  // backend (model backends and service backends alike).
  stack->health_ = std::make_unique<gateway::HealthChecker>(router.health_check);
  gateway::ModelRouter::AddHealthTargets(router, stack->health_.get(), backend_credentials);
  for (const auto& [short_name, addresses] : router.services) {
    const ServiceInfo* service = FindService(short_name);
    if (service == nullptr || !service->forwardable) {
      return absl::InvalidArgumentError(
          absl::StrCat("router.services: \"", short_name, "\" cannot be forwarded"));
    }
    std::vector<gateway::ServiceBackend> service_backends;
    for (const std::string& address : addresses) {
      gateway::ServiceBackend backend;
      backend.name = absl::StrCat(short_name, "@", address);
      backend.channel = grpc::CreateCustomChannel(address, backend_credentials, channel_arguments);
      // Asks for the service itself, so a process serving other services only
      // (or draining) does not pass.
      stack->health_->AddGrpc(backend.name, backend.channel, service->full_name);
      service_backends.push_back(std::move(backend));
    }
    auto forwarder = gateway::ForwardingService::Create(
        service->full_name, std::move(service_backends),
        router.health_check.enabled ? stack->health_.get() : nullptr);
    if (!forwarder.ok()) return forwarder.status();
    stack->remote_[short_name] = std::move(*forwarder);
    spdlog::info("router: {} forwarded to {}", service->full_name, absl::StrJoin(addresses, ", "));
  }
  if (router.health_check.enabled) {
    stack->router_->SetHealthChecker(stack->health_.get());
    stack->health_->Start();
  }

  const std::string database = config.data_dir + "/gateway.db";
  auto usage = gateway::UsageLedger::Open(database);
  if (!usage.ok()) return usage.status();
  stack->usage_ = std::move(*usage);
  auto feedback = gateway::FeedbackStore::Open(database);
  if (!feedback.ok()) return feedback.status();
  stack->feedback_ = std::move(*feedback);
  auto guardrails = gateway::GuardrailPolicy::Create(router.guardrails);
  if (!guardrails.ok()) return guardrails.status();
  stack->guardrails_ = std::move(*guardrails);
  if (router.guardrails.injection_similarity.has_value()) {
    stack->guardrails_->SetInjectionEmbedder(
        stack->router_->LocalEmbedder(router.guardrails.injection_similarity->embedding_model));
  }

  if (!config.online_eval.routes.empty()) {
    if (judge_models == nullptr) {
      return absl::FailedPreconditionError("online_eval needs judge models (the agents' registry)");
    }
    eval::OnlineEvaluatorOptions online;
    online.config = config.online_eval;
    online.database_path = config.data_dir + "/eval.db";
    online.models = std::move(judge_models);
    online.feedback = stack->feedback_.get();
    auto evaluator = eval::OnlineEvaluator::Create(std::move(online));
    if (!evaluator.ok()) return evaluator.status();
    stack->online_eval_ = std::move(*evaluator);
    stack->router_->SetQualitySignal(
        std::make_shared<eval::OnlineQualitySignal>(stack->online_eval_.get()));
  }

  gateway::GatewayParts parts;
  parts.router = stack->router_.get();
  parts.traffic_observer = stack->online_eval_.get();
  parts.guardrails = stack->guardrails_.get();
  parts.usage = stack->usage_.get();
  parts.feedback = stack->feedback_.get();
  parts.data_version = data_version;
  if (router.enabled) {
    auto keys = gateway::ApiKeyStore::Open(database);
    if (!keys.ok()) return keys.status();
    stack->keys_ = std::move(*keys);
    stack->limiter_ = std::make_unique<gateway::RateLimiter>(router.default_limits);
    for (const auto& [tenant, limits] : router.tenant_limits) {
      stack->limiter_->SetLimits(tenant, limits);
    }
    if (router.cache.enabled && router.cache.max_bytes > 0) {
      gateway::ResponseCacheOptions cache_options;
      cache_options.max_bytes = static_cast<size_t>(router.cache.max_bytes);
      cache_options.ttl = router.cache.ttl;
      stack->cache_ = std::make_unique<gateway::ResponseCache>(cache_options);
    }
    if (!router.semantic_caches.empty()) {
      gateway::ModelRouter* model_router = stack->router_.get();
      auto semantic = gateway::SemanticCache::Create(
          router.semantic_caches, [model_router](const std::string& embedding_model) {
            return model_router->LocalEmbedder(embedding_model);
          });
      if (!semantic.ok()) return semantic.status();
      stack->semantic_cache_ = std::move(*semantic);
    }
    parts.limiter = stack->limiter_.get();
    parts.cache = stack->cache_.get();
    parts.semantic_cache = stack->semantic_cache_.get();
    stack->gate_ = std::make_unique<gateway::RequestGate>(router.auth, stack->keys_.get(),
                                                          stack->limiter_.get(), stack->usage_.get());
    stack->grpc_gate_ = std::make_unique<gateway::GrpcGate>(stack->gate_.get());
    stack->routed_generation_ = std::make_unique<gateway::RoutedGenerationService>(parts, engine);
    stack->cached_retrieval_ = std::make_unique<gateway::CachedRetrievalService>(
        retrieval, stack->cache_.get(), data_version);
    spdlog::info("router: {} backends, {} routes, API keys {}", router.backends.size(),
                 router.routes.size(),
                 router.auth == gateway::AuthMode::kOff
                     ? "off"
                     : (stack->gate_->AuthRequired() ? "required" : "not required (none issued)"));
  }
  stack->gateway_service_ = std::make_unique<gateway::GatewayServiceImpl>(
      parts, stack->cached_retrieval_ != nullptr
                 ? static_cast<retrieval::v1::RetrievalService::Service*>(
                       stack->cached_retrieval_.get())
                 : retrieval);
  return stack;
}

GatewayStack::~GatewayStack() {
  // Its workers may be judging through the router, which goes before it.
  if (router_ != nullptr) router_->SetQualitySignal(nullptr);
  online_eval_.reset();
  if (engine_server_ != nullptr) engine_server_->Shutdown();
}

grpc::Service* GatewayStack::generation() const {
  return routed_generation_ != nullptr ? static_cast<grpc::Service*>(routed_generation_.get())
                                       : engine_;
}

grpc::Service* GatewayStack::retrieval() const {
  return cached_retrieval_ != nullptr ? static_cast<grpc::Service*>(cached_retrieval_.get())
                                      : plain_retrieval_;
}

grpc::Service* GatewayStack::Remote(const std::string& short_name) const {
  auto it = remote_.find(short_name);
  return it == remote_.end() ? nullptr : it->second.get();
}

absl::StatusOr<grpc::Service*> GatewayStack::Public(grpc::Service* service,
                                                    const std::string& full_name) {
  if (grpc_gate_ == nullptr) return service;
  bool forwarder = false;
  for (const auto& [name, remote] : remote_) forwarder |= remote.get() == service;
  auto wrapped = grpc_gate_->Wrap(service, full_name, /*raw_requests=*/forwarder);
  if (!wrapped.ok()) return wrapped.status();
  gated_.push_back(std::move(*wrapped));
  return gated_.back().get();
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
GatewayStack::NewInterceptorFactory() {
  return grpc_gate_ != nullptr ? grpc_gate_->NewInterceptorFactory() : nullptr;
}

}  // namespace tessera::services

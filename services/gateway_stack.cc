#include "services/gateway_stack.h"

#include <grpcpp/server_builder.h>
#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"

namespace tessera::services {

absl::StatusOr<std::unique_ptr<GatewayStack>> GatewayStack::Create(
    const ServerConfig& config, generation::v1::GenerationService::Service* engine,
    retrieval::v1::RetrievalService::Service* retrieval,
    std::function<absl::StatusOr<int64_t>()> data_version) {
  const gateway::RouterConfig& router = config.router;
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
      router, stack->engine_server_->InProcessChannel(channel_arguments));
  if (!backends.ok()) return backends.status();
  auto model_router = gateway::ModelRouter::Create(router, std::move(*backends));
  if (!model_router.ok()) return model_router.status();
  stack->router_ = std::move(*model_router);

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

  gateway::GatewayParts parts;
  parts.router = stack->router_.get();
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
    parts.limiter = stack->limiter_.get();
    parts.cache = stack->cache_.get();
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

absl::StatusOr<grpc::Service*> GatewayStack::Public(grpc::Service* service,
                                                    const std::string& full_name) {
  if (grpc_gate_ == nullptr) return service;
  auto wrapped = grpc_gate_->Wrap(service, full_name);
  if (!wrapped.ok()) return wrapped.status();
  gated_.push_back(std::move(*wrapped));
  return gated_.back().get();
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
GatewayStack::NewInterceptorFactory() {
  return grpc_gate_ != nullptr ? grpc_gate_->NewInterceptorFactory() : nullptr;
}

}  // namespace tessera::services

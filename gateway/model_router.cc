#include "gateway/model_router.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/json.h"

namespace tessera::gateway {
namespace {

using tessera::generation::v1::EmbedRequest;
using tessera::generation::v1::EmbedResponse;
using tessera::generation::v1::GenerateRequest;
using tessera::generation::v1::GenerateResponse;
using tessera::generation::v1::GenerateStreamResponse;

constexpr char kBackendCalls[] = "tessera_gateway_backend_calls_total";
constexpr char kBackendLatency[] = "tessera_gateway_backend_latency_seconds";
constexpr char kRouteRequests[] = "tessera_gateway_route_requests_total";
constexpr char kFallbacks[] = "tessera_gateway_fallbacks_total";
constexpr char kCircuitRejections[] = "tessera_gateway_circuit_rejections_total";
constexpr char kShadowCalls[] = "tessera_gateway_shadow_calls_total";
constexpr char kTimeToFirstToken[] = "tessera_gateway_ttft_seconds";
constexpr char kUnhealthySkips[] = "tessera_gateway_unhealthy_skips_total";
constexpr char kCanaryShare[] = "tessera_gateway_canary_share";
constexpr char kIntents[] = "tessera_gateway_intent_total";
// Intent training that failed (no embedding model loaded) is retried no more
// often than this, so requests do not each wait on a failing embed call.
constexpr absl::Duration kIntentRetry = absl::Seconds(10);
// The router's own embedding calls (intents, semantic cache, guardrails).
constexpr absl::Duration kEmbedTimeout = absl::Seconds(10);

constexpr int kShadowWorkers = 2;
// A mirrored call never outlives this, whatever the backend's timeout.
constexpr absl::Duration kShadowTimeout = absl::Seconds(60);

double UniformDraw() {
  thread_local absl::BitGen random;
  return absl::Uniform(random, 0.0, 1.0);
}

std::string CodeName(const absl::Status& status) {
  return absl::StatusCodeToString(status.code());
}

}  // namespace

absl::StatusOr<ModelRouter::BackendMap> ModelRouter::ConnectBackends(
    const RouterConfig& config, std::shared_ptr<grpc::Channel> local_engine,
    std::shared_ptr<grpc::ChannelCredentials> credentials) {
  if (credentials == nullptr) credentials = grpc::InsecureChannelCredentials();
  BackendMap backends;
  for (const BackendConfig& backend : config.backends) {
    switch (backend.kind) {
      case BackendKind::kLocal:
        if (local_engine == nullptr) {
          return absl::FailedPreconditionError(
              absl::StrCat("backend \"", backend.name, "\": no local engine in this process"));
        }
        backends[backend.name] = NewGrpcModelBackend(backend, local_engine);
        break;
      case BackendKind::kGrpc:
        backends[backend.name] =
            NewGrpcModelBackend(backend, grpc::CreateChannel(backend.address, credentials));
        break;
      case BackendKind::kOpenAi: {
        auto created = NewOpenAiModelBackend(backend);
        if (!created.ok()) return created.status();
        backends[backend.name] = std::move(*created);
        break;
      }
    }
  }
  return backends;
}

absl::StatusOr<std::unique_ptr<ModelRouter>> ModelRouter::Create(const RouterConfig& config,
                                                                 BackendMap backends,
                                                                 const Clock* clock,
                                                                 MetricsRegistry* metrics) {
  absl::Status valid = ValidateRouterConfig(config);
  if (!valid.ok()) return valid;
  for (const BackendConfig& backend : config.backends) {
    if (backends.find(backend.name) == backends.end() || backends[backend.name] == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("no connection for backend \"", backend.name, "\""));
    }
  }
  auto router = std::unique_ptr<ModelRouter>(
      new ModelRouter(config, std::move(backends), clock, metrics));
  bool mirrors = false;
  for (const Route& route : config.routes) {
    absl::Status put = router->routes_.Put(route);
    if (!put.ok()) return put;
    for (const RouteTarget& target : route.targets()) mirrors |= target.shadow();
  }
  for (const auto& [route_name, options] : config.canaries) {
    auto state = std::make_unique<CanaryState>(options, clock);
    for (const Route& route : config.routes) {
      if (route.name() == route_name) state->base = route;
    }
    state->baseline = options.baseline_backend;
    for (const RouteTarget& target : state->base.targets()) {
      if (state->baseline.empty() && !target.shadow() && target.backend() != options.canary_backend) {
        state->baseline = target.backend();
      }
    }
    CanaryState& added = *state;
    router->canaries_[route_name] = std::move(state);
    // The first step's share from the start.
    router->EvaluateCanary(route_name, added);
  }
  for (const auto& [route_name, options] : config.intents) {
    auto state = std::make_unique<IntentState>();
    state->options = options;
    state->embedder = router->LocalEmbedder(options.embedding_model);
    router->intents_[route_name] = std::move(state);
  }
  if (mirrors) {
    for (int i = 0; i < kShadowWorkers; ++i) {
      router->shadow_workers_.emplace_back([self = router.get()] { self->ShadowWorker(); });
    }
  }
  return router;
}

ModelRouter::ModelRouter(const RouterConfig& config, BackendMap backends, const Clock* clock,
                         MetricsRegistry* metrics)
    : config_(config),
      backends_(std::move(backends)),
      clock_(clock),
      metrics_(metrics),
      breakers_(config.circuit_breaker, clock) {
  if (metrics_ != nullptr) {
    metrics_->Describe(kBackendCalls, "Calls from the router to model backends, by status code.");
    metrics_->Describe(kBackendLatency, "Latency of calls to model backends, seconds.");
    metrics_->Describe(kRouteRequests, "Requests per route and the backend that served them.");
    metrics_->Describe(kFallbacks, "Calls that moved on from a failed backend to the next.");
    metrics_->Describe(kCircuitRejections, "Backends skipped because their circuit was open.");
    metrics_->Describe(kShadowCalls, "Mirrored (shadow) calls by outcome.");
    metrics_->Describe(kTimeToFirstToken, "Time to the first streamed token, seconds.");
    metrics_->Describe(kUnhealthySkips, "Backends skipped because they failed health checks.");
    metrics_->Describe(kCanaryShare, "The canary's current share of its route's traffic.");
    metrics_->Describe(kIntents, "Requests of intent routes by the class they were given.");
  }
}

ModelRouter::~ModelRouter() {
  {
    absl::MutexLock lock(&shadow_mu_);
    stopping_ = true;
  }
  for (std::thread& worker : shadow_workers_) worker.join();
}

void ModelRouter::ShadowWorker() {
  while (true) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&shadow_mu_);
      shadow_mu_.Await(absl::Condition(
          +[](ModelRouter* self) {
            return self->stopping_ || !self->shadow_queue_.empty();
          },
          this));
      if (shadow_queue_.empty()) return;  // stopping, and nothing left to run
      task = std::move(shadow_queue_.front());
      shadow_queue_.pop_front();
      ++shadows_running_;
    }
    task();
    absl::MutexLock lock(&shadow_mu_);
    --shadows_running_;
  }
}

void ModelRouter::Count(const std::string& name, const MetricLabels& labels) {
  if (metrics_ != nullptr) metrics_->IncrementCounter(name, labels);
}

bool ModelRouter::IsRoute(absl::string_view model) const {
  return !model.empty() && routes_.Get(model).ok();
}

std::string ModelRouter::RouteNameFor(absl::string_view model) const {
  const std::string name = model.empty() ? config_.default_route : std::string(model);
  return IsRoute(name) ? name : "";
}

std::shared_ptr<Embedder> ModelRouter::LocalEmbedder(const std::string& embedding_model) const {
  ModelBackend* local = backends_.at(LocalBackend(config_).name).get();
  return std::make_shared<FunctionEmbedder>(
      embedding_model, [local](const tessera::generation::v1::EmbedRequest& request) {
        BackendCall call;
        call.deadline = absl::Now() + kEmbedTimeout;
        return local->Embed(request, call);
      });
}

absl::StatusOr<ModelRouter::Plan> ModelRouter::PlanFor(absl::string_view model,
                                                       absl::string_view sticky_key,
                                                       const GenerateRequest* request) const {
  Plan plan;
  std::string route_name(model);
  if (route_name.empty()) route_name = config_.default_route;
  auto policy = route_name.empty() ? absl::NotFoundError("") : routes_.Get(route_name);
  if (!policy.ok()) {
    // Not a route: the local engine serves the model by its own name (and
    // answers NOT_FOUND for names it does not know).
    RouteTarget direct;
    direct.set_backend(LocalBackend(config_).name);
    direct.set_model(std::string(model));
    direct.set_weight(1);
    plan.attempts.push_back(direct);
    return plan;
  }
  RoutingDecision decision = (*policy)->Pick(sticky_key, UniformDraw());
  plan.route = route_name;
  plan.attempts = std::move(decision.attempts);
  plan.shadows = std::move(decision.shadows);
  if (config_.cheapest_routes.count(route_name)) plan.attempts = CheapestAttempts(**policy);
  if (request != nullptr) ApplyIntent(**policy, *request, &plan);
  return plan;
}

std::vector<RouteTarget> ModelRouter::CheapestAttempts(const RoutingPolicy& policy) const {
  std::vector<RouteTarget> attempts;
  std::set<std::string> seen;
  for (const RouteTarget& target : policy.route().targets()) {
    if (!target.shadow() && seen.insert(target.backend()).second) attempts.push_back(target);
  }
  for (const std::string& fallback : policy.route().fallbacks()) {
    if (!seen.insert(fallback).second) continue;
    RouteTarget target;
    target.set_backend(fallback);
    attempts.push_back(std::move(target));
  }
  auto price = [this](const RouteTarget& target) {
    for (const BackendConfig& backend : config_.backends) {
      if (backend.name == target.backend()) {
        return backend.prompt_micros_per_1k_tokens + backend.completion_micros_per_1k_tokens;
      }
    }
    return int64_t{0};
  };
  // Healthy before unhealthy, so the cheapest healthy one is tried first.
  auto healthy = [this](const RouteTarget& target) {
    return health_ == nullptr || health_->IsHealthy(target.backend());
  };
  std::stable_sort(attempts.begin(), attempts.end(),
                   [&](const RouteTarget& a, const RouteTarget& b) {
                     if (healthy(a) != healthy(b)) return healthy(a);
                     return price(a) < price(b);
                   });
  return attempts;
}

const IntentClassifier* ModelRouter::IntentClassifierFor(const std::string& route,
                                                         IntentState& state) const {
  absl::MutexLock lock(&state.mu);
  if (state.classifier.has_value()) return &*state.classifier;
  if (absl::Now() - state.last_failure < kIntentRetry) return nullptr;
  auto trained = IntentClassifier::Train(state.options, *state.embedder);
  if (!trained.ok()) {
    state.last_failure = absl::Now();
    spdlog::warn(
        "route \"{}\": cannot train the intent classifier ({}); requests go to the default "
        "backend \"{}\" (retrying in {}s)",
        route, trained.status().ToString(), state.options.default_backend,
        absl::ToInt64Seconds(kIntentRetry));
    return nullptr;
  }
  state.classifier.emplace(std::move(*trained));
  return &*state.classifier;
}

void ModelRouter::ApplyIntent(const RoutingPolicy& policy, const GenerateRequest& request,
                              Plan* plan) const {
  auto found = intents_.find(plan->route);
  if (found == intents_.end()) return;
  IntentState& state = *found->second;
  IntentDecision decision;
  decision.label = "default";
  decision.backend = state.options.default_backend;
  if (const IntentClassifier* classifier = IntentClassifierFor(plan->route, state)) {
    auto classified = classifier->Classify(QuestionText(request), *state.embedder);
    if (classified.ok()) {
      decision = std::move(*classified);
    } else {
      spdlog::warn("route \"{}\": intent classification failed ({}); using \"{}\"",
                       plan->route, classified.status().ToString(), decision.backend);
    }
  }
  if (metrics_ != nullptr) {
    metrics_->IncrementCounter(kIntents, {{"route", plan->route}, {"class", decision.label}});
  }
  // The class's backend first, with the model the route gives it; the rest of
  // the plan stays as fallbacks.
  RouteTarget first;
  first.set_backend(decision.backend);
  first.set_weight(1);
  for (const RouteTarget& target : policy.route().targets()) {
    if (target.backend() == decision.backend && !target.shadow()) first = target;
  }
  std::vector<RouteTarget> attempts = {first};
  for (RouteTarget& target : plan->attempts) {
    if (target.backend() != decision.backend) attempts.push_back(std::move(target));
  }
  plan->attempts = std::move(attempts);
}

absl::Status ModelRouter::RunAttempts(const Plan& plan, const RoutedCall& call,
                                      const Attempt& attempt,
                                      const std::function<bool()>& may_fall_back,
                                      ServedBy* served) {
  absl::Status last;
  std::string last_backend;
  int tried = 0;
  // When every attempt failed its checks, try them anyway rather than fail
  // without a call (the checks may lag a recovery).
  const bool skip_unhealthy = health_ != nullptr && AnyHealthy(plan.attempts);
  for (const RouteTarget& target : plan.attempts) {
    auto found = backends_.find(target.backend());
    if (found == backends_.end()) continue;  // validated at Create; defensive
    if (skip_unhealthy && !health_->IsHealthy(target.backend())) {
      Count(kUnhealthySkips, {{"backend", target.backend()}});
      if (last.ok()) {
        last = absl::UnavailableError(
            absl::StrCat("backend \"", target.backend(), "\" fails its health checks"));
        last_backend = target.backend();
      }
      continue;
    }
    CircuitBreaker* breaker = breakers_.ForBackend(target.backend());
    if (!breaker->Allow()) {
      Count(kCircuitRejections, {{"backend", target.backend()}});
      if (last.ok()) {
        last = absl::UnavailableError(
            absl::StrCat("the circuit of backend \"", target.backend(), "\" is open"));
        last_backend = target.backend();
      }
      continue;
    }
    ++tried;
    // Set before the call, so a stream's pieces can tell who is serving them.
    served->route = plan.route;
    served->backend = target.backend();
    served->model = target.model();
    const absl::Time start = absl::Now();
    absl::Status status = attempt(*found->second, target);
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
    Count(kBackendCalls, {{"backend", target.backend()}, {"code", CodeName(status)}});
    if (metrics_ != nullptr) {
      metrics_->ObserveSeconds(kBackendLatency, {{"backend", target.backend()}}, seconds);
    }
    const bool failed = IsBackendFailure(status);
    if (!plan.route.empty()) {
      RecordForCanary(plan.route, target.backend(), status, absl::Seconds(seconds));
    }
    // A caller error or a cancelled call says nothing bad about the backend.
    if (failed) {
      breaker->RecordFailure();
    } else {
      breaker->RecordSuccess();
    }
    if (!failed) {
      served->backends_tried = tried;
      if (status.ok()) {
        Count(kRouteRequests, {{"backend", target.backend()}, {"route", plan.route}});
      }
      if (!plan.shadows.empty()) {
        spdlog::info("{}", DumpJson({{"event", "routed"},
                                     {"route", plan.route},
                                     {"backend", target.backend()},
                                     {"request_id", call.request_id},
                                     {"status", CodeName(status)},
                                     {"latency_ms", seconds * 1000}}));
      }
      return status;
    }
    spdlog::warn("backend {} failed for route {}: {}", target.backend(),
                 plan.route.empty() ? "(direct)" : plan.route, status.ToString());
    last = status;
    last_backend = target.backend();
    if (!may_fall_back()) break;
    Count(kFallbacks, {{"from", target.backend()}, {"route", plan.route}});
  }
  served->backends_tried = tried;
  if (last.ok()) {
    return absl::UnavailableError(
        absl::StrCat("route \"", plan.route, "\" has no backend to try"));
  }
  const std::string what = plan.route.empty() ? absl::StrCat("backend \"", last_backend, "\"")
                                              : absl::StrCat("route \"", plan.route, "\"");
  return absl::Status(last.code(), absl::StrCat(what, ": ", plan.attempts.size() > 1
                                                              ? "every backend failed; last: "
                                                              : "",
                                                last_backend, ": ", last.message()));
}

void ModelRouter::Mirror(const Plan& plan, const RoutedCall& call, const GenerateRequest& request) {
  for (const RouteTarget& target : plan.shadows) {
    auto found = backends_.find(target.backend());
    if (found == backends_.end()) continue;
    GenerateRequest mirrored = request;
    mirrored.set_model(target.model());
    ModelBackend* backend = found->second.get();
    auto task = [this, backend, mirrored = std::move(mirrored), route = plan.route,
                 request_id = call.request_id, name = target.backend()] {
      // Not tied to the caller's call: the shadow may finish after it.
      BackendCall shadow_call;
      shadow_call.deadline = absl::Now() + kShadowTimeout;
      const absl::Time start = absl::Now();
      auto response = backend->Generate(mirrored, shadow_call);
      const double millis = absl::ToDoubleMilliseconds(absl::Now() - start);
      Count(kShadowCalls, {{"backend", name}, {"outcome", response.ok() ? "ok" : "error"}});
      Json log = {{"event", "shadow"},    {"route", route},
                  {"backend", name},      {"request_id", request_id},
                  {"latency_ms", millis}, {"status", CodeName(response.status())}};
      if (response.ok()) {
        log["completion_tokens"] = response->usage().completion_tokens();
        log["text_chars"] = response->text().size();
      } else {
        log["error"] = std::string(response.status().message());
      }
      spdlog::info("{}", DumpJson(log));
    };
    absl::MutexLock lock(&shadow_mu_);
    if (stopping_ || static_cast<int>(shadow_queue_.size()) + shadows_running_ >=
                         config_.max_shadow_in_flight) {
      ++shadows_dropped_;
      Count(kShadowCalls, {{"backend", target.backend()}, {"outcome", "dropped"}});
      continue;
    }
    ++shadows_started_;
    shadow_queue_.push_back(std::move(task));
  }
}

template <typename Request, typename Response>
absl::StatusOr<Response> ModelRouter::CallUnary(
    const Plan& plan, const Request& request, const RoutedCall& call, ServedBy* served,
    absl::StatusOr<Response> (ModelBackend::*method)(const Request&, const BackendCall&)) {
  Response response;
  absl::Status status = RunAttempts(
      plan, call,
      [&](ModelBackend& backend, const RouteTarget& target) {
        Request routed = request;
        routed.set_model(target.model());
        auto result = (backend.*method)(routed, call.backend);
        if (!result.ok()) return result.status();
        response = std::move(*result);
        return absl::OkStatus();
      },
      [] { return true; }, served);
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<GenerateResponse> ModelRouter::Generate(const GenerateRequest& request,
                                                       const RoutedCall& call, ServedBy* served) {
  auto plan = PlanFor(request.model(), call.sticky_key, &request);
  if (!plan.ok()) return plan.status();
  Mirror(*plan, call, request);
  return CallUnary(*plan, request, call, served, &ModelBackend::Generate);
}

absl::Status ModelRouter::GenerateStream(const GenerateRequest& request, const RoutedCall& call,
                                         const StreamCallback& on_chunk, ServedBy* served) {
  auto plan = PlanFor(request.model(), call.sticky_key, &request);
  if (!plan.ok()) return plan.status();
  Mirror(*plan, call, request);
  bool delivered = false;
  return RunAttempts(
      *plan, call,
      [&](ModelBackend& backend, const RouteTarget& target) {
        GenerateRequest routed = request;
        routed.set_model(target.model());
        const absl::Time start = absl::Now();
        return backend.GenerateStream(routed, call.backend,
                                      [&](const GenerateStreamResponse& chunk) {
                                        if (!delivered && metrics_ != nullptr) {
                                          metrics_->ObserveSeconds(
                                              kTimeToFirstToken, {{"backend", target.backend()}},
                                              absl::ToDoubleSeconds(absl::Now() - start));
                                        }
                                        delivered = true;
                                        return on_chunk(chunk);
                                      });
      },
      [&delivered] { return !delivered; }, served);
}

absl::StatusOr<EmbedResponse> ModelRouter::Embed(const EmbedRequest& request,
                                                 const RoutedCall& call, ServedBy* served) {
  auto plan = PlanFor(request.model(), call.sticky_key, nullptr);
  if (!plan.ok()) return plan.status();
  return CallUnary(*plan, request, call, served, &ModelBackend::Embed);
}

void ModelRouter::SetIntentEmbedder(std::shared_ptr<Embedder> embedder) {
  for (auto& [route, state] : intents_) state->embedder = embedder;
}

std::vector<Route> ModelRouter::Routes() const {
  std::vector<Route> routes = routes_.List();
  for (Route& route : routes) {
    route.set_policy(config_.cheapest_routes.count(route.name()) ? "cheapest" : "weighted");
    if (config_.canaries.count(route.name())) route.add_features("canary");
    if (config_.intents.count(route.name())) route.add_features("intent");
    if (config_.semantic_caches.count(route.name())) route.add_features("semantic_cache");
  }
  return routes;
}

std::vector<tessera::gateway::v1::Backend> ModelRouter::Backends() {
  std::vector<tessera::gateway::v1::Backend> out;
  for (const BackendConfig& config : config_.backends) {
    tessera::gateway::v1::Backend backend;
    backend.set_name(config.name);
    backend.set_kind(BackendKindName(config.kind));
    backend.set_address(config.kind == BackendKind::kLocal ? "in-process" : config.address);
    CircuitState state = breakers_.ForBackend(config.name)->state();
    backend.set_circuit_state(CircuitStateName(state));
    backend.set_healthy(state != CircuitState::kOpen &&
                        (health_ == nullptr || health_->IsHealthy(config.name)));
    out.push_back(std::move(backend));
  }
  return out;
}

int64_t ModelRouter::CostMicros(absl::string_view backend,
                                const tessera::common::v1::Usage& usage) const {
  for (const BackendConfig& config : config_.backends) {
    if (config.name != backend) continue;
    // Rounded up, so many small calls cannot add up to free.
    const int64_t micros = usage.prompt_tokens() * config.prompt_micros_per_1k_tokens +
                           usage.completion_tokens() * config.completion_micros_per_1k_tokens +
                           usage.embedding_tokens() * config.prompt_micros_per_1k_tokens;
    return (micros + 999) / 1000;
  }
  return 0;
}

bool ModelRouter::AnyHealthy(const std::vector<RouteTarget>& attempts) const {
  for (const RouteTarget& target : attempts) {
    if (health_->IsHealthy(target.backend())) return true;
  }
  return false;
}

void ModelRouter::AddHealthTargets(const RouterConfig& config, HealthChecker* health,
                                   std::shared_ptr<grpc::ChannelCredentials> credentials) {
  if (credentials == nullptr) credentials = grpc::InsecureChannelCredentials();
  for (const BackendConfig& backend : config.backends) {
    if (backend.kind == BackendKind::kGrpc) {
      health->AddGrpc(backend.name, grpc::CreateChannel(backend.address, credentials));
    } else if (backend.kind == BackendKind::kOpenAi && !backend.health_path.empty()) {
      health->AddHttp(backend.name, HealthUrl(backend.address, backend.health_path));
    }
  }
}

void ModelRouter::SetQualitySignal(std::shared_ptr<QualitySignal> quality) {
  absl::MutexLock lock(&quality_mu_);
  quality_ = std::move(quality);
}

void ModelRouter::RecordForCanary(const std::string& route, const std::string& backend,
                                  const absl::Status& status, absl::Duration latency) {
  auto it = canaries_.find(route);
  if (it == canaries_.end()) return;
  CanaryState& state = *it->second;
  // Outcomes of the canary only; a caller's error (or cancellation) is not one.
  if (backend == state.controller.canary_backend()) {
    if (status.ok() || IsBackendFailure(status)) state.controller.RecordOutcome(status.ok(), latency);
  }
  {
    absl::MutexLock lock(&state.mu);
    if (clock_->Now() - state.last_evaluated < config_.canary_evaluate_every) return;
  }
  EvaluateCanary(route, state);
}

void ModelRouter::EvaluateCanaries() {
  for (auto& [route, state] : canaries_) EvaluateCanary(route, *state);
}

void ModelRouter::EvaluateCanary(const std::string& route, CanaryState& state) {
  std::shared_ptr<QualitySignal> quality;
  {
    absl::MutexLock lock(&quality_mu_);
    quality = quality_;
  }
  state.controller.Evaluate(quality.get(), route, state.baseline);
  const double share = state.controller.CanaryShare();
  absl::MutexLock lock(&state.mu);
  state.last_evaluated = clock_->Now();
  if (share == state.applied_share) return;
  auto updated = SetTargetShare(state.base, state.controller.canary_backend(), share);
  if (!updated.ok() || !routes_.Put(*updated).ok()) {
    spdlog::error("canary of route {}: cannot set share {}", route, share);
    return;
  }
  const CanaryPhase phase = state.controller.phase();
  spdlog::info("{}", DumpJson({{"event", "canary"},
                               {"route", route},
                               {"backend", state.controller.canary_backend()},
                               {"share", share},
                               {"phase", CanaryPhaseName(phase)},
                               {"reason", state.controller.rollback_reason()}}));
  if (metrics_ != nullptr) metrics_->SetGauge(kCanaryShare, {{"route", route}}, share);
  state.applied_share = share;
}

absl::StatusOr<ModelRouter::CanaryStatus> ModelRouter::Canary(absl::string_view route) {
  auto it = canaries_.find(route);
  if (it == canaries_.end()) {
    return absl::NotFoundError(absl::StrCat("route \"", route, "\" has no canary"));
  }
  CanaryStatus status;
  status.phase = it->second->controller.phase();
  status.share = it->second->controller.CanaryShare();
  status.step = it->second->controller.step_index();
  status.rollback_reason = it->second->controller.rollback_reason();
  return status;
}

int64_t ModelRouter::shadow_calls_started() const {
  absl::MutexLock lock(&shadow_mu_);
  return shadows_started_;
}

int64_t ModelRouter::shadow_calls_dropped() const {
  absl::MutexLock lock(&shadow_mu_);
  return shadows_dropped_;
}

}  // namespace tessera::gateway

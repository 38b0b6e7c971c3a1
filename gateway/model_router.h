// The model gateway: maps a logical model (a route) to backends and calls
// them. A request naming a route gets the route's weighted pick (sticky by its
// user or session key, for canaries and A/B splits), then the route's ordered
// fallbacks, skipping backends whose circuit is open; a backend failure (after
// the backend's own retries) moves on to the next, a caller error does not.
// Shadow targets get a mirrored copy whose response is logged and discarded.
// A request naming no route goes to the default route, or to the local engine
// with its model name unchanged. A route with an "intent" classifies the
// generation request's last user message and tries its class's backend first;
// a "cheapest" route tries its targets and fallbacks in order of price.
// Thread-safe.
#ifndef TESSERA_GATEWAY_MODEL_ROUTER_H_
#define TESSERA_GATEWAY_MODEL_ROUTER_H_

#include <grpcpp/channel.h>
#include <grpcpp/security/credentials.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/metrics.h"
#include "gateway/circuit_breaker.h"
#include "gateway/clock.h"
#include "gateway/health_checker.h"
#include "gateway/intent_classifier.h"
#include "gateway/model_backend.h"
#include "gateway/router_config.h"
#include "gateway/routing_policy.h"
#include "tessera/gateway/v1/gateway.pb.h"
#include "tessera/generation/v1/generation.pb.h"

namespace tessera::gateway {

struct RoutedCall {
  // Sticky routing key (a user or session id); empty: a random pick.
  std::string sticky_key;
  // For logs: the caller's request id.
  std::string request_id;
  BackendCall backend;
};

// Who served a call.
struct ServedBy {
  std::string route;  // empty when the request named no route
  std::string backend;
  std::string model;  // the model name sent to the backend
  int backends_tried = 0;
};

class ModelRouter {
 public:
  using BackendMap = std::map<std::string, std::unique_ptr<ModelBackend>>;

  // One backend per configured backend: local ones over `local_engine` (a
  // channel to this process's generation service), grpc ones over a new
  // channel with `credentials` (null = plaintext), openai ones through libcurl.
  static absl::StatusOr<BackendMap> ConnectBackends(
      const RouterConfig& config, std::shared_ptr<grpc::Channel> local_engine,
      std::shared_ptr<grpc::ChannelCredentials> credentials = nullptr);

  // `backends` must hold every backend the config names.
  static absl::StatusOr<std::unique_ptr<ModelRouter>> Create(
      const RouterConfig& config, BackendMap backends, const Clock* clock = Clock::Real(),
      MetricsRegistry* metrics = &MetricsRegistry::Global());

  // Finishes the mirrored calls already queued.
  ~ModelRouter();

  absl::StatusOr<tessera::generation::v1::GenerateResponse> Generate(
      const tessera::generation::v1::GenerateRequest& request, const RoutedCall& call,
      ServedBy* served);

  // Falls back to the next backend only while nothing was delivered.
  absl::Status GenerateStream(const tessera::generation::v1::GenerateRequest& request,
                              const RoutedCall& call, const StreamCallback& on_chunk,
                              ServedBy* served);

  absl::StatusOr<tessera::generation::v1::EmbedResponse> Embed(
      const tessera::generation::v1::EmbedRequest& request, const RoutedCall& call,
      ServedBy* served);

  bool IsRoute(absl::string_view model) const;
  // The route a request naming `model` takes (the default route for an empty
  // name); empty when it goes to the local engine directly.
  std::string RouteNameFor(absl::string_view model) const;
  // Embeds through the local backend (the engine's embedder, or
  // `embedding_model` when named) with a 10 s limit per call: the router's own
  // embeddings for intents, the semantic cache and guardrails.
  std::shared_ptr<Embedder> LocalEmbedder(const std::string& embedding_model) const;
  // Routes and backends with their circuit state, as ListRoutes reports them.
  std::vector<tessera::gateway::v1::Route> Routes() const;
  std::vector<tessera::gateway::v1::Backend> Backends();
  // Runtime route changes (canary steps, blue/green switches).
  RouteTable* route_table() { return &routes_; }

  // The price of `usage` on `backend` (micro-units; 0 when unpriced).
  int64_t CostMicros(absl::string_view backend, const tessera::common::v1::Usage& usage) const;

  // Backends the checker has taken out are skipped like open circuits (unless
  // every attempt of a call is out). Null: no active checks. Set before serving.
  void SetHealthChecker(const HealthChecker* health) { health_ = health; }
  // Registers the backends that can be probed: grpc backends (grpc.health.v1)
  // and openai backends with a health_path.
  static void AddHealthTargets(const RouterConfig& config, HealthChecker* health,
                               std::shared_ptr<grpc::ChannelCredentials> credentials = nullptr);

  // Embeds intent examples and queries. By default the local backend's Embed
  // (the engine's loaded embedder, or the intent's embedding_model). The
  // classifier is trained on first use, not at Create, since the in-process
  // engine may not serve yet; while the embedder fails (no embedding model
  // loaded) requests go to the intent's default backend, a warning is logged
  // and training is retried at most every 10 s. Set before serving.
  void SetIntentEmbedder(std::shared_ptr<Embedder> embedder);

  // Consulted by canary controllers whose route sets max_quality_drop.
  void SetQualitySignal(std::shared_ptr<QualitySignal> quality);
  // Evaluates every canary now (traffic also evaluates them, at most once per
  // canary_evaluate_every) and applies share changes to the route table.
  void EvaluateCanaries();
  struct CanaryStatus {
    CanaryPhase phase = CanaryPhase::kRamping;
    double share = 0;
    int step = 0;
    std::string rollback_reason;
  };
  // NotFound when `route` has no canary.
  absl::StatusOr<CanaryStatus> Canary(absl::string_view route);

  // Mirrored calls started / dropped because too many were in flight.
  int64_t shadow_calls_started() const;
  int64_t shadow_calls_dropped() const;

 private:
  struct Plan {
    std::string route;
    std::vector<RouteTarget> attempts;
    std::vector<RouteTarget> shadows;
  };
  using Attempt = std::function<absl::Status(ModelBackend& backend, const RouteTarget& target)>;

  ModelRouter(const RouterConfig& config, BackendMap backends, const Clock* clock,
              MetricsRegistry* metrics);
  // `request` (null for embeddings) is what an intent route classifies.
  absl::StatusOr<Plan> PlanFor(absl::string_view model, absl::string_view sticky_key,
                               const tessera::generation::v1::GenerateRequest* request) const;
  // Puts the backend of the request's intent class first.
  void ApplyIntent(const RoutingPolicy& policy, const tessera::generation::v1::GenerateRequest& request,
                   Plan* plan) const;
  // Every target and fallback of the route, cheapest first.
  std::vector<RouteTarget> CheapestAttempts(const RoutingPolicy& policy) const;
  absl::Status RunAttempts(const Plan& plan, const RoutedCall& call, const Attempt& attempt,
                           const std::function<bool()>& may_fall_back, ServedBy* served);
  // One unary call (Generate, Embed) through the plan's backends.
  template <typename Request, typename Response>
  absl::StatusOr<Response> CallUnary(
      const Plan& plan, const Request& request, const RoutedCall& call, ServedBy* served,
      absl::StatusOr<Response> (ModelBackend::*method)(const Request&, const BackendCall&));
  void Mirror(const Plan& plan, const RoutedCall& call,
              const tessera::generation::v1::GenerateRequest& request);
  void Count(const std::string& name, const MetricLabels& labels);
  // Feeds a canary's outcome to its controller and evaluates it when due.
  void RecordForCanary(const std::string& route, const std::string& backend,
                       const absl::Status& status, absl::Duration latency);
  struct CanaryState {
    explicit CanaryState(const CanaryOptions& options, const Clock* clock)
        : controller(options, clock) {}
    CanaryController controller;
    Route base;            // the route as configured
    std::string baseline;  // the backend the canary's quality is compared with
    absl::Mutex mu;
    absl::Time last_evaluated ABSL_GUARDED_BY(mu) = absl::InfinitePast();
    double applied_share ABSL_GUARDED_BY(mu) = -1;
  };
  // Evaluates `state` and puts the route with the controller's share.
  void EvaluateCanary(const std::string& route, CanaryState& state);
  bool AnyHealthy(const std::vector<RouteTarget>& attempts) const;
  struct IntentState {
    IntentOptions options;
    std::shared_ptr<Embedder> embedder;
    absl::Mutex mu;
    std::optional<IntentClassifier> classifier ABSL_GUARDED_BY(mu);
    absl::Time last_failure ABSL_GUARDED_BY(mu) = absl::InfinitePast();
  };
  // The trained classifier, training it first when due; null when it cannot be.
  const IntentClassifier* IntentClassifierFor(const std::string& route, IntentState& state) const;

  const RouterConfig config_;
  BackendMap backends_;
  const Clock* clock_;
  MetricsRegistry* metrics_;
  RouteTable routes_;
  CircuitBreakerRegistry breakers_;
  const HealthChecker* health_ = nullptr;
  std::map<std::string, std::unique_ptr<CanaryState>, std::less<>> canaries_;  // fixed at Create
  std::map<std::string, std::unique_ptr<IntentState>, std::less<>> intents_;   // fixed at Create
  absl::Mutex quality_mu_;
  std::shared_ptr<QualitySignal> quality_ ABSL_GUARDED_BY(quality_mu_);

  // Mirrored calls run on a few worker threads from a bounded queue, so a slow
  // shadow backend never holds up callers or grows without limit.
  void ShadowWorker();
  mutable absl::Mutex shadow_mu_;
  std::deque<std::function<void()>> shadow_queue_ ABSL_GUARDED_BY(shadow_mu_);
  int shadows_running_ ABSL_GUARDED_BY(shadow_mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(shadow_mu_) = false;
  int64_t shadows_started_ ABSL_GUARDED_BY(shadow_mu_) = 0;
  int64_t shadows_dropped_ ABSL_GUARDED_BY(shadow_mu_) = 0;
  std::vector<std::thread> shadow_workers_;
};

}  // namespace tessera::gateway

#endif  // TESSERA_GATEWAY_MODEL_ROUTER_H_

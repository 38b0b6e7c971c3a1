// How a route's traffic is spread over backends:
//  - weighted splits (canary, A/B) with sticky assignment: weighted rendezvous
//    hashing of a user/session key, so a key keeps its target while weights are
//    unchanged, and raising one target's weight only moves keys onto it;
//  - blue/green switches (all weight to one target);
//  - shadow targets (mirrored traffic, responses discarded);
//  - ordered fallbacks;
//  - a canary controller that ramps the canary's share up step by step while its
//    error rate and latency stay within the SLO, and rolls it back otherwise.
// Routes are tessera.gateway.v1.Route messages, as ListRoutes reports them.
#ifndef TESSERA_GATEWAY_ROUTING_POLICY_H_
#define TESSERA_GATEWAY_ROUTING_POLICY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/clock.h"
#include "tessera/gateway/v1/gateway.pb.h"

namespace tessera::gateway {

using tessera::gateway::v1::Route;
using tessera::gateway::v1::RouteTarget;

struct RoutingDecision {
  // Targets to try in order: the picked target, then the route's fallbacks
  // (those that are not the picked target). Callers skip open circuits.
  std::vector<RouteTarget> attempts;
  // Targets that receive a mirrored copy of the request.
  std::vector<RouteTarget> shadows;
};

// An immutable, validated route. Thread-safe.
class RoutingPolicy {
 public:
  // InvalidArgument unless: a name; at least one non-shadow target with positive
  // weight; weights finite and >= 0; backend names non-empty and unique among
  // non-shadow targets; fallbacks non-empty.
  static absl::StatusOr<RoutingPolicy> Create(const Route& route);

  // Picks a target for `sticky_key` (a user or session id). An empty key picks
  // by `random_draw` (uniform in [0, 1); pass a fresh random number).
  RoutingDecision Pick(absl::string_view sticky_key, double random_draw = 0.5) const;

  const Route& route() const { return route_; }

 private:
  explicit RoutingPolicy(Route route);
  Route route_;
  std::vector<RouteTarget> weighted_;  // non-shadow, weight > 0
  std::vector<RouteTarget> shadows_;
};

// Blue/green: returns `route` with all non-shadow weight on `active_backend`
// (weight 1) and 0 on the others. NotFound when it is not a target.
absl::StatusOr<Route> SwitchBlueGreen(const Route& route, absl::string_view active_backend);

// Returns `route` with `backend`'s weight set to `share` (in [0, 1]) and the
// other non-shadow targets given 1 - share, in proportion to their current
// weights (equally when those are all 0). NotFound when it is not a target.
absl::StatusOr<Route> SetTargetShare(const Route& route, absl::string_view backend, double share);

// Routes by name, replaceable at runtime (config reload, canary steps).
class RouteTable {
 public:
  absl::Status Put(const Route& route);
  absl::Status Remove(absl::string_view name);
  // NotFound for an unknown route.
  absl::StatusOr<std::shared_ptr<const RoutingPolicy>> Get(absl::string_view name) const;
  std::vector<Route> List() const;

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<const RoutingPolicy>, std::less<>> routes_
      ABSL_GUARDED_BY(mu_);
};

struct CanaryOptions {
  std::string canary_backend;
  // The canary's share of traffic at each step; the last step (usually 1.0) is
  // full promotion.
  std::vector<double> steps = {0.01, 0.05, 0.25, 0.5, 1.0};
  // A step is held at least this long and until `min_requests` canary outcomes
  // are in before the controller promotes it.
  absl::Duration step_duration = absl::Minutes(5);
  int64_t min_requests = 100;
  // SLO: roll back when the canary's error rate exceeds this, or its latency at
  // `latency_quantile` exceeds `latency_slo`.
  double max_error_rate = 0.02;
  absl::Duration latency_slo = absl::Milliseconds(1000);
  double latency_quantile = 0.95;
  // Errors count toward rollback from this many outcomes on (a few early errors
  // in a small sample should not decide).
  int64_t min_requests_for_rollback = 20;
  // Quality: roll back when the canary's online quality score falls more than
  // this below the baseline's (both from a QualitySignal); < 0: not checked.
  double max_quality_drop = -1;
  // The variant the canary's quality is compared with; empty: the route's
  // first other non-shadow target.
  std::string baseline_backend;
};

// Online quality of a route's variants (e.g. from live LLM-as-judge scores).
// Implementations must be thread-safe.
class QualitySignal {
 public:
  virtual ~QualitySignal() = default;
  // Mean quality score of `variant` (a backend name) on `route`; nullopt while
  // too few samples are in to say.
  virtual std::optional<double> Score(absl::string_view route, absl::string_view variant) = 0;
};

enum class CanaryPhase { kRamping, kPromoted, kRolledBack };

const char* CanaryPhaseName(CanaryPhase phase);

// Drives a canary's share from outcomes. Feed it the canary's outcomes
// (RecordOutcome), call Evaluate() periodically (or after each outcome), and
// apply CanaryShare() to the route with SetTargetShare. Thread-safe.
class CanaryController {
 public:
  explicit CanaryController(CanaryOptions options, const Clock* clock = Clock::Real());

  void RecordOutcome(bool success, absl::Duration latency);

  // Promotes or rolls back when due; true when the share changed. With a
  // quality signal, a canary scoring more than max_quality_drop below the
  // baseline on `route` is rolled back too.
  bool Evaluate(QualitySignal* quality = nullptr, absl::string_view route = "",
                absl::string_view baseline = "");

  // Why the last rollback happened ("error_rate", "latency", "quality"); empty
  // while none happened.
  std::string rollback_reason();

  double CanaryShare();
  const std::string& canary_backend() const { return options_.canary_backend; }
  CanaryPhase phase();
  int step_index();

 private:
  // The SLO the step breaks ("error_rate", "latency"), or empty.
  std::string SloViolationLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StartStepLocked(int index, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const CanaryOptions options_;
  const Clock* clock_;
  absl::Mutex mu_;
  CanaryPhase phase_ ABSL_GUARDED_BY(mu_) = CanaryPhase::kRamping;
  int step_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time step_started_ ABSL_GUARDED_BY(mu_);
  int64_t requests_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t errors_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<double> latencies_ms_ ABSL_GUARDED_BY(mu_);  // this step's
  std::string rollback_reason_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tessera::gateway

#endif  // TESSERA_GATEWAY_ROUTING_POLICY_H_

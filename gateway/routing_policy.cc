#include "gateway/routing_policy.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"

namespace tessera::gateway {
namespace {

// FNV-1a then the splitmix64 finaliser: stable across processes and builds
// (unlike absl::Hash), which sticky routing needs.
uint64_t StableHash(absl::string_view a, absl::string_view b, absl::string_view c) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](absl::string_view part) {
    for (unsigned char byte : part) {
      h ^= byte;
      h *= 1099511628211ull;
    }
    h ^= 0x1f;
    h *= 1099511628211ull;
  };
  mix(a);
  mix(b);
  mix(c);
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

// Uniform in the open interval (0, 1).
double UnitInterval(uint64_t hash) {
  return (static_cast<double>(hash >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

}  // namespace

RoutingPolicy::RoutingPolicy(Route route) : route_(std::move(route)) {
  for (const RouteTarget& target : route_.targets()) {
    if (target.shadow()) {
      shadows_.push_back(target);
    } else if (target.weight() > 0) {
      weighted_.push_back(target);
    }
  }
}

absl::StatusOr<RoutingPolicy> RoutingPolicy::Create(const Route& route) {
  if (route.name().empty()) return absl::InvalidArgumentError("route has no name");
  std::set<std::string> backends;
  double total = 0;
  for (const RouteTarget& target : route.targets()) {
    if (target.backend().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("route \"", route.name(), "\" has a target without a backend"));
    }
    if (!std::isfinite(target.weight()) || target.weight() < 0) {
      return absl::InvalidArgumentError(absl::StrCat("route \"", route.name(), "\": target \"",
                                                     target.backend(),
                                                     "\" has a negative or non-finite weight"));
    }
    if (target.shadow()) continue;
    if (!backends.insert(target.backend()).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "route \"", route.name(), "\" lists backend \"", target.backend(), "\" twice"));
    }
    total += target.weight();
  }
  if (total <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("route \"", route.name(), "\" has no target with a positive weight"));
  }
  for (const std::string& fallback : route.fallbacks()) {
    if (fallback.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("route \"", route.name(), "\" has an empty fallback"));
    }
  }
  return RoutingPolicy(route);
}

RoutingDecision RoutingPolicy::Pick(absl::string_view sticky_key, double random_draw) const {
  const RouteTarget* picked = &weighted_.front();
  if (sticky_key.empty()) {
    // Cumulative weights over a uniform draw.
    double total = 0;
    for (const RouteTarget& target : weighted_) total += target.weight();
    double point = std::clamp(random_draw, 0.0, 1.0) * total;
    for (const RouteTarget& target : weighted_) {
      picked = &target;
      if (point < target.weight()) break;
      point -= target.weight();
    }
  } else {
    // Weighted rendezvous hashing: score = -w / ln(u) is distributed so that the
    // highest score wins with probability w / sum(w).
    double best = -1;
    for (const RouteTarget& target : weighted_) {
      double u = UnitInterval(StableHash(sticky_key, target.backend(), target.model()));
      double score = -target.weight() / std::log(u);
      if (score > best) {
        best = score;
        picked = &target;
      }
    }
  }

  RoutingDecision decision;
  decision.attempts.push_back(*picked);
  std::set<std::string> seen = {picked->backend()};
  for (const std::string& fallback : route_.fallbacks()) {
    if (!seen.insert(fallback).second) continue;
    RouteTarget target;
    target.set_backend(fallback);
    // A fallback that is also a weighted target keeps that target's model.
    for (const RouteTarget& candidate : route_.targets()) {
      if (!candidate.shadow() && candidate.backend() == fallback) target = candidate;
    }
    decision.attempts.push_back(target);
  }
  decision.shadows = shadows_;
  return decision;
}

absl::StatusOr<Route> SwitchBlueGreen(const Route& route, absl::string_view active_backend) {
  return SetTargetShare(route, active_backend, 1.0);
}

absl::StatusOr<Route> SetTargetShare(const Route& route, absl::string_view backend, double share) {
  if (!(share >= 0 && share <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat("share ", share, " is outside [0, 1]"));
  }
  Route out = route;
  RouteTarget* chosen = nullptr;
  double others_total = 0;
  int others = 0;
  for (RouteTarget& target : *out.mutable_targets()) {
    if (target.shadow()) continue;
    if (target.backend() == backend) {
      chosen = &target;
    } else {
      others_total += target.weight();
      ++others;
    }
  }
  if (chosen == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("route \"", route.name(), "\" has no target \"", backend, "\""));
  }
  chosen->set_weight(share);
  for (RouteTarget& target : *out.mutable_targets()) {
    if (target.shadow() || &target == chosen) continue;
    double fraction = others_total > 0 ? target.weight() / others_total : 1.0 / others;
    target.set_weight((1 - share) * fraction);
  }
  return out;
}

absl::Status RouteTable::Put(const Route& route) {
  auto policy = RoutingPolicy::Create(route);
  if (!policy.ok()) return policy.status();
  auto shared = std::make_shared<const RoutingPolicy>(std::move(*policy));
  absl::MutexLock lock(&mu_);
  routes_[route.name()] = std::move(shared);
  return absl::OkStatus();
}

absl::Status RouteTable::Remove(absl::string_view name) {
  absl::MutexLock lock(&mu_);
  auto it = routes_.find(name);
  if (it == routes_.end()) return absl::NotFoundError(absl::StrCat("no route \"", name, "\""));
  routes_.erase(it);
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const RoutingPolicy>> RouteTable::Get(absl::string_view name) const {
  absl::MutexLock lock(&mu_);
  auto it = routes_.find(name);
  if (it == routes_.end()) return absl::NotFoundError(absl::StrCat("no route \"", name, "\""));
  return it->second;
}

std::vector<Route> RouteTable::List() const {
  absl::MutexLock lock(&mu_);
  std::vector<Route> out;
  for (const auto& [name, policy] : routes_) out.push_back(policy->route());
  return out;
}

const char* CanaryPhaseName(CanaryPhase phase) {
  switch (phase) {
    case CanaryPhase::kRamping:
      return "ramping";
    case CanaryPhase::kPromoted:
      return "promoted";
    case CanaryPhase::kRolledBack:
      return "rolled_back";
  }
  return "unknown";
}

CanaryController::CanaryController(CanaryOptions options, const Clock* clock)
    : options_(std::move(options)), clock_(clock) {
  absl::MutexLock lock(&mu_);
  StartStepLocked(0, clock_->Now());
  if (options_.steps.empty()) phase_ = CanaryPhase::kPromoted;
}

void CanaryController::StartStepLocked(int index, absl::Time now) {
  step_ = index;
  step_started_ = now;
  requests_ = 0;
  errors_ = 0;
  latencies_ms_.clear();
  if (index + 1 >= static_cast<int>(options_.steps.size())) phase_ = CanaryPhase::kPromoted;
}

void CanaryController::RecordOutcome(bool success, absl::Duration latency) {
  absl::MutexLock lock(&mu_);
  if (phase_ != CanaryPhase::kRamping) return;
  ++requests_;
  if (!success) ++errors_;
  // Bounded memory: beyond this, the step's quantile uses the first samples.
  if (latencies_ms_.size() < 100000) latencies_ms_.push_back(absl::ToDoubleMilliseconds(latency));
}

std::string CanaryController::SloViolationLocked() const {
  if (requests_ < std::max<int64_t>(1, options_.min_requests_for_rollback)) return "";
  if (static_cast<double>(errors_) / requests_ > options_.max_error_rate) return "error_rate";
  if (latencies_ms_.empty()) return "";
  std::vector<double> sorted = latencies_ms_;
  size_t rank = static_cast<size_t>(std::ceil(options_.latency_quantile * sorted.size()));
  rank = std::clamp<size_t>(rank, 1, sorted.size()) - 1;
  std::nth_element(sorted.begin(), sorted.begin() + rank, sorted.end());
  return sorted[rank] > absl::ToDoubleMilliseconds(options_.latency_slo) ? "latency" : "";
}

bool CanaryController::Evaluate(QualitySignal* quality, absl::string_view route,
                                absl::string_view baseline) {
  // Asked outside the lock: the signal may be slow or take locks of its own.
  std::optional<double> canary_score, baseline_score;
  if (quality != nullptr && options_.max_quality_drop >= 0 && !baseline.empty()) {
    canary_score = quality->Score(route, options_.canary_backend);
    if (canary_score.has_value()) baseline_score = quality->Score(route, baseline);
  }
  absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  if (phase_ != CanaryPhase::kRamping) return false;
  std::string violation = SloViolationLocked();
  if (violation.empty() && canary_score.has_value() && baseline_score.has_value() &&
      *canary_score < *baseline_score - options_.max_quality_drop) {
    violation = "quality";
  }
  if (!violation.empty()) {
    phase_ = CanaryPhase::kRolledBack;
    rollback_reason_ = violation;
    return true;
  }
  if (now - step_started_ >= options_.step_duration && requests_ >= options_.min_requests) {
    StartStepLocked(step_ + 1, now);
    return true;
  }
  return false;
}

std::string CanaryController::rollback_reason() {
  absl::MutexLock lock(&mu_);
  return rollback_reason_;
}

double CanaryController::CanaryShare() {
  absl::MutexLock lock(&mu_);
  if (phase_ == CanaryPhase::kRolledBack || options_.steps.empty()) return 0;
  return options_.steps[step_];
}

CanaryPhase CanaryController::phase() {
  absl::MutexLock lock(&mu_);
  return phase_;
}

int CanaryController::step_index() {
  absl::MutexLock lock(&mu_);
  return step_;
}

}  // namespace tessera::gateway

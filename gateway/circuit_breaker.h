// Per-backend circuit breakers (closed -> open -> half-open -> closed). A
// breaker opens when the failure rate over a rolling time window reaches a
// threshold (given enough calls), rejects calls while open, then lets a few
// probe calls through; their success closes it, a failure re-opens it.
#ifndef TESSERA_GATEWAY_CIRCUIT_BREAKER_H_
#define TESSERA_GATEWAY_CIRCUIT_BREAKER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/clock.h"

namespace tessera::gateway {

struct CircuitBreakerOptions {
  // Outcomes are counted in `window_buckets` slices of `window`.
  absl::Duration window = absl::Seconds(60);
  int window_buckets = 12;
  // Open when failures / calls >= threshold over the window, once there are at
  // least `minimum_calls` calls in it.
  double failure_rate_threshold = 0.5;
  int minimum_calls = 20;
  absl::Duration open_duration = absl::Seconds(30);
  // Concurrent probes admitted while half-open; this many successes close it.
  int half_open_probes = 3;
};

enum class CircuitState { kClosed, kOpen, kHalfOpen };

// "closed", "open", "half_open" (as in tessera.gateway.v1.Backend.circuit_state).
const char* CircuitStateName(CircuitState state);

// Thread-safe. Every call admitted by Allow() must be reported with
// RecordSuccess() or RecordFailure(), or half-open probes are never returned.
class CircuitBreaker {
 public:
  explicit CircuitBreaker(CircuitBreakerOptions options = {}, const Clock* clock = Clock::Real());

  // Whether a call may go to the backend now.
  bool Allow();
  void RecordSuccess();
  void RecordFailure();

  CircuitState state();
  // Failure rate and call count over the current window (0 when empty).
  double FailureRate();
  int64_t CallsInWindow();

 private:
  struct Bucket {
    int64_t epoch = -1;  // which window slice this bucket currently holds
    int64_t successes = 0;
    int64_t failures = 0;
  };

  void Record(bool success);
  void AdvanceLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int64_t EpochOf(absl::Time now) const;
  void SumLocked(absl::Time now, int64_t* successes, int64_t* failures)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void TransitionLocked(CircuitState to, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const CircuitBreakerOptions options_;
  const Clock* clock_;
  const absl::Duration bucket_width_;
  absl::Mutex mu_;
  CircuitState state_ ABSL_GUARDED_BY(mu_) = CircuitState::kClosed;
  absl::Time opened_at_ ABSL_GUARDED_BY(mu_);
  int probes_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  int probe_successes_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<Bucket> buckets_ ABSL_GUARDED_BY(mu_);
};

// One breaker per backend name, created on first use with shared options.
class CircuitBreakerRegistry {
 public:
  explicit CircuitBreakerRegistry(CircuitBreakerOptions options = {},
                                  const Clock* clock = Clock::Real())
      : options_(options), clock_(clock) {}

  // Never null; the pointer stays valid for the registry's lifetime.
  CircuitBreaker* ForBackend(absl::string_view backend);
  // Backend name -> state, for ListRoutes.
  std::map<std::string, CircuitState> States();

 private:
  const CircuitBreakerOptions options_;
  const Clock* clock_;
  absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<CircuitBreaker>, std::less<>> breakers_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace tessera::gateway

#endif  // TESSERA_GATEWAY_CIRCUIT_BREAKER_H_

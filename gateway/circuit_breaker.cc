#include "gateway/circuit_breaker.h"

#include <algorithm>

namespace tessera::gateway {

const char* CircuitStateName(CircuitState state) {
  switch (state) {
    case CircuitState::kClosed:
      return "closed";
    case CircuitState::kOpen:
      return "open";
    case CircuitState::kHalfOpen:
      return "half_open";
  }
  return "unknown";
}

CircuitBreaker::CircuitBreaker(CircuitBreakerOptions options, const Clock* clock)
    : options_([&] {
        options.window_buckets = std::max(1, options.window_buckets);
        options.half_open_probes = std::max(1, options.half_open_probes);
        options.minimum_calls = std::max(1, options.minimum_calls);
        return options;
      }()),
      clock_(clock),
      bucket_width_(options_.window / options_.window_buckets),
      buckets_(options_.window_buckets) {}

int64_t CircuitBreaker::EpochOf(absl::Time now) const {
  absl::Duration remainder;
  return absl::IDivDuration(now - absl::UnixEpoch(), bucket_width_, &remainder);
}

void CircuitBreaker::SumLocked(absl::Time now, int64_t* successes, int64_t* failures) {
  int64_t current = EpochOf(now);
  *successes = 0;
  *failures = 0;
  for (const Bucket& bucket : buckets_) {
    // Only slices inside the window [current - buckets + 1, current] count.
    if (bucket.epoch > current - options_.window_buckets && bucket.epoch <= current) {
      *successes += bucket.successes;
      *failures += bucket.failures;
    }
  }
}

void CircuitBreaker::TransitionLocked(CircuitState to, absl::Time now) {
  state_ = to;
  probes_in_flight_ = 0;
  probe_successes_ = 0;
  if (to == CircuitState::kOpen) opened_at_ = now;
  // Closing starts a fresh window: the failures that opened it are history.
  if (to == CircuitState::kClosed) std::fill(buckets_.begin(), buckets_.end(), Bucket{});
}

void CircuitBreaker::AdvanceLocked(absl::Time now) {
  if (state_ == CircuitState::kOpen && now >= opened_at_ + options_.open_duration) {
    TransitionLocked(CircuitState::kHalfOpen, now);
  }
}

bool CircuitBreaker::Allow() {
  absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  AdvanceLocked(now);
  switch (state_) {
    case CircuitState::kClosed:
      return true;
    case CircuitState::kOpen:
      return false;
    case CircuitState::kHalfOpen:
      if (probes_in_flight_ + probe_successes_ >= options_.half_open_probes) return false;
      ++probes_in_flight_;
      return true;
  }
  return false;
}

void CircuitBreaker::RecordSuccess() { Record(true); }
void CircuitBreaker::RecordFailure() { Record(false); }

void CircuitBreaker::Record(bool success) {
  absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  AdvanceLocked(now);
  switch (state_) {
    case CircuitState::kOpen:
      // Late results of calls admitted before it opened change nothing.
      return;
    case CircuitState::kHalfOpen:
      probes_in_flight_ = std::max(0, probes_in_flight_ - 1);
      if (!success) {
        TransitionLocked(CircuitState::kOpen, now);
      } else if (++probe_successes_ >= options_.half_open_probes) {
        TransitionLocked(CircuitState::kClosed, now);
      }
      return;
    case CircuitState::kClosed: {
      int64_t epoch = EpochOf(now);
      Bucket& bucket = buckets_[static_cast<size_t>(epoch % options_.window_buckets)];
      if (bucket.epoch != epoch) bucket = Bucket{epoch, 0, 0};
      (success ? bucket.successes : bucket.failures) += 1;
      int64_t successes, failures;
      SumLocked(now, &successes, &failures);
      int64_t calls = successes + failures;
      if (calls >= options_.minimum_calls &&
          static_cast<double>(failures) >= options_.failure_rate_threshold * calls) {
        TransitionLocked(CircuitState::kOpen, now);
      }
      return;
    }
  }
}

CircuitState CircuitBreaker::state() {
  absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  AdvanceLocked(now);
  return state_;
}

double CircuitBreaker::FailureRate() {
  absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  int64_t successes, failures;
  SumLocked(now, &successes, &failures);
  return successes + failures == 0 ? 0.0
                                   : static_cast<double>(failures) / (successes + failures);
}

int64_t CircuitBreaker::CallsInWindow() {
  absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  int64_t successes, failures;
  SumLocked(now, &successes, &failures);
  return successes + failures;
}

CircuitBreaker* CircuitBreakerRegistry::ForBackend(absl::string_view backend) {
  absl::MutexLock lock(&mu_);
  auto it = breakers_.find(backend);
  if (it == breakers_.end()) {
    it = breakers_
             .emplace(std::string(backend), std::make_unique<CircuitBreaker>(options_, clock_))
             .first;
  }
  return it->second.get();
}

std::map<std::string, CircuitState> CircuitBreakerRegistry::States() {
  absl::MutexLock lock(&mu_);
  std::map<std::string, CircuitState> states;
  for (const auto& [name, breaker] : breakers_) states[name] = breaker->state();
  return states;
}

}  // namespace tessera::gateway

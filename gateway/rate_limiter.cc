#include "gateway/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace tessera::gateway {

const char* RateLimitReasonName(RateLimitReason reason) {
  switch (reason) {
    case RateLimitReason::kAllowed:
      return "allowed";
    case RateLimitReason::kRequestRate:
      return "requests per minute";
    case RateLimitReason::kTokenRate:
      return "tokens per minute";
    case RateLimitReason::kBudget:
      return "budget";
  }
  return "unknown";
}

void RateLimiter::Bucket::Refill(absl::Time now) {
  if (capacity <= 0) return;
  double elapsed_minutes = absl::ToDoubleMinutes(now - last_refill);
  if (elapsed_minutes > 0) {
    level = std::min(capacity, level + elapsed_minutes * capacity);
  }
  last_refill = std::max(last_refill, now);
}

absl::Duration RateLimiter::Bucket::TimeUntil(double need) const {
  if (level >= need) return absl::ZeroDuration();
  // Refill rate is `capacity` per minute.
  return absl::Minutes((need - level) / capacity);
}

RateLimiter::RateLimiter(TenantLimits default_limits, const Clock* clock)
    : default_limits_(default_limits), clock_(clock) {}

void RateLimiter::ApplyLimits(const TenantLimits& limits, absl::Time now, TenantState* state) {
  state->requests.Refill(now);
  state->tokens.Refill(now);
  auto resize = [now](Bucket* bucket, double capacity) {
    bool was_unlimited = bucket->capacity <= 0;
    bucket->capacity = std::max(0.0, capacity);
    bucket->last_refill = now;
    // A new bucket starts full; an existing one keeps its level.
    if (was_unlimited) bucket->level = bucket->capacity;
    bucket->level = std::min(bucket->level, bucket->capacity);
  };
  resize(&state->requests, limits.requests_per_minute);
  resize(&state->tokens, limits.tokens_per_minute);
  if (state->limits.budget_period != limits.budget_period) state->budget_period_start = now;
  state->limits = limits;
}

void RateLimiter::RollBudgetPeriod(absl::Time now, TenantState* state) {
  absl::Duration period = state->limits.budget_period;
  if (period <= absl::ZeroDuration() || now < state->budget_period_start + period) return;
  // Whole periods elapsed; the new period starts on the period grid.
  absl::Duration remainder;
  int64_t periods = absl::IDivDuration(now - state->budget_period_start, period, &remainder);
  state->budget_period_start += periods * period;
  state->spent_micros = 0;
}

RateLimiter::TenantState& RateLimiter::StateFor(absl::string_view tenant, absl::Time now) {
  auto it = tenants_.find(tenant);
  if (it == tenants_.end()) {
    it = tenants_.emplace(std::string(tenant), TenantState{}).first;
    it->second.budget_period_start = now;
    it->second.limits.budget_period = absl::ZeroDuration();
    auto override_it = overrides_.find(tenant);
    ApplyLimits(override_it != overrides_.end() ? override_it->second : default_limits_, now,
                &it->second);
    it->second.budget_period_start = now;
  }
  TenantState& state = it->second;
  state.requests.Refill(now);
  state.tokens.Refill(now);
  RollBudgetPeriod(now, &state);
  return state;
}

void RateLimiter::SetLimits(absl::string_view tenant, const TenantLimits& limits) {
  absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  overrides_[tenant] = limits;
  auto it = tenants_.find(tenant);
  if (it != tenants_.end()) ApplyLimits(limits, now, &it->second);
}

RateDecision RateLimiter::Acquire(absl::string_view tenant, int64_t estimated_tokens) {
  absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  return AcquireLocked(StateFor(tenant, now), now, /*count_request=*/true, estimated_tokens);
}

RateDecision RateLimiter::AcquireTokens(absl::string_view tenant, int64_t estimated_tokens) {
  absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  return AcquireLocked(StateFor(tenant, now), now, /*count_request=*/false, estimated_tokens);
}

RateDecision RateLimiter::AcquireLocked(TenantState& state, absl::Time now, bool count_request,
                                        int64_t estimated_tokens) {
  RateDecision decision;
  auto deny = [&decision](RateLimitReason reason, absl::Duration wait) {
    decision.allowed = false;
    decision.reason = reason;
    decision.retry_after = wait;
  };

  if (state.limits.budget_micros > 0 && state.spent_micros >= state.limits.budget_micros) {
    deny(RateLimitReason::kBudget,
         state.limits.budget_period > absl::ZeroDuration()
             ? state.budget_period_start + state.limits.budget_period - now
             : absl::InfiniteDuration());
    return decision;
  }
  const bool count = count_request && state.requests.capacity > 0;
  if (count && state.requests.level < 1) {
    deny(RateLimitReason::kRequestRate, state.requests.TimeUntil(1));
    return decision;
  }
  double tokens_needed = 0;
  if (state.tokens.capacity > 0) {
    tokens_needed = std::min<double>(std::max<int64_t>(0, estimated_tokens), state.tokens.capacity);
    if (state.tokens.level < tokens_needed) {
      deny(RateLimitReason::kTokenRate, state.tokens.TimeUntil(tokens_needed));
      return decision;
    }
  }
  if (count) state.requests.level -= 1;
  if (state.tokens.capacity > 0) state.tokens.level -= std::max<int64_t>(0, estimated_tokens);
  return decision;
}

void RateLimiter::Settle(absl::string_view tenant, int64_t estimated_tokens, int64_t actual_tokens,
                         int64_t cost_micros) {
  absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  TenantState& state = StateFor(tenant, now);
  if (state.tokens.capacity > 0) {
    state.tokens.level = std::min(
        state.tokens.capacity,
        state.tokens.level + static_cast<double>(std::max<int64_t>(0, estimated_tokens) -
                                                 std::max<int64_t>(0, actual_tokens)));
  }
  state.spent_micros += std::max<int64_t>(0, cost_micros);
}

int64_t RateLimiter::BudgetMicrosLeft(absl::string_view tenant) {
  absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  TenantState& state = StateFor(tenant, now);
  if (state.limits.budget_micros <= 0) return -1;
  return std::max<int64_t>(0, state.limits.budget_micros - state.spent_micros);
}

}  // namespace tessera::gateway

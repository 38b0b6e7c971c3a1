// Per-tenant admission control: token buckets for requests/minute and
// tokens/minute (LLM tokens), plus a spend budget in micro-units of currency.
// Thread-safe; time comes from an injectable Clock.
#ifndef TESSERA_GATEWAY_RATE_LIMITER_H_
#define TESSERA_GATEWAY_RATE_LIMITER_H_

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/clock.h"

namespace tessera::gateway {

// Zero means "unlimited" for every field.
struct TenantLimits {
  // Sustained rates; a bucket holds one minute's worth, so bursts up to the
  // per-minute limit pass at once.
  double requests_per_minute = 0;
  double tokens_per_minute = 0;
  // Spend allowed per budget period (cost_micros from Usage).
  int64_t budget_micros = 0;
  // The budget resets this long after the period began; zero: never resets.
  absl::Duration budget_period = absl::ZeroDuration();
};

enum class RateLimitReason { kAllowed, kRequestRate, kTokenRate, kBudget };

struct RateDecision {
  bool allowed = true;
  RateLimitReason reason = RateLimitReason::kAllowed;
  // When denied: how long until the same request would pass (InfiniteDuration
  // for an exhausted budget that never resets). Rounded up for Retry-After.
  absl::Duration retry_after = absl::ZeroDuration();
};

// "requests per minute", ... for error messages and metrics labels.
const char* RateLimitReasonName(RateLimitReason reason);

class RateLimiter {
 public:
  explicit RateLimiter(TenantLimits default_limits, const Clock* clock = Clock::Real());

  // Overrides the defaults for one tenant. Buckets keep their level (clamped to
  // the new capacity), so changing limits never grants a fresh burst.
  void SetLimits(absl::string_view tenant, const TenantLimits& limits);

  // Admits one request expected to use `estimated_tokens` (prompt + max output),
  // consuming from every bucket only if all of them allow it. A request larger
  // than the whole token bucket passes once the bucket is full (and leaves the
  // bucket in debt), so it is throttled rather than refused forever.
  RateDecision Acquire(absl::string_view tenant, int64_t estimated_tokens);

  // Admits the tokens of a request that Acquire() already counted (with 0
  // tokens) at the front door, once its size is known: the budget and the
  // token bucket only, never the request bucket.
  RateDecision AcquireTokens(absl::string_view tenant, int64_t estimated_tokens);

  // Settles a finished request: corrects the token bucket by the difference
  // between actual and estimated tokens and charges the cost to the budget.
  void Settle(absl::string_view tenant, int64_t estimated_tokens, int64_t actual_tokens,
              int64_t cost_micros);

  // Budget left in the current period; -1 when the tenant has no budget.
  int64_t BudgetMicrosLeft(absl::string_view tenant);

 private:
  struct Bucket {
    double level = 0;     // may go negative (debt) after Settle
    double capacity = 0;  // 0: unlimited
    absl::Time last_refill;
    void Refill(absl::Time now);
    // Time until the level reaches `need` (<= capacity).
    absl::Duration TimeUntil(double need) const;
  };
  struct TenantState {
    TenantLimits limits;
    Bucket requests;
    Bucket tokens;
    int64_t spent_micros = 0;
    absl::Time budget_period_start;
  };

  TenantState& StateFor(absl::string_view tenant, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  RateDecision AcquireLocked(TenantState& state, absl::Time now, bool count_request,
                             int64_t estimated_tokens) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static void ApplyLimits(const TenantLimits& limits, absl::Time now, TenantState* state);
  static void RollBudgetPeriod(absl::Time now, TenantState* state);

  const TenantLimits default_limits_;
  const Clock* clock_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, TenantLimits> overrides_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, TenantState> tenants_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tessera::gateway

#endif  // TESSERA_GATEWAY_RATE_LIMITER_H_

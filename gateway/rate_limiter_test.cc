#include "gateway/rate_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace tessera::gateway {
namespace {

TEST(RateLimiterTest, RequestBucketAllowsBurstThenRefillsAtRate) {
  FakeClock clock;
  RateLimiter limiter({.requests_per_minute = 60}, &clock);
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(limiter.Acquire("t", 0).allowed) << i;
  RateDecision denied = limiter.Acquire("t", 0);
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.reason, RateLimitReason::kRequestRate);
  // 60/min refills one request per second.
  EXPECT_EQ(denied.retry_after, absl::Seconds(1));
  clock.Advance(absl::Milliseconds(500));
  EXPECT_EQ(limiter.Acquire("t", 0).retry_after, absl::Milliseconds(500));
  clock.Advance(absl::Milliseconds(500));
  EXPECT_TRUE(limiter.Acquire("t", 0).allowed);
  EXPECT_FALSE(limiter.Acquire("t", 0).allowed);
  // A full minute refills the whole bucket but never beyond it.
  clock.Advance(absl::Minutes(10));
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(limiter.Acquire("t", 0).allowed) << i;
  EXPECT_FALSE(limiter.Acquire("t", 0).allowed);
}

TEST(RateLimiterTest, AcquireTokensLeavesTheRequestBucketAlone) {
  FakeClock clock;
  RateLimiter limiter({.requests_per_minute = 2, .tokens_per_minute = 100}, &clock);
  ASSERT_TRUE(limiter.Acquire("t", 0).allowed);
  // The token check of an admitted request does not count as a second request.
  ASSERT_TRUE(limiter.AcquireTokens("t", 60).allowed);
  ASSERT_TRUE(limiter.Acquire("t", 0).allowed);
  RateDecision denied = limiter.AcquireTokens("t", 60);
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.reason, RateLimitReason::kTokenRate);
  EXPECT_FALSE(limiter.Acquire("t", 0).allowed);
}

TEST(RateLimiterTest, TokenBucketComputesRetryAfterFromShortfall) {
  FakeClock clock;
  RateLimiter limiter({.tokens_per_minute = 1000}, &clock);
  EXPECT_TRUE(limiter.Acquire("t", 600).allowed);
  RateDecision denied = limiter.Acquire("t", 600);
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.reason, RateLimitReason::kTokenRate);
  // 400 left, 600 needed: 200 tokens at 1000/min is 12 s.
  EXPECT_EQ(denied.retry_after, absl::Seconds(12));
  clock.Advance(absl::Seconds(12));
  EXPECT_TRUE(limiter.Acquire("t", 600).allowed);
}

TEST(RateLimiterTest, SettleRefundsUnusedTokens) {
  FakeClock clock;
  RateLimiter limiter({.tokens_per_minute = 1000}, &clock);
  ASSERT_TRUE(limiter.Acquire("t", 800).allowed);
  EXPECT_FALSE(limiter.Acquire("t", 300).allowed);
  limiter.Settle("t", /*estimated_tokens=*/800, /*actual_tokens=*/100, /*cost_micros=*/0);
  // 200 + 700 refunded = 900.
  EXPECT_TRUE(limiter.Acquire("t", 900).allowed);
  EXPECT_FALSE(limiter.Acquire("t", 1).allowed);
}

TEST(RateLimiterTest, OversizedRequestPassesWhenFullAndLeavesDebt) {
  FakeClock clock;
  RateLimiter limiter({.tokens_per_minute = 1000}, &clock);
  EXPECT_TRUE(limiter.Acquire("t", 5000).allowed);
  RateDecision denied = limiter.Acquire("t", 1);
  EXPECT_FALSE(denied.allowed);
  // Level -4000; 4001 tokens at 1000/min = 240.06 s.
  EXPECT_EQ(denied.retry_after, absl::Milliseconds(240060));
}

TEST(RateLimiterTest, DeniedRequestConsumesNothing) {
  FakeClock clock;
  RateLimiter limiter({.requests_per_minute = 10, .tokens_per_minute = 100}, &clock);
  ASSERT_TRUE(limiter.Acquire("t", 100).allowed);
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(limiter.Acquire("t", 50).allowed);
  // The 20 denials took no requests from the request bucket: 9 remain.
  for (int i = 0; i < 9; ++i) EXPECT_TRUE(limiter.Acquire("t", 0).allowed) << i;
  EXPECT_EQ(limiter.Acquire("t", 0).reason, RateLimitReason::kRequestRate);
}

TEST(RateLimiterTest, BudgetDeniesUntilPeriodRolls) {
  FakeClock clock;
  RateLimiter limiter({}, &clock);
  limiter.SetLimits("acme", {.budget_micros = 1000, .budget_period = absl::Hours(1)});
  EXPECT_EQ(limiter.BudgetMicrosLeft("acme"), 1000);
  EXPECT_EQ(limiter.BudgetMicrosLeft("other"), -1);
  ASSERT_TRUE(limiter.Acquire("acme", 10).allowed);
  limiter.Settle("acme", 10, 10, 600);
  EXPECT_EQ(limiter.BudgetMicrosLeft("acme"), 400);
  ASSERT_TRUE(limiter.Acquire("acme", 10).allowed);
  limiter.Settle("acme", 10, 10, 500);
  EXPECT_EQ(limiter.BudgetMicrosLeft("acme"), 0);
  clock.Advance(absl::Minutes(20));
  RateDecision denied = limiter.Acquire("acme", 10);
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.reason, RateLimitReason::kBudget);
  EXPECT_EQ(denied.retry_after, absl::Minutes(40));
  clock.Advance(absl::Minutes(40));
  EXPECT_TRUE(limiter.Acquire("acme", 10).allowed);
  EXPECT_EQ(limiter.BudgetMicrosLeft("acme"), 1000);
}

TEST(RateLimiterTest, BudgetWithoutPeriodNeverResets) {
  FakeClock clock;
  RateLimiter limiter({.budget_micros = 100}, &clock);
  limiter.Settle("t", 0, 0, 100);
  clock.Advance(absl::Hours(24 * 365));
  RateDecision denied = limiter.Acquire("t", 0);
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.retry_after, absl::InfiniteDuration());
}

TEST(RateLimiterTest, TenantsAreIsolatedAndOverridesApply) {
  FakeClock clock;
  RateLimiter limiter({.requests_per_minute = 1}, &clock);
  limiter.SetLimits("big", {.requests_per_minute = 3});
  EXPECT_TRUE(limiter.Acquire("a", 0).allowed);
  EXPECT_FALSE(limiter.Acquire("a", 0).allowed);
  EXPECT_TRUE(limiter.Acquire("b", 0).allowed);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Acquire("big", 0).allowed);
  EXPECT_FALSE(limiter.Acquire("big", 0).allowed);
  // Raising the limit keeps the (empty) level: no fresh burst.
  limiter.SetLimits("big", {.requests_per_minute = 600});
  EXPECT_FALSE(limiter.Acquire("big", 0).allowed);
  clock.Advance(absl::Milliseconds(100));  // 600/min = 1 per 100 ms
  EXPECT_TRUE(limiter.Acquire("big", 0).allowed);
}

TEST(RateLimiterTest, ConcurrentAcquiresNeverOverAdmit) {
  FakeClock clock;  // frozen: no refill during the test
  RateLimiter limiter({.requests_per_minute = 1000}, &clock);
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        if (limiter.Acquire("t", 0).allowed) allowed.fetch_add(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(allowed.load(), 1000);
}

}  // namespace
}  // namespace tessera::gateway

#include "gateway/circuit_breaker.h"

#include <gtest/gtest.h>

namespace tessera::gateway {
namespace {

CircuitBreakerOptions TestOptions() {
  return {.window = absl::Seconds(10),
          .window_buckets = 10,
          .failure_rate_threshold = 0.5,
          .minimum_calls = 10,
          .open_duration = absl::Seconds(30),
          .half_open_probes = 2};
}

TEST(CircuitBreakerTest, OpensAtFailureRateThresholdOnlyWithEnoughCalls) {
  FakeClock clock;
  CircuitBreaker breaker(TestOptions(), &clock);
  // 5 failures alone: below minimum_calls, stays closed.
  for (int i = 0; i < 5; ++i) breaker.RecordFailure();
  EXPECT_EQ(breaker.state(), CircuitState::kClosed);
  // 4 successes: 9 calls, still below the minimum.
  for (int i = 0; i < 4; ++i) breaker.RecordSuccess();
  EXPECT_EQ(breaker.state(), CircuitState::kClosed);
  EXPECT_DOUBLE_EQ(breaker.FailureRate(), 5.0 / 9.0);
  // The 10th call (a success): 5/10 = 0.5 >= threshold.
  breaker.RecordSuccess();
  EXPECT_EQ(breaker.state(), CircuitState::kOpen);
  EXPECT_FALSE(breaker.Allow());
}

TEST(CircuitBreakerTest, StaysClosedBelowThreshold) {
  FakeClock clock;
  CircuitBreaker breaker(TestOptions(), &clock);
  for (int i = 0; i < 100; ++i) {
    if (i % 3 == 0) {
      breaker.RecordFailure();  // 34% failures
    } else {
      breaker.RecordSuccess();
    }
  }
  EXPECT_EQ(breaker.state(), CircuitState::kClosed);
  EXPECT_TRUE(breaker.Allow());
}

TEST(CircuitBreakerTest, OldOutcomesLeaveTheRollingWindow) {
  FakeClock clock;
  CircuitBreaker breaker(TestOptions(), &clock);
  for (int i = 0; i < 9; ++i) breaker.RecordFailure();
  EXPECT_EQ(breaker.CallsInWindow(), 9);
  clock.Advance(absl::Seconds(5));
  EXPECT_EQ(breaker.CallsInWindow(), 9);
  clock.Advance(absl::Seconds(6));  // 11 s later: all 9 are outside the 10 s window
  EXPECT_EQ(breaker.CallsInWindow(), 0);
  breaker.RecordFailure();
  EXPECT_EQ(breaker.state(), CircuitState::kClosed);  // 1 call, not 10
}

TEST(CircuitBreakerTest, HalfOpenProbesCloseOnSuccess) {
  FakeClock clock;
  CircuitBreaker breaker(TestOptions(), &clock);
  for (int i = 0; i < 10; ++i) breaker.RecordFailure();
  ASSERT_EQ(breaker.state(), CircuitState::kOpen);
  clock.Advance(absl::Seconds(29));
  EXPECT_FALSE(breaker.Allow());
  clock.Advance(absl::Seconds(1));
  EXPECT_EQ(breaker.state(), CircuitState::kHalfOpen);
  // Two probes admitted, the third waits.
  EXPECT_TRUE(breaker.Allow());
  EXPECT_TRUE(breaker.Allow());
  EXPECT_FALSE(breaker.Allow());
  breaker.RecordSuccess();
  EXPECT_EQ(breaker.state(), CircuitState::kHalfOpen);
  EXPECT_FALSE(breaker.Allow());  // one in flight + one success = 2 used
  breaker.RecordSuccess();
  EXPECT_EQ(breaker.state(), CircuitState::kClosed);
  EXPECT_EQ(breaker.CallsInWindow(), 0);
  EXPECT_TRUE(breaker.Allow());
}

TEST(CircuitBreakerTest, HalfOpenFailureReopensForAnotherPeriod) {
  FakeClock clock;
  CircuitBreaker breaker(TestOptions(), &clock);
  for (int i = 0; i < 10; ++i) breaker.RecordFailure();
  clock.Advance(absl::Seconds(30));
  ASSERT_TRUE(breaker.Allow());
  breaker.RecordFailure();
  EXPECT_EQ(breaker.state(), CircuitState::kOpen);
  clock.Advance(absl::Seconds(29));
  EXPECT_EQ(breaker.state(), CircuitState::kOpen);
  clock.Advance(absl::Seconds(1));
  EXPECT_EQ(breaker.state(), CircuitState::kHalfOpen);
}

TEST(CircuitBreakerTest, RegistryKeepsOneBreakerPerBackend) {
  FakeClock clock;
  CircuitBreakerRegistry registry(TestOptions(), &clock);
  CircuitBreaker* a = registry.ForBackend("a");
  EXPECT_EQ(registry.ForBackend("a"), a);
  for (int i = 0; i < 10; ++i) a->RecordFailure();
  registry.ForBackend("b")->RecordSuccess();
  auto states = registry.States();
  EXPECT_EQ(states["a"], CircuitState::kOpen);
  EXPECT_EQ(states["b"], CircuitState::kClosed);
  EXPECT_STREQ(CircuitStateName(states["a"]), "open");
  EXPECT_STREQ(CircuitStateName(CircuitState::kHalfOpen), "half_open");
}

}  // namespace
}  // namespace tessera::gateway

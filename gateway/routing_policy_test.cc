#include "gateway/routing_policy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"

namespace tessera::gateway {
namespace {

Route MakeRoute(std::vector<std::pair<std::string, double>> weights,
                std::vector<std::string> fallbacks = {}, std::vector<std::string> shadows = {}) {
  Route route;
  route.set_name("chat");
  for (const auto& [backend, weight] : weights) {
    RouteTarget* target = route.add_targets();
    target->set_backend(backend);
    target->set_model(backend + "-model");
    target->set_weight(weight);
  }
  for (const auto& shadow : shadows) {
    RouteTarget* target = route.add_targets();
    target->set_backend(shadow);
    target->set_shadow(true);
  }
  for (const auto& fallback : fallbacks) route.add_fallbacks(fallback);
  return route;
}

std::string Key(int i) { return absl::StrCat("user-", i); }

TEST(RoutingPolicyTest, RejectsInvalidRoutes) {
  EXPECT_FALSE(RoutingPolicy::Create(Route()).ok());
  EXPECT_FALSE(RoutingPolicy::Create(MakeRoute({{"a", 0}})).ok());
  EXPECT_FALSE(RoutingPolicy::Create(MakeRoute({{"a", -1}, {"b", 2}})).ok());
  EXPECT_FALSE(RoutingPolicy::Create(MakeRoute({{"a", NAN}})).ok());
  EXPECT_FALSE(RoutingPolicy::Create(MakeRoute({{"a", 1}, {"a", 1}})).ok());
  EXPECT_FALSE(RoutingPolicy::Create(MakeRoute({{"", 1}})).ok());
  EXPECT_FALSE(RoutingPolicy::Create(MakeRoute({{"a", 1}}, {""})).ok());
  // Only shadows: nothing to serve.
  EXPECT_FALSE(RoutingPolicy::Create(MakeRoute({}, {}, {"s"})).ok());
  EXPECT_TRUE(RoutingPolicy::Create(MakeRoute({{"a", 1}, {"b", 0}})).ok());
}

TEST(RoutingPolicyTest, StickyKeysAlwaysLandOnTheSameTarget) {
  auto policy = RoutingPolicy::Create(MakeRoute({{"a", 1}, {"b", 1}, {"c", 1}}));
  auto rebuilt = RoutingPolicy::Create(MakeRoute({{"a", 1}, {"b", 1}, {"c", 1}}));
  ASSERT_TRUE(policy.ok() && rebuilt.ok());
  for (int i = 0; i < 1000; ++i) {
    std::string first = policy->Pick(Key(i)).attempts[0].backend();
    EXPECT_EQ(policy->Pick(Key(i)).attempts[0].backend(), first);
    EXPECT_EQ(rebuilt->Pick(Key(i)).attempts[0].backend(), first);
  }
}

TEST(RoutingPolicyTest, ProportionsFollowWeightsOverTenThousandKeys) {
  auto policy = RoutingPolicy::Create(MakeRoute({{"stable", 70}, {"b", 20}, {"canary", 10}}));
  ASSERT_TRUE(policy.ok());
  std::map<std::string, int> counts;
  constexpr int kKeys = 10000;
  for (int i = 0; i < kKeys; ++i) ++counts[policy->Pick(Key(i)).attempts[0].backend()];
  // Binomial standard deviation is at most 0.46% here; 2% is over 4 sigma.
  EXPECT_NEAR(counts["stable"] / double(kKeys), 0.70, 0.02);
  EXPECT_NEAR(counts["b"] / double(kKeys), 0.20, 0.02);
  EXPECT_NEAR(counts["canary"] / double(kKeys), 0.10, 0.02);
  EXPECT_EQ(counts["stable"] + counts["b"] + counts["canary"], kKeys);
}

TEST(RoutingPolicyTest, RaisingCanaryWeightOnlyMovesKeysOntoCanary) {
  auto before = RoutingPolicy::Create(MakeRoute({{"stable", 95}, {"canary", 5}}));
  auto after = RoutingPolicy::Create(MakeRoute({{"stable", 90}, {"canary", 10}}));
  ASSERT_TRUE(before.ok() && after.ok());
  int moved = 0;
  for (int i = 0; i < 10000; ++i) {
    std::string was = before->Pick(Key(i)).attempts[0].backend();
    std::string now = after->Pick(Key(i)).attempts[0].backend();
    if (was == "canary") {
      EXPECT_EQ(now, "canary") << Key(i);
    }
    if (was != now) ++moved;
  }
  // About 5% of keys move (stable -> canary), none the other way.
  EXPECT_NEAR(moved / 10000.0, 0.05, 0.015);
}

TEST(RoutingPolicyTest, EmptyKeyUsesTheRandomDraw) {
  auto policy = RoutingPolicy::Create(MakeRoute({{"a", 3}, {"b", 1}}));
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ(policy->Pick("", 0.0).attempts[0].backend(), "a");
  EXPECT_EQ(policy->Pick("", 0.74).attempts[0].backend(), "a");
  EXPECT_EQ(policy->Pick("", 0.75).attempts[0].backend(), "b");
  EXPECT_EQ(policy->Pick("", 0.999).attempts[0].backend(), "b");
}

TEST(RoutingPolicyTest, FallbacksFollowThePickAndShadowsMirror) {
  auto policy =
      RoutingPolicy::Create(MakeRoute({{"primary", 1}, {"secondary", 0}}, {"secondary", "primary", "openai"},
                                      {"shadow-new"}));
  ASSERT_TRUE(policy.ok());
  for (int i = 0; i < 100; ++i) {
    RoutingDecision decision = policy->Pick(Key(i));
    ASSERT_EQ(decision.attempts.size(), 3u);
    EXPECT_EQ(decision.attempts[0].backend(), "primary");
    EXPECT_EQ(decision.attempts[0].model(), "primary-model");
    EXPECT_EQ(decision.attempts[1].backend(), "secondary");
    EXPECT_EQ(decision.attempts[1].model(), "secondary-model");
    EXPECT_EQ(decision.attempts[2].backend(), "openai");
    EXPECT_EQ(decision.attempts[2].model(), "");
    ASSERT_EQ(decision.shadows.size(), 1u);
    EXPECT_EQ(decision.shadows[0].backend(), "shadow-new");
  }
}

TEST(RoutingPolicyTest, BlueGreenSwitchMovesEveryKey) {
  Route route = MakeRoute({{"blue", 1}, {"green", 0}}, {}, {"mirror"});
  auto green = SwitchBlueGreen(route, "green");
  ASSERT_TRUE(green.ok());
  EXPECT_EQ(green->targets(0).weight(), 0);
  EXPECT_EQ(green->targets(1).weight(), 1);
  EXPECT_TRUE(green->targets(2).shadow());
  auto blue_policy = RoutingPolicy::Create(route);
  auto green_policy = RoutingPolicy::Create(*green);
  ASSERT_TRUE(blue_policy.ok() && green_policy.ok());
  for (int i = 0; i < 500; ++i) {
    EXPECT_EQ(blue_policy->Pick(Key(i)).attempts[0].backend(), "blue");
    EXPECT_EQ(green_policy->Pick(Key(i)).attempts[0].backend(), "green");
  }
  EXPECT_EQ(SwitchBlueGreen(route, "purple").status().code(), absl::StatusCode::kNotFound);
}

TEST(RoutingPolicyTest, SetTargetShareRescalesOthers) {
  Route route = MakeRoute({{"a", 60}, {"b", 20}, {"canary", 20}});
  auto out = SetTargetShare(route, "canary", 0.5);
  ASSERT_TRUE(out.ok());
  EXPECT_DOUBLE_EQ(out->targets(0).weight(), 0.375);  // 0.5 * 60/80
  EXPECT_DOUBLE_EQ(out->targets(1).weight(), 0.125);  // 0.5 * 20/80
  EXPECT_DOUBLE_EQ(out->targets(2).weight(), 0.5);
  // From full promotion back to 0: the others share equally.
  auto all = SetTargetShare(route, "canary", 1.0);
  auto none = SetTargetShare(*all, "canary", 0.0);
  ASSERT_TRUE(none.ok());
  EXPECT_DOUBLE_EQ(none->targets(0).weight(), 0.5);
  EXPECT_DOUBLE_EQ(none->targets(1).weight(), 0.5);
  EXPECT_FALSE(SetTargetShare(route, "canary", 1.5).ok());
}

TEST(RouteTableTest, PutGetListRemove) {
  RouteTable table;
  EXPECT_FALSE(table.Put(MakeRoute({{"a", 0}})).ok());
  ASSERT_TRUE(table.Put(MakeRoute({{"a", 1}})).ok());
  auto policy = table.Get("chat");
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ((*policy)->Pick("k").attempts[0].backend(), "a");
  ASSERT_TRUE(table.Put(MakeRoute({{"b", 1}})).ok());  // replace
  EXPECT_EQ((*table.Get("chat"))->Pick("k").attempts[0].backend(), "b");
  // The old snapshot stays usable by requests in flight.
  EXPECT_EQ((*policy)->Pick("k").attempts[0].backend(), "a");
  EXPECT_EQ(table.List().size(), 1u);
  EXPECT_TRUE(table.Remove("chat").ok());
  EXPECT_EQ(table.Get("chat").status().code(), absl::StatusCode::kNotFound);
}

CanaryOptions RampOptions() {
  CanaryOptions options;
  options.canary_backend = "canary";
  options.steps = {0.1, 0.5, 1.0};
  options.step_duration = absl::Minutes(5);
  options.min_requests = 100;
  options.max_error_rate = 0.02;
  options.latency_slo = absl::Milliseconds(500);
  options.latency_quantile = 0.95;
  options.min_requests_for_rollback = 20;
  return options;
}

TEST(CanaryControllerTest, RampsUpWhileHealthyAndPromotes) {
  FakeClock clock;
  CanaryController canary(RampOptions(), &clock);
  EXPECT_DOUBLE_EQ(canary.CanaryShare(), 0.1);
  for (int i = 0; i < 100; ++i) canary.RecordOutcome(true, absl::Milliseconds(100));
  EXPECT_FALSE(canary.Evaluate());  // enough requests, but the step is too young
  clock.Advance(absl::Minutes(5));
  EXPECT_TRUE(canary.Evaluate());
  EXPECT_DOUBLE_EQ(canary.CanaryShare(), 0.5);
  EXPECT_EQ(canary.phase(), CanaryPhase::kRamping);
  // A new step starts with fresh counts: time alone does not promote it.
  clock.Advance(absl::Minutes(10));
  EXPECT_FALSE(canary.Evaluate());
  for (int i = 0; i < 99; ++i) canary.RecordOutcome(true, absl::Milliseconds(100));
  EXPECT_FALSE(canary.Evaluate());
  canary.RecordOutcome(true, absl::Milliseconds(100));
  EXPECT_TRUE(canary.Evaluate());
  EXPECT_DOUBLE_EQ(canary.CanaryShare(), 1.0);
  EXPECT_EQ(canary.phase(), CanaryPhase::kPromoted);

  // Applied to a route: all traffic on the canary.
  auto route = SetTargetShare(MakeRoute({{"stable", 1}, {"canary", 0}}), "canary",
                              canary.CanaryShare());
  ASSERT_TRUE(route.ok());
  auto policy = RoutingPolicy::Create(*route);
  ASSERT_TRUE(policy.ok());
  for (int i = 0; i < 100; ++i) EXPECT_EQ(policy->Pick(Key(i)).attempts[0].backend(), "canary");
}

TEST(CanaryControllerTest, RollsBackOnErrorRate) {
  FakeClock clock;
  CanaryController canary(RampOptions(), &clock);
  for (int i = 0; i < 100; ++i) canary.RecordOutcome(true, absl::Milliseconds(100));
  clock.Advance(absl::Minutes(5));
  ASSERT_TRUE(canary.Evaluate());
  ASSERT_DOUBLE_EQ(canary.CanaryShare(), 0.5);
  // 2 errors in 100 = 2%: at the limit, not over it.
  for (int i = 0; i < 98; ++i) canary.RecordOutcome(true, absl::Milliseconds(100));
  for (int i = 0; i < 2; ++i) canary.RecordOutcome(false, absl::Milliseconds(100));
  EXPECT_FALSE(canary.Evaluate());
  canary.RecordOutcome(false, absl::Milliseconds(100));  // 3/101 > 2%
  EXPECT_TRUE(canary.Evaluate());
  EXPECT_EQ(canary.phase(), CanaryPhase::kRolledBack);
  EXPECT_DOUBLE_EQ(canary.CanaryShare(), 0.0);
  // Terminal: later good outcomes do not resurrect it.
  for (int i = 0; i < 500; ++i) canary.RecordOutcome(true, absl::Milliseconds(1));
  clock.Advance(absl::Hours(1));
  EXPECT_FALSE(canary.Evaluate());
  EXPECT_DOUBLE_EQ(canary.CanaryShare(), 0.0);
}

TEST(CanaryControllerTest, RollsBackOnLatencyQuantile) {
  FakeClock clock;
  CanaryController canary(RampOptions(), &clock);
  // p95 of 100 samples is the 95th smallest: with 4 slow ones it is still fast.
  for (int i = 0; i < 96; ++i) canary.RecordOutcome(true, absl::Milliseconds(200));
  for (int i = 0; i < 4; ++i) canary.RecordOutcome(true, absl::Milliseconds(2000));
  EXPECT_FALSE(canary.Evaluate());
  EXPECT_EQ(canary.phase(), CanaryPhase::kRamping);
  // Two more slow ones: 6 of 102, rank ceil(0.95*102) = 97 is slow.
  canary.RecordOutcome(true, absl::Milliseconds(2000));
  canary.RecordOutcome(true, absl::Milliseconds(2000));
  EXPECT_TRUE(canary.Evaluate());
  EXPECT_EQ(canary.phase(), CanaryPhase::kRolledBack);
}

TEST(CanaryControllerTest, SmallSamplesDoNotDecide) {
  FakeClock clock;
  CanaryController canary(RampOptions(), &clock);
  canary.RecordOutcome(false, absl::Milliseconds(100));
  for (int i = 0; i < 18; ++i) canary.RecordOutcome(true, absl::Milliseconds(100));
  EXPECT_FALSE(canary.Evaluate());  // 19 outcomes < 20
  canary.RecordOutcome(true, absl::Milliseconds(100));
  EXPECT_TRUE(canary.Evaluate());  // 1/20 = 5% > 2%
  EXPECT_EQ(canary.phase(), CanaryPhase::kRolledBack);
}

}  // namespace
}  // namespace tessera::gateway

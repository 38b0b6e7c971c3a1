#include "common/metrics.h"

#include "gtest/gtest.h"

namespace tessera {
namespace {

TEST(MetricsTest, RendersCountersGaugesAndHistograms) {
  MetricsRegistry registry;
  registry.Describe("rpc_total", "RPCs handled.");
  registry.IncrementCounter("rpc_total", {{"code", "OK"}, {"method", "/a/B"}});
  registry.IncrementCounter("rpc_total", {{"code", "OK"}, {"method", "/a/B"}}, 2);
  registry.SetGauge("queue_length", {}, 7);
  registry.ObserveSeconds("latency_seconds", {{"method", "m"}}, 0.003);
  registry.ObserveSeconds("latency_seconds", {{"method", "m"}}, 2);
  const std::string text = registry.RenderPrometheus();
  EXPECT_NE(text.find("# HELP rpc_total RPCs handled.\n# TYPE rpc_total counter\n"),
            std::string::npos);
  EXPECT_NE(text.find("rpc_total{code=\"OK\",method=\"/a/B\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("queue_length 7\n"), std::string::npos);
  EXPECT_NE(text.find("latency_seconds_bucket{method=\"m\",le=\"0.0025\"} 0\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("latency_seconds_bucket{method=\"m\",le=\"0.005\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("latency_seconds_bucket{method=\"m\",le=\"+Inf\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("latency_seconds_count{method=\"m\"} 2\n"), std::string::npos);
}

TEST(MetricsTest, EscapesLabelValues) {
  MetricsRegistry registry;
  registry.IncrementCounter("c", {{"v", "a\"b\\c"}});
  EXPECT_NE(registry.RenderPrometheus().find("c{v=\"a\\\"b\\\\c\"} 1"), std::string::npos);
}

}  // namespace
}  // namespace tessera

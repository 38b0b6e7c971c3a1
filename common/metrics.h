// Process metrics in the Prometheus text format: counters and latency histograms
// keyed by name and labels. Thread-safe; cheap enough for every RPC.
#ifndef TESSERA_COMMON_METRICS_H_
#define TESSERA_COMMON_METRICS_H_

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace tessera {

// Label name -> value, rendered in key order.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class MetricsRegistry {
 public:
  // The registry that /metrics serves.
  static MetricsRegistry& Global();

  void Describe(const std::string& name, const std::string& help);
  void IncrementCounter(const std::string& name, const MetricLabels& labels, double by = 1);
  void SetGauge(const std::string& name, const MetricLabels& labels, double value);
  // Records a duration (seconds) in a histogram with fixed latency buckets.
  void ObserveSeconds(const std::string& name, const MetricLabels& labels, double seconds);

  // The whole registry in the Prometheus text exposition format (version 0.0.4).
  std::string RenderPrometheus() const;

  static constexpr std::array<double, 12> kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5};

 private:
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> buckets{};
    uint64_t count = 0;
    double sum = 0;
  };
  using Key = std::pair<std::string, MetricLabels>;

  mutable absl::Mutex mu_;
  std::map<std::string, std::string> help_ ABSL_GUARDED_BY(mu_);
  std::map<Key, double> counters_ ABSL_GUARDED_BY(mu_);
  std::map<Key, double> gauges_ ABSL_GUARDED_BY(mu_);
  std::map<Key, Histogram> histograms_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tessera

#endif  // TESSERA_COMMON_METRICS_H_

#include "common/metrics.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace tessera {
namespace {

std::string EscapeLabel(const std::string& value) {
  return absl::StrReplaceAll(value, {{"\\", "\\\\"}, {"\"", "\\\""}, {"\n", "\\n"}});
}

std::string RenderLabels(const MetricLabels& labels, const std::string& extra = "") {
  if (labels.empty() && extra.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ",";
    absl::StrAppend(&out, labels[i].first, "=\"", EscapeLabel(labels[i].second), "\"");
  }
  if (!extra.empty()) absl::StrAppend(&out, labels.empty() ? "" : ",", extra);
  return out + "}";
}

}  // namespace

MetricsRegistry& MetricsRegistry::Global() {
  static MetricsRegistry* registry = new MetricsRegistry();
  return *registry;
}

void MetricsRegistry::Describe(const std::string& name, const std::string& help) {
  absl::MutexLock lock(&mu_);
  help_[name] = help;
}

void MetricsRegistry::IncrementCounter(const std::string& name, const MetricLabels& labels,
                                       double by) {
  absl::MutexLock lock(&mu_);
  counters_[{name, labels}] += by;
}

void MetricsRegistry::SetGauge(const std::string& name, const MetricLabels& labels,
                               double value) {
  absl::MutexLock lock(&mu_);
  gauges_[{name, labels}] = value;
}

void MetricsRegistry::ObserveSeconds(const std::string& name, const MetricLabels& labels,
                                     double seconds) {
  absl::MutexLock lock(&mu_);
  Histogram& histogram = histograms_[{name, labels}];
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++histogram.buckets[i];
  }
  ++histogram.count;
  histogram.sum += seconds;
}

std::string MetricsRegistry::RenderPrometheus() const {
  absl::MutexLock lock(&mu_);
  std::string out;
  std::string last;
  auto header = [&](const std::string& name, const char* type) {
    if (name == last) return;
    last = name;
    auto help = help_.find(name);
    if (help != help_.end()) absl::StrAppend(&out, "# HELP ", name, " ", help->second, "\n");
    absl::StrAppend(&out, "# TYPE ", name, " ", type, "\n");
  };
  for (const auto& [key, value] : counters_) {
    header(key.first, "counter");
    absl::StrAppend(&out, key.first, RenderLabels(key.second), " ", value, "\n");
  }
  for (const auto& [key, value] : gauges_) {
    header(key.first, "gauge");
    absl::StrAppend(&out, key.first, RenderLabels(key.second), " ", value, "\n");
  }
  for (const auto& [key, histogram] : histograms_) {
    header(key.first, "histogram");
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      absl::StrAppend(&out, key.first, "_bucket",
                      RenderLabels(key.second, absl::StrCat("le=\"", kBuckets[i], "\"")), " ",
                      histogram.buckets[i], "\n");
    }
    absl::StrAppend(&out, key.first, "_bucket", RenderLabels(key.second, "le=\"+Inf\""), " ",
                    histogram.count, "\n");
    absl::StrAppend(&out, key.first, "_sum", RenderLabels(key.second), " ", histogram.sum, "\n");
    absl::StrAppend(&out, key.first, "_count", RenderLabels(key.second), " ", histogram.count,
                    "\n");
  }
  return out;
}

}  // namespace tessera

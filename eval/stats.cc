#include "eval/stats.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>

namespace tessera::eval {
namespace {

double Percentile(std::vector<double> sorted, double q) {
  if (sorted.empty()) return 0;
  const double position = q * (sorted.size() - 1);
  const size_t below = static_cast<size_t>(std::floor(position));
  const size_t above = std::min(below + 1, sorted.size() - 1);
  const double fraction = position - below;
  return sorted[below] * (1 - fraction) + sorted[above] * fraction;
}

// Means of `iterations` resamples (with replacement) of `values`.
std::vector<double> BootstrapMeans(absl::Span<const double> values, int iterations,
                                   uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, values.size() - 1);
  std::vector<double> means(iterations);
  for (double& mean : means) {
    double sum = 0;
    for (size_t i = 0; i < values.size(); ++i) sum += values[pick(rng)];
    mean = sum / values.size();
  }
  std::sort(means.begin(), means.end());
  return means;
}

}  // namespace

double Mean(absl::Span<const double> values) {
  if (values.empty()) return 0;
  return std::accumulate(values.begin(), values.end(), 0.0) / values.size();
}

std::vector<double> AverageRanks(absl::Span<const double> values) {
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(values.size());
  for (size_t start = 0; start < order.size();) {
    size_t end = start;
    while (end + 1 < order.size() && values[order[end + 1]] == values[order[start]]) ++end;
    const double rank = (start + end) / 2.0 + 1;
    for (size_t i = start; i <= end; ++i) ranks[order[i]] = rank;
    start = end + 1;
  }
  return ranks;
}

std::optional<double> Pearson(absl::Span<const double> x, absl::Span<const double> y) {
  if (x.size() != y.size() || x.size() < 2) return std::nullopt;
  const double mx = Mean(x), my = Mean(y);
  double cov = 0, vx = 0, vy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    cov += (x[i] - mx) * (y[i] - my);
    vx += (x[i] - mx) * (x[i] - mx);
    vy += (y[i] - my) * (y[i] - my);
  }
  if (vx == 0 || vy == 0) return std::nullopt;
  return cov / std::sqrt(vx * vy);
}

std::optional<double> Spearman(absl::Span<const double> x, absl::Span<const double> y) {
  if (x.size() != y.size()) return std::nullopt;
  return Pearson(AverageRanks(x), AverageRanks(y));
}

std::optional<double> CohenKappa(absl::Span<const int> a, absl::Span<const int> b) {
  if (a.size() != b.size() || a.empty()) return std::nullopt;
  std::map<int, double> share_a, share_b;
  double agree = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    agree += a[i] == b[i];
    share_a[a[i]] += 1.0 / a.size();
    share_b[b[i]] += 1.0 / b.size();
  }
  const double observed = agree / a.size();
  double expected = 0;
  for (const auto& [category, share] : share_a) {
    auto other = share_b.find(category);
    if (other != share_b.end()) expected += share * other->second;
  }
  if (expected >= 1) return 1.0;
  return (observed - expected) / (1 - expected);
}

std::optional<double> QuadraticWeightedKappa(absl::Span<const int> a, absl::Span<const int> b) {
  if (a.size() != b.size() || a.empty()) return std::nullopt;
  const int low = std::min(*std::min_element(a.begin(), a.end()),
                           *std::min_element(b.begin(), b.end()));
  const int high = std::max(*std::max_element(a.begin(), a.end()),
                            *std::max_element(b.begin(), b.end()));
  const int k = high - low + 1;
  std::vector<double> observed(k * k, 0), rows(k, 0), cols(k, 0);
  for (size_t i = 0; i < a.size(); ++i) {
    observed[(a[i] - low) * k + (b[i] - low)] += 1;
    rows[a[i] - low] += 1;
    cols[b[i] - low] += 1;
  }
  double weighted_observed = 0, weighted_expected = 0;
  for (int i = 0; i < k; ++i) {
    for (int j = 0; j < k; ++j) {
      const double weight = static_cast<double>((i - j) * (i - j));
      weighted_observed += weight * observed[i * k + j];
      weighted_expected += weight * rows[i] * cols[j] / a.size();
    }
  }
  if (weighted_expected == 0) return 1.0;
  return 1 - weighted_observed / weighted_expected;
}

Interval WilsonInterval(double successes, int64_t n, double z) {
  if (n <= 0) return {};
  const double p = successes / n;
  const double z2 = z * z;
  const double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const double half = z * std::sqrt(p * (1 - p) / n + z2 / (4.0 * n * n)) / (1 + z2 / n);
  return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

Interval BootstrapMeanInterval(absl::Span<const double> values, int iterations, double confidence,
                               uint64_t seed) {
  if (values.empty() || iterations <= 0) return {};
  std::vector<double> means = BootstrapMeans(values, iterations, seed);
  const double tail = (1 - confidence) / 2;
  return {Percentile(means, tail), Percentile(means, 1 - tail)};
}

PairedTest PairedBootstrap(absl::Span<const double> differences, int iterations, uint64_t seed) {
  PairedTest test;
  test.n = static_cast<int64_t>(differences.size());
  if (differences.empty() || iterations <= 0) return test;
  test.mean_difference = Mean(differences);
  std::vector<double> means = BootstrapMeans(differences, iterations, seed);
  test.interval = {Percentile(means, 0.025), Percentile(means, 0.975)};
  // Under the null the differences are centred at zero: a bootstrap mean
  // shifted by -observed is as extreme as the observation when its distance
  // from zero is at least |observed|.
  int extreme = 0;
  const double observed = std::abs(test.mean_difference);
  for (double mean : means) {
    if (std::abs(mean - test.mean_difference) >= observed - 1e-12) ++extreme;
  }
  test.p_value = observed == 0 ? 1.0 : static_cast<double>(extreme) / iterations;
  return test;
}

}  // namespace tessera::eval

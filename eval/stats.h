// Statistics for evaluation reports: rank correlation, agreement, confidence
// intervals and the paired bootstrap test. Deterministic (seeded) throughout.
#ifndef TESSERA_EVAL_STATS_H_
#define TESSERA_EVAL_STATS_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/types/span.h"

namespace tessera::eval {

double Mean(absl::Span<const double> values);

// 1-based ranks; tied values share the mean of their ranks.
std::vector<double> AverageRanks(absl::Span<const double> values);

// Pearson correlation; nullopt when the sizes differ, n < 2 or a side is constant.
std::optional<double> Pearson(absl::Span<const double> x, absl::Span<const double> y);
// Spearman's rho: Pearson over average ranks (ties handled).
std::optional<double> Spearman(absl::Span<const double> x, absl::Span<const double> y);

// Cohen's kappa of two raters' categorical labels: (p_o - p_e) / (1 - p_e).
// When p_e == 1 (both raters always give the same single category) kappa is
// 1. nullopt when the sizes differ or there are no pairs.
std::optional<double> CohenKappa(absl::Span<const int> a, absl::Span<const int> b);
// Kappa with quadratic disagreement weights (w_ij = (i - j)^2) over the
// categories min..max of both raters; suits ordinal 1-5 scores.
std::optional<double> QuadraticWeightedKappa(absl::Span<const int> a, absl::Span<const int> b);

struct Interval {
  double low = 0;
  double high = 0;
};

// Wilson score interval of a proportion (successes may be fractional, e.g.
// ties counted as half a win); z = 1.96 for 95%. [0, 0] when n == 0.
Interval WilsonInterval(double successes, int64_t n, double z = 1.96);

// Percentile bootstrap interval of the mean.
Interval BootstrapMeanInterval(absl::Span<const double> values, int iterations = 2000,
                               double confidence = 0.95, uint64_t seed = 1);

struct PairedTest {
  int64_t n = 0;
  double mean_difference = 0;  // mean(candidate - base)
  Interval interval;           // Bootstrap 95% interval of the mean difference.
  // Two-sided p-value of "no difference": the share of bootstrap means of the
  // differences re-centred at zero that are at least as far from zero as the
  // observed mean.
  double p_value = 1;
};

// Paired bootstrap test over per-case differences (candidate - base).
PairedTest PairedBootstrap(absl::Span<const double> differences, int iterations = 5000,
                           uint64_t seed = 1);

}  // namespace tessera::eval

#endif  // TESSERA_EVAL_STATS_H_

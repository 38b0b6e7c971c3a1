#include "eval/stats.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace tessera::eval {
namespace {

TEST(StatsTest, AverageRanksShareTies) {
  EXPECT_EQ(AverageRanks({5, 6, 7, 8, 7}), (std::vector<double>{1, 2, 3.5, 5, 3.5}));
}

TEST(StatsTest, SpearmanWithTiesMatchesHandComputation) {
  // Ranks of y: 1, 2, 3.5, 5, 3.5; dx = -2..2, dy = -2, -1, .5, 2, .5:
  // cov = 8, var x = 10, var y = 9.5, rho = 8 / sqrt(95).
  auto rho = Spearman({1, 2, 3, 4, 5}, {5, 6, 7, 8, 7});
  ASSERT_TRUE(rho.has_value());
  EXPECT_NEAR(*rho, 8 / std::sqrt(95.0), 1e-12);
  EXPECT_NEAR(*Spearman({1, 2, 3}, {30, 20, 10}), -1.0, 1e-12);
  EXPECT_FALSE(Spearman({1, 2, 3}, {4, 4, 4}).has_value());  // Constant side.
  EXPECT_FALSE(Spearman({1}, {1}).has_value());
}

TEST(StatsTest, CohenKappaMatchesHandComputation) {
  // p_o = 3/4; shares a: {1: .5, 2: .5}, b: {1: .25, 2: .75}; p_e = .5; kappa = .5.
  EXPECT_NEAR(*CohenKappa({1, 1, 2, 2}, {1, 2, 2, 2}), 0.5, 1e-12);
  EXPECT_NEAR(*CohenKappa({1, 2, 3}, {1, 2, 3}), 1.0, 1e-12);
  // p_o = 0, p_e = .5: kappa = -1.
  EXPECT_NEAR(*CohenKappa({1, 2}, {2, 1}), -1.0, 1e-12);
  EXPECT_NEAR(*CohenKappa({4, 4}, {4, 4}), 1.0, 1e-12);
  EXPECT_FALSE(CohenKappa({}, {}).has_value());
  EXPECT_FALSE(CohenKappa({1}, {1, 2}).has_value());
}

TEST(StatsTest, QuadraticKappaMatchesHandComputation) {
  // Categories 1..3. Observed pairs (1,1), (2,3), (3,3): weighted observed =
  // (2-3)^2 = 1. Rows {1,1,1}, cols {1,0,2}, E_ij = row_i col_j / 3:
  // sum w_ij E_ij = (1/3)[(0*1 + 1*0 + 4*2) + (1*1 + 0 + 1*2) + (4*1 + 0 + 0)] = 15/3 = 5.
  EXPECT_NEAR(*QuadraticWeightedKappa({1, 2, 3}, {1, 3, 3}), 1 - 1.0 / 5, 1e-12);
}

TEST(StatsTest, WilsonIntervalMatchesHandComputation) {
  // p = .5, n = 100, z = 1.96: centre .5, half = 1.96 sqrt(.0025 + 3.8416/40000) / 1.038416.
  Interval ci = WilsonInterval(50, 100);
  const double half = 1.96 * std::sqrt(0.0025 + 3.8416 / 40000) / 1.038416;
  EXPECT_NEAR(ci.low, 0.5 - half, 1e-9);
  EXPECT_NEAR(ci.high, 0.5 + half, 1e-9);
  Interval all = WilsonInterval(10, 10);
  EXPECT_LT(all.low, 1.0);
  EXPECT_DOUBLE_EQ(all.high, 1.0);
}

TEST(StatsTest, BootstrapIsDeterministicAndBracketsTheMean) {
  std::vector<double> values = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  Interval a = BootstrapMeanInterval(values, 1000, 0.95, 7);
  Interval b = BootstrapMeanInterval(values, 1000, 0.95, 7);
  EXPECT_EQ(a.low, b.low);
  EXPECT_EQ(a.high, b.high);
  EXPECT_LT(a.low, 5.5);
  EXPECT_GT(a.high, 5.5);
  EXPECT_GE(a.low, 1);
  EXPECT_LE(a.high, 10);
}

TEST(StatsTest, PairedBootstrapSeparatesARealShiftFromNoise) {
  // Every case got worse by about one point: a regression with p ~ 0.
  std::vector<double> worse;
  for (int i = 0; i < 40; ++i) worse.push_back(-1 + 0.1 * (i % 3));
  PairedTest regression = PairedBootstrap(worse);
  EXPECT_LT(regression.mean_difference, -0.8);
  EXPECT_LT(regression.p_value, 0.01);
  EXPECT_LT(regression.interval.high, 0);
  // Symmetric noise around zero: no evidence of a change.
  std::vector<double> noise;
  for (int i = 0; i < 40; ++i) noise.push_back(i % 2 == 0 ? 1.0 : -1.0);
  PairedTest none = PairedBootstrap(noise);
  EXPECT_NEAR(none.mean_difference, 0, 1e-12);
  EXPECT_GT(none.p_value, 0.5);
  EXPECT_LT(none.interval.low, 0);
  EXPECT_GT(none.interval.high, 0);
}

}  // namespace
}  // namespace tessera::eval

#include "engine/gemm/packed_gemm.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace tessera::gemm {
namespace {

std::vector<float> RandomFloats(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> values(n);
  for (float& v : values) v = normal(rng);
  return values;
}

// y = x W^T in double, the reference.
std::vector<double> Reference(const std::vector<float>& x, int64_t m, const std::vector<float>& w,
                              int64_t n, int64_t k) {
  std::vector<double> y(m * n);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0;
      for (int64_t kk = 0; kk < k; ++kk) sum += static_cast<double>(x[i * k + kk]) * w[j * k + kk];
      y[i * n + j] = sum;
    }
  }
  return y;
}

TEST(PackedGemmTest, MatchesTheReferenceOnEveryShape) {
  // Row counts around the 8-row blocks, column counts around the 32-column
  // panels, and one k large enough to split the panels into several blocks.
  struct Shape {
    int64_t m, n, k;
  };
  for (const Shape& shape : {Shape{1, 1, 1}, Shape{7, 31, 5}, Shape{9, 33, 17}, Shape{16, 64, 384},
                             Shape{130, 96, 64}, Shape{3, 40, 5000}}) {
    const std::vector<float> x = RandomFloats(shape.m * shape.k, 1);
    const std::vector<float> w = RandomFloats(shape.n * shape.k, 2);
    const std::vector<double> expected = Reference(x, shape.m, w, shape.n, shape.k);
    for (bool blas : {false, true}) {
      ForceBlasGemm(blas);
      const PackedMatrix packed = PackedMatrix::Pack(w.data(), shape.n, shape.k);
      EXPECT_EQ(packed.packed(), !blas && PackedGemmAvailable());
      for (int threads : {1, 2}) {
        std::vector<float> y(shape.m * shape.n, -1.0f);
        Multiply(x.data(), shape.m, packed, y.data(), threads);
        const double tolerance = 1e-5 * shape.k;
        for (size_t i = 0; i < y.size(); ++i) {
          ASSERT_NEAR(y[i], expected[i], tolerance)
              << shape.m << "x" << shape.n << "x" << shape.k << " element " << i << " blas " << blas;
        }
      }
    }
    ForceBlasGemm(false);
  }
}

TEST(PackedGemmTest, PanelProductMatchesTheReference) {
  if (!PackedGemmAvailable()) GTEST_SKIP() << "no AVX-512 on this CPU";
  const int64_t m = 40, n = 11, k = 37;  // Two panels, the second partly padding.
  const std::vector<float> x = RandomFloats(m * k, 3);
  const std::vector<float> w = RandomFloats(n * k, 4);
  std::vector<float> panels;
  PackPanels(x.data(), m, k, &panels);
  ASSERT_EQ(panels.size(), static_cast<size_t>(2 * k * kPanelColumns));
  const std::vector<double> expected = Reference(x, m, w, n, k);  // [m][n]
  float tile[kKernelRows][kPanelColumns];
  for (int64_t r0 = 0; r0 < n; r0 += kKernelRows) {
    const int rows = static_cast<int>(std::min<int64_t>(kKernelRows, n - r0));
    for (int64_t p = 0; p < 2; ++p) {
      PanelProduct(w.data() + r0 * k, k, rows, panels.data() + p * k * kPanelColumns, k, tile);
      for (int i = 0; i < rows; ++i) {
        for (int j = 0; j < kPanelColumns && p * kPanelColumns + j < m; ++j) {
          ASSERT_NEAR(tile[i][j], expected[(p * kPanelColumns + j) * n + r0 + i], 1e-4)
              << "row " << r0 + i << " token " << p * kPanelColumns + j;
        }
      }
    }
  }
}

}  // namespace
}  // namespace tessera::gemm

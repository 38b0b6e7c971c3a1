#include "engine/llama/kernels.h"

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "engine/model/tensor.h"
#include "gtest/gtest.h"

namespace tessera::llama {
namespace {

using model::DType;

std::vector<float> RandomFloats(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> values(n);
  for (float& v : values) v = normal(rng);
  return values;
}

std::vector<uint8_t> Encode(const std::vector<float>& values, DType dtype) {
  std::vector<uint8_t> bytes(*model::TensorByteSize(dtype, {static_cast<int64_t>(values.size())}));
  EXPECT_TRUE(model::EncodeF32(values, dtype, bytes.data()).ok());
  return bytes;
}

double ReferenceDot(DType dtype, const std::vector<uint8_t>& row, const std::vector<float>& x) {
  std::vector<float> w(x.size());
  EXPECT_TRUE(model::TensorToF32({"w", dtype, {static_cast<int64_t>(x.size())}, row.data(),
                                  row.size()},
                                 &w)
                  .ok());
  double sum = 0;
  for (size_t i = 0; i < x.size(); ++i) sum += static_cast<double>(w[i]) * x[i];
  return sum;
}

class KernelsTest : public ::testing::TestWithParam<DType> {};

TEST_P(KernelsTest, ScalarAvx2AndAvx512MatchTheDequantisedDot) {
  const DType dtype = GetParam();
  const bool quantised = dtype == DType::kQ8_0 || dtype == DType::kQ4_0;
  // Odd lengths exercise the tails of the vector loops.
  for (size_t n : quantised ? std::vector<size_t>{32, 96, 4096}
                            : std::vector<size_t>{1, 7, 37, 64, 4099}) {
    const std::vector<float> w = RandomFloats(n, 1);
    const std::vector<float> x = RandomFloats(n, 2);
    const std::vector<uint8_t> row = Encode(w, dtype);
    const double expected = ReferenceDot(dtype, row, x);
    const double tolerance = 1e-4 * std::sqrt(static_cast<double>(n)) + 1e-5;
    EXPECT_NEAR(DotRowScalar(dtype, row.data(), x.data(), n), expected, tolerance) << n;
    EXPECT_NEAR(DotRowAvx2(dtype, row.data(), x.data(), n), expected, tolerance) << n;
    EXPECT_NEAR(DotRowAvx512(dtype, row.data(), x.data(), n), expected, tolerance) << n;
    EXPECT_NEAR(DotRow(dtype, row.data(), x.data(), n), expected, tolerance) << n;

    std::vector<float> converted(n), reference(n);
    RowToF32(dtype, row.data(), converted.data(), n);
    ASSERT_TRUE(model::TensorToF32({"w", dtype, {static_cast<int64_t>(n)}, row.data(), row.size()},
                                   &reference)
                    .ok());
    EXPECT_EQ(converted, reference);
  }
}

TEST_P(KernelsTest, DotRowsMatchesDotRowOnEveryRow) {
  const DType dtype = GetParam();
  const size_t n = 160;  // Five quantisation blocks: an odd count exercises the block tail.
  const int rows = 7;
  const std::vector<float> x = RandomFloats(n, 5);
  const size_t row_bytes = *model::TensorByteSize(dtype, {static_cast<int64_t>(n)});
  std::vector<uint8_t> matrix;
  for (int r = 0; r < rows; ++r) {
    const std::vector<uint8_t> row = Encode(RandomFloats(n, 10 + r), dtype);
    matrix.insert(matrix.end(), row.begin(), row.end());
  }
  for (bool scalar : {false, true}) {
    ForceScalarKernels(scalar);
    std::vector<float> out(rows);
    DotRows(dtype, matrix.data(), row_bytes, rows, x.data(), n, out.data());
    for (int r = 0; r < rows; ++r) {
      EXPECT_EQ(out[r], DotRow(dtype, matrix.data() + r * row_bytes, x.data(), n)) << r;
    }
  }
  ForceScalarKernels(false);
}

TEST_P(KernelsTest, QuantisedAndHalfDotsApproximateTheF32Dot) {
  const DType dtype = GetParam();
  const size_t n = 256;
  const std::vector<float> w = RandomFloats(n, 3);
  const std::vector<float> x = RandomFloats(n, 4);
  double exact = 0;
  for (size_t i = 0; i < n; ++i) exact += static_cast<double>(w[i]) * x[i];
  const std::vector<uint8_t> row = Encode(w, dtype);
  // Q4_0 keeps 4 bits per weight; the others lose far less.
  const double tolerance = dtype == DType::kQ4_0 ? 2.0 : dtype == DType::kQ8_0 ? 0.2 : 0.1;
  EXPECT_NEAR(DotRow(dtype, row.data(), x.data(), n), exact, tolerance);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, KernelsTest,
                         ::testing::Values(DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0,
                                           DType::kQ4_0),
                         [](const ::testing::TestParamInfo<DType>& info) {
                           return std::string(model::DTypeName(info.param));
                         });

TEST(KernelsTest, ForceScalarSwitchesTheDispatch) {
  ForceScalarKernels(true);
  EXPECT_EQ(ActiveKernelIsa(), KernelIsa::kScalar);
  ForceScalarKernels(false);
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                    __builtin_cpu_supports("f16c");
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") &&
                      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
  EXPECT_EQ(ActiveKernelIsa(),
            avx512 ? KernelIsa::kAvx512 : avx2 ? KernelIsa::kAvx2 : KernelIsa::kScalar);
}

TEST(KernelsTest, SupportedTypes) {
  EXPECT_TRUE(IsSupportedWeightType(DType::kQ4_0));
  EXPECT_TRUE(IsSupportedWeightType(DType::kBF16));
  EXPECT_FALSE(IsSupportedWeightType(DType::kQ4_K));
  EXPECT_FALSE(IsSupportedWeightType(DType::kI32));
}

}  // namespace
}  // namespace tessera::llama

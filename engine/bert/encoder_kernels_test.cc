#include "engine/bert/encoder_kernels.h"

#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace tessera::bert {
namespace {

std::vector<float> RandomFloats(size_t n, uint64_t seed, float scale = 1.0f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> values(n);
  for (float& v : values) v = normal(rng);
  return values;
}

float MaxDifference(const std::vector<float>& a, const std::vector<float>& b) {
  float worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

// Runs `fn` on the scalar path and on the dispatched one.
template <typename Fn>
void BothPaths(Fn fn) {
  ForceScalarEncoderKernels(true);
  fn(true);
  ForceScalarEncoderKernels(false);
  fn(false);
}

TEST(EncoderKernelsTest, AttentionMatchesTheScalarReference) {
  // Lengths around the 16- and 32-column blocks and the 4-row blocks; head sizes
  // of MiniLM (32) and BERT-base (64), ones that leave a partial 32-column chunk
  // (48, 16), ones only the AVX2 path takes (24, 8) and one no vector path takes (12).
  for (int head_dim : {32, 64, 48, 16, 24, 8, 12}) {
    for (int length : {1, 3, 16, 17, 33, 65, 128}) {
      const int heads = 3, h = heads * head_dim;
      const size_t stride = 3 * static_cast<size_t>(h);
      const std::vector<float> qkv = RandomFloats(length * stride, length * 100 + head_dim);
      std::vector<float> reference(length * h), actual(length * h);
      std::vector<float> scratch;
      BothPaths([&](bool scalar) {
        std::vector<float>& out = scalar ? reference : actual;
        for (int head = 0; head < heads; ++head) {
          const float* q = qkv.data() + head * head_dim;
          AttentionHead(q, q + h, q + 2 * h, stride, length, head_dim,
                        1.0f / std::sqrt(static_cast<float>(head_dim)), out.data() + head * head_dim,
                        h, &scratch);
        }
      });
      EXPECT_LT(MaxDifference(reference, actual), 2e-5f) << head_dim << " " << length;
    }
  }
}

TEST(EncoderKernelsTest, AttentionRowsAreConvexCombinationsOfValues) {
  // One key: every query attends to it with weight 1, so out = v_0.
  const int head_dim = 32;
  const std::vector<float> qkv = RandomFloats(3 * head_dim, 7);
  std::vector<float> out(head_dim), scratch;
  AttentionHead(qkv.data(), qkv.data() + head_dim, qkv.data() + 2 * head_dim, 3 * head_dim, 1,
                head_dim, 0.5f, out.data(), head_dim, &scratch);
  for (int d = 0; d < head_dim; ++d) EXPECT_NEAR(out[d], qkv[2 * head_dim + d], 1e-6f);
}

TEST(EncoderKernelsTest, ActivationsMatchTheScalarReference) {
  std::vector<float> x = RandomFloats(1001, 3, 3.0f);
  x.push_back(0.0f);
  x.push_back(-20.0f);
  x.push_back(20.0f);
  for (auto fn : {GeluErf, GeluTanh, Relu}) {
    std::vector<float> reference = x, actual = x;
    BothPaths([&](bool scalar) { fn(scalar ? reference.data() : actual.data(), x.size()); });
    EXPECT_LT(MaxDifference(reference, actual), 2e-6f);
  }
  std::vector<float> gelu = {-1.0f, 0.0f, 1.0f, 2.0f};
  GeluErf(gelu.data(), gelu.size());
  EXPECT_NEAR(gelu[0], -0.15865525f, 1e-6f);
  EXPECT_NEAR(gelu[2], 0.84134475f, 1e-6f);
  EXPECT_NEAR(gelu[3], 1.95449974f, 1e-6f);
}

TEST(EncoderKernelsTest, BiasAndLayerNormMatchTheScalarReference) {
  for (size_t n : {7, 32, 384, 389}) {
    const std::vector<float> x = RandomFloats(3 * n, n, 2.0f);
    const std::vector<float> add = RandomFloats(n, n + 1);
    const std::vector<float> gamma = RandomFloats(n, n + 2), beta = RandomFloats(n, n + 3);
    std::vector<float> reference = x, actual = x;
    BothPaths([&](bool scalar) {
      std::vector<float>& y = scalar ? reference : actual;
      AddBias(y.data(), 3, add.data(), n);
      AddLayerNorm(y.data(), add.data(), n, gamma.data(), beta.data(), 1e-12f);
      AddLayerNorm(y.data() + n, nullptr, n, gamma.data(), beta.data(), 1e-12f);
    });
    EXPECT_LT(MaxDifference(reference, actual), 1e-5f) << n;
  }
  // Normalised output has mean beta and standard deviation |gamma| per element.
  std::vector<float> row = RandomFloats(384, 9, 5.0f);
  const std::vector<float> ones(384, 1.0f), zeros(384, 0.0f);
  AddLayerNorm(row.data(), nullptr, row.size(), ones.data(), zeros.data(), 1e-12f);
  double sum = 0, squares = 0;
  for (float v : row) sum += v, squares += v * v;
  EXPECT_NEAR(sum / row.size(), 0.0, 1e-5);
  EXPECT_NEAR(squares / row.size(), 1.0, 1e-4);
}

}  // namespace
}  // namespace tessera::bert

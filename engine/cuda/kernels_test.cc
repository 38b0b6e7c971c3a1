// Each kernel against a CPU reference on the GPU; skipped, visibly, without one.
#include "engine/cuda/kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdint>
#include <random>
#include <vector>

#include "engine/cuda/device.h"
#include "engine/model/tensor.h"
#include "gtest/gtest.h"

namespace tessera::cuda {
namespace {

class KernelsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!CudaAvailable()) {
      GTEST_SKIP() << "no CUDA device, kernel checks skipped: " << CheckCudaAvailable().message();
    }
    auto stream = Stream::Create();
    ASSERT_TRUE(stream.ok()) << stream.status();
    stream_ = std::move(*stream);
  }

  template <typename T>
  T* Upload(const std::vector<T>& values) {
    auto buffer = DeviceBuffer::Allocate(std::max<size_t>(values.size() * sizeof(T), 4));
    EXPECT_TRUE(buffer.ok()) << buffer.status();
    EXPECT_TRUE(CopyToDevice(buffer->data(), values.data(), values.size() * sizeof(T), *stream_).ok());
    EXPECT_TRUE(stream_->Synchronize().ok());  // `values` may be a temporary.
    buffers_.push_back(std::move(*buffer));
    return buffers_.back().as<T>();
  }
  template <typename T>
  T* Zeros(size_t count) {
    return Upload(std::vector<T>(count));
  }
  template <typename T>
  std::vector<T> Download(const T* device, size_t count) {
    std::vector<T> values(count);
    const absl::Status status = CopyToHost(values.data(), device, count * sizeof(T), *stream_);
    EXPECT_TRUE(status.ok()) << status;
    return values;
  }
  std::vector<float> DownloadHalves(const uint16_t* device, size_t count) {
    std::vector<float> values;
    for (uint16_t h : Download(device, count)) values.push_back(model::F16ToF32(h));
    return values;
  }
  void* stream() const { return stream_->handle(); }

  std::unique_ptr<Stream> stream_;
  std::vector<DeviceBuffer> buffers_;
};

std::vector<float> RandomValues(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> values(n);
  for (float& v : values) v = normal(rng);
  return values;
}

float RoundF16(float v) { return model::F16ToF32(model::F32ToF16(v)); }

void ExpectNear(const std::vector<float>& got, const std::vector<float>& want, float tolerance,
                const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  float worst = 0;
  size_t worst_at = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const float error = std::abs(got[i] - want[i]) / (1.0f + std::abs(want[i]));
    if (!(error <= worst)) {
      worst = error;
      worst_at = i;
    }
  }
  EXPECT_LE(worst, tolerance) << what << ": element " << worst_at << " is " << got[worst_at]
                              << ", expected " << want[worst_at];
}

// A row-major [rows, cols] matrix encoded as `type`, and its decoded values.
struct Encoded {
  std::vector<uint8_t> bytes;
  std::vector<float> values;
  size_t row_bytes = 0;
};

Encoded Encode(WeightType type, const std::vector<float>& values, int rows, int cols) {
  Encoded out;
  const size_t n = values.size();
  switch (type) {
    case WeightType::kF32:
      out.bytes.resize(n * 4);
      std::memcpy(out.bytes.data(), values.data(), n * 4);
      out.values = values;
      break;
    case WeightType::kF16:
    case WeightType::kBF16: {
      out.bytes.resize(n * 2);
      for (size_t i = 0; i < n; ++i) {
        const uint16_t h = type == WeightType::kF16 ? model::F32ToF16(values[i])
                                                    : model::F32ToBF16(values[i]);
        std::memcpy(&out.bytes[2 * i], &h, 2);
        out.values.push_back(type == WeightType::kF16 ? model::F16ToF32(h) : model::BF16ToF32(h));
      }
      break;
    }
    case WeightType::kQ8_0:
    case WeightType::kQ4_0: {
      const bool q8 = type == WeightType::kQ8_0;
      out.bytes.resize(n / 32 * (q8 ? model::kQ8_0BlockBytes : model::kQ4_0BlockBytes));
      out.values.resize(n);
      if (q8) {
        model::QuantizeQ8_0(values.data(), out.bytes.data(), n);
        model::DequantizeQ8_0(out.bytes.data(), out.values.data(), n);
      } else {
        model::QuantizeQ4_0(values.data(), out.bytes.data(), n);
        model::DequantizeQ4_0(out.bytes.data(), out.values.data(), n);
      }
      break;
    }
  }
  out.row_bytes = out.bytes.size() / rows;
  return out;
}

const WeightType kAllTypes[] = {WeightType::kF32, WeightType::kF16, WeightType::kBF16,
                                WeightType::kQ8_0, WeightType::kQ4_0};

TEST_F(KernelsTest, ConvertToF16DequantisesEveryType) {
  // 3 blocks a row: Q8_0/Q4_0 rows of 102/54 bytes, so blocks start at odd
  // multiples of 2 bytes (not 4-byte aligned).
  const int rows = 5, cols = 96;
  const std::vector<float> values = RandomValues(rows * cols, 1);
  for (WeightType type : kAllTypes) {
    const Encoded encoded = Encode(type, values, rows, cols);
    uint8_t* src = Upload(encoded.bytes);
    uint16_t* dst = Zeros<uint16_t>(values.size());
    ASSERT_EQ(LaunchConvertToF16(type, src, rows * cols, dst, stream()), 0);
    std::vector<float> want;
    for (float v : encoded.values) want.push_back(RoundF16(v));
    ExpectNear(DownloadHalves(dst, values.size()), want, 0.0f, "convert");
  }
  EXPECT_NE(LaunchConvertToF16(WeightType::kQ8_0, nullptr, 33, nullptr, stream()), 0);
}

TEST_F(KernelsTest, EmbeddingLooksUpRowsOfEveryType) {
  const int rows = 7, dim = 96;
  const std::vector<float> table = RandomValues(rows * dim, 2);
  const std::vector<int32_t> ids = {3, 0, 6, 3};
  for (WeightType type : kAllTypes) {
    const Encoded encoded = Encode(type, table, rows, dim);
    float* out = Zeros<float>(ids.size() * dim);
    ASSERT_EQ(LaunchEmbedding(type, Upload(encoded.bytes), encoded.row_bytes, dim, Upload(ids),
                              ids.size(), out, stream()),
              0);
    std::vector<float> want;
    for (int32_t id : ids) {
      want.insert(want.end(), encoded.values.begin() + id * dim,
                  encoded.values.begin() + (id + 1) * dim);
    }
    ExpectNear(Download(out, want.size()), want, 0.0f, "embedding");
  }
}

TEST_F(KernelsTest, RmsNormSelectsRows) {
  const int dim = 300;  // Not a multiple of the block size.
  const std::vector<float> x = RandomValues(4 * dim, 3, 3.0f);
  const std::vector<float> weight = RandomValues(dim, 4);
  const std::vector<int32_t> rows = {2, 0, 3};
  uint16_t* out = Zeros<uint16_t>(rows.size() * dim);
  ASSERT_EQ(LaunchRmsNorm(Upload(x), Upload(rows), rows.size(), dim, Upload(weight), 1e-5f, out,
                          stream()),
            0);
  std::vector<float> want;
  for (int32_t r : rows) {
    double sum = 0;
    for (int i = 0; i < dim; ++i) sum += double(x[r * dim + i]) * x[r * dim + i];
    const float scale = 1.0f / std::sqrt(float(sum / dim) + 1e-5f);
    for (int i = 0; i < dim; ++i) want.push_back(weight[i] * (x[r * dim + i] * scale));
  }
  ExpectNear(DownloadHalves(out, want.size()), want, 2e-3f, "rms norm");
}

TEST_F(KernelsTest, RopeRotatesBothLayoutsAtEachTokensPosition) {
  const int heads = 4, kv_heads = 2, head_dim = 16, half = head_dim / 2;
  const int stride = (heads + 2 * kv_heads) * head_dim;  // q, k, v.
  const std::vector<int32_t> positions = {0, 5, 1999};
  std::vector<float> inv_freq(half);
  for (int i = 0; i < half; ++i) inv_freq[i] = 1.0f / std::pow(10000.0f, 2.0f * i / head_dim);
  const std::vector<float> qkv = RandomValues(positions.size() * stride, 5);
  for (bool interleaved : {false, true}) {
    float* device = Upload(qkv);
    ASSERT_EQ(LaunchRope(device, positions.size(), stride, heads, kv_heads, head_dim,
                         Upload(positions), Upload(inv_freq), interleaved, stream()),
              0);
    std::vector<float> want = qkv;
    for (size_t t = 0; t < positions.size(); ++t) {
      for (int h = 0; h < heads + kv_heads; ++h) {
        float* head = &want[t * stride + h * head_dim];
        for (int i = 0; i < half; ++i) {
          const float angle = float(positions[t]) * inv_freq[i];
          const int a = interleaved ? 2 * i : i, b = interleaved ? 2 * i + 1 : i + half;
          const float x0 = head[a], x1 = head[b];
          head[a] = x0 * std::cos(angle) - x1 * std::sin(angle);
          head[b] = x1 * std::cos(angle) + x0 * std::sin(angle);
        }
      }
    }
    ExpectNear(Download(device, qkv.size()), want, 1e-4f, "rope");
  }
}

// Attention of a prefill chunk and a decode token of two sequences whose
// blocks are scattered through the pool, for head dimensions that are and
// are not multiples of 32.
TEST_F(KernelsTest, PagedAttentionMatchesDenseAttention) {
  for (int head_dim : {16, 40, 128, 256}) {
    SCOPED_TRACE(head_dim);
    const int heads = 4, kv_heads = 2, group = heads / kv_heads, block_size = 4, num_blocks = 16;
    const int kv_dim = kv_heads * head_dim, stride = (heads + 2 * kv_heads) * head_dim;
    // Sequence A: positions 0..11, of which 7..11 run now (a chunk); sequence B:
    // positions 0..20, of which 20 runs now (decode).
    const std::vector<int32_t> table_a = {9, 2, 14};
    const std::vector<int32_t> table_b = {0, 15, 3, 7, 11, 5};
    std::vector<int32_t> tables = table_a;
    tables.insert(tables.end(), table_b.begin(), table_b.end());
    struct Token {
      int seq, pos;
    };
    std::vector<Token> all;
    for (int p = 0; p < 12; ++p) all.push_back({0, p});
    for (int p = 0; p < 21; ++p) all.push_back({1, p});
    std::vector<int32_t> positions, offsets;
    for (const Token& token : all) {
      positions.push_back(token.pos);
      offsets.push_back(token.seq == 0 ? 0 : table_a.size());
    }
    const std::vector<float> qkv = RandomValues(all.size() * stride, 6 + head_dim);
    const size_t pool = size_t(num_blocks) * block_size * kv_dim;
    uint16_t* keys = Zeros<uint16_t>(pool);
    uint16_t* values = Zeros<uint16_t>(pool);
    const float* device_qkv = Upload(qkv);
    const int32_t* device_positions = Upload(positions);
    const int32_t* device_offsets = Upload(offsets);
    const int32_t* device_tables = Upload(tables);
    ASSERT_EQ(LaunchWriteKv(device_qkv, all.size(), stride, heads * head_dim,
                            heads * head_dim + kv_dim, kv_dim, device_positions, device_offsets,
                            device_tables, block_size, keys, values, stream()),
              0);
    // The keys landed in their slots.
    const std::vector<float> pool_keys = DownloadHalves(keys, pool);
    for (size_t t = 0; t < all.size(); ++t) {
      const std::vector<int32_t>& table = all[t].seq == 0 ? table_a : table_b;
      const size_t slot =
          (size_t(table[all[t].pos / block_size]) * block_size + all[t].pos % block_size) * kv_dim;
      for (int i = 0; i < kv_dim; ++i) {
        ASSERT_EQ(pool_keys[slot + i], RoundF16(qkv[t * stride + heads * head_dim + i]));
      }
    }
    // Attention for the tokens of this step: A's 7..11 and B's 20.
    std::vector<size_t> step;
    for (size_t t = 0; t < all.size(); ++t) {
      if ((all[t].seq == 0 && all[t].pos >= 7) || (all[t].seq == 1 && all[t].pos == 20)) {
        step.push_back(t);
      }
    }
    std::vector<float> q;
    std::vector<int32_t> step_positions, step_offsets;
    for (size_t t : step) {
      q.insert(q.end(), qkv.begin() + t * stride, qkv.begin() + (t + 1) * stride);
      step_positions.push_back(positions[t]);
      step_offsets.push_back(offsets[t]);
    }
    const float scale = 1.0f / std::sqrt(float(head_dim));
    uint16_t* out = Zeros<uint16_t>(step.size() * heads * head_dim);
    ASSERT_EQ(LaunchPagedAttention(Upload(q), step.size(), stride, heads, kv_heads, head_dim,
                                   Upload(step_positions), Upload(step_offsets), device_tables,
                                   block_size, keys, values, scale, out, stream()),
              0);
    std::vector<float> want;
    for (size_t s = 0; s < step.size(); ++s) {
      const size_t t = step[s];
      const int seq = all[t].seq, last = all[t].pos;
      const size_t first_of_seq = seq == 0 ? 0 : 12;  // Row of the sequence's position 0.
      for (int h = 0; h < heads; ++h) {
        const float* qh = &qkv[t * stride + h * head_dim];
        const int kv_col = heads * head_dim + (h / group) * head_dim;
        std::vector<double> scores(last + 1);
        double max_score = -1e30;
        for (int p = 0; p <= last; ++p) {
          double dot = 0;
          for (int d = 0; d < head_dim; ++d) {
            dot += qh[d] * RoundF16(qkv[(first_of_seq + p) * stride + kv_col + d]);
          }
          scores[p] = dot * scale;
          max_score = std::max(max_score, scores[p]);
        }
        double sum = 0;
        for (double& score : scores) sum += (score = std::exp(score - max_score));
        for (int d = 0; d < head_dim; ++d) {
          double value = 0;
          for (int p = 0; p <= last; ++p) {
            value += scores[p] / sum * RoundF16(qkv[(first_of_seq + p) * stride + kv_col + kv_dim + d]);
          }
          want.push_back(static_cast<float>(value));
        }
      }
    }
    ExpectNear(DownloadHalves(out, want.size()), want, 3e-3f, "paged attention");
  }
}

TEST_F(KernelsTest, SwiGluCopyBlocksAndArgmax) {
  const int tokens = 3, ffn = 130;
  const std::vector<float> gate_up = RandomValues(tokens * 2 * ffn, 7, 2.0f);
  uint16_t* act = Zeros<uint16_t>(tokens * ffn);
  ASSERT_EQ(LaunchSwiGlu(Upload(gate_up), tokens, ffn, act, stream()), 0);
  std::vector<float> want;
  for (int t = 0; t < tokens; ++t) {
    for (int i = 0; i < ffn; ++i) {
      const float g = gate_up[t * 2 * ffn + i], u = gate_up[t * 2 * ffn + ffn + i];
      want.push_back(g / (1.0f + std::exp(-g)) * u);
    }
  }
  ExpectNear(DownloadHalves(act, want.size()), want, 1e-3f, "swiglu");

  // Two layers of 6 blocks of 10 values; copy 1 -> 4 and 5 -> 0.
  const int layers = 2, blocks = 6, block_elements = 10;
  std::vector<uint16_t> keys(layers * blocks * block_elements), values(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    keys[i] = static_cast<uint16_t>(i);
    values[i] = static_cast<uint16_t>(10000 + i);
  }
  uint16_t* device_keys = Upload(keys);
  uint16_t* device_values = Upload(values);
  const std::vector<int32_t> pairs = {1, 4, 5, 0};
  ASSERT_EQ(LaunchCopyKvBlocks(device_keys, device_values, blocks * block_elements, layers,
                               block_elements, Upload(pairs), 2, stream()),
            0);
  for (int l = 0; l < layers; ++l) {
    for (int i = 0; i < block_elements; ++i) {
      const size_t base = size_t(l) * blocks * block_elements;
      keys[base + 4 * block_elements + i] = keys[base + 1 * block_elements + i];
      keys[base + 0 * block_elements + i] = keys[base + 5 * block_elements + i];
      values[base + 4 * block_elements + i] = values[base + 1 * block_elements + i];
      values[base + 0 * block_elements + i] = values[base + 5 * block_elements + i];
    }
  }
  EXPECT_EQ(Download(device_keys, keys.size()), keys);
  EXPECT_EQ(Download(device_values, values.size()), values);

  const int vocab = 32000;
  std::vector<float> logits = RandomValues(3 * vocab, 8);
  logits[0 * vocab + 31999] = 50.0f;
  logits[1 * vocab + 7] = 50.0f;  // A tie: the lower index wins, as on the CPU.
  logits[1 * vocab + 900] = 50.0f;
  logits[2 * vocab + 0] = 50.0f;
  int32_t* best = Zeros<int32_t>(3);
  ASSERT_EQ(LaunchArgmax(Upload(logits), 3, vocab, best, stream()), 0);
  EXPECT_EQ(Download(best, 3), (std::vector<int32_t>{31999, 7, 0}));
}

}  // namespace
}  // namespace tessera::cuda

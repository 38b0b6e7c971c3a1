#include "engine/model/tensor.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "gtest/gtest.h"

namespace tessera::model {
namespace {

TEST(TensorTest, F16ConversionsRoundTripAndRound) {
  EXPECT_EQ(F32ToF16(1.0f), 0x3c00);
  EXPECT_EQ(F32ToF16(-2.0f), 0xc000);
  EXPECT_EQ(F32ToF16(65504.0f), 0x7bff);
  EXPECT_EQ(F32ToF16(65520.0f), 0x7c00);  // Rounds to infinity.
  EXPECT_EQ(F32ToF16(std::ldexp(1.0f, -24)), 0x0001);  // Smallest subnormal.
  EXPECT_EQ(F32ToF16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);  // Tie to even.
  EXPECT_EQ(F32ToF16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  EXPECT_TRUE(std::isnan(F16ToF32(F32ToF16(std::nanf("")))));
  EXPECT_EQ(F16ToF32(0x3555), 0.333251953125f);
  EXPECT_EQ(F16ToF32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(F16ToF32(0xfc00), -std::numeric_limits<float>::infinity());
  // Every finite half survives f16 -> f32 -> f16, and the bulk path (F16C when
  // present) agrees with the scalar one.
  std::vector<uint16_t> all;
  for (uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7c00) != 0x7c00) all.push_back(static_cast<uint16_t>(h));
  }
  std::vector<float> bulk(all.size());
  ConvertF16ToF32(all.data(), bulk.data(), all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    ASSERT_EQ(F32ToF16(F16ToF32(all[i])), all[i]);
    ASSERT_EQ(bulk[i], F16ToF32(all[i]));
  }
}

TEST(TensorTest, BF16Conversions) {
  EXPECT_EQ(F32ToBF16(1.0f), 0x3f80);
  EXPECT_EQ(BF16ToF32(0x4049), 3.140625f);
  EXPECT_EQ(F32ToBF16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);  // Tie to even.
  EXPECT_EQ(F32ToBF16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);
  EXPECT_TRUE(std::isnan(BF16ToF32(F32ToBF16(std::nanf("")))));
}

TEST(TensorTest, DequantizeQ8_0HandBlock) {
  uint8_t block[kQ8_0BlockBytes];
  const uint16_t d = 0x3800;  // 0.5
  std::memcpy(block, &d, 2);
  for (int j = 0; j < 32; ++j) block[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(j - 16));
  float out[32];
  DequantizeQ8_0(block, out, 32);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(out[j], (j - 16) * 0.5f);
}

TEST(TensorTest, DequantizeQ4_0HandBlock) {
  uint8_t block[kQ4_0BlockBytes];
  const uint16_t d = 0x4000;  // 2.0
  std::memcpy(block, &d, 2);
  // Byte j: low nibble = j (element j), high nibble = 15 - j (element j + 16).
  for (int j = 0; j < 16; ++j) block[2 + j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  float out[32];
  DequantizeQ4_0(block, out, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(out[j], (j - 8) * 2.0f);
    EXPECT_EQ(out[j + 16], (15 - j - 8) * 2.0f);
  }
}

TEST(TensorTest, QuantizeThenDequantizeStaysClose) {
  std::vector<float> values(64);
  for (int i = 0; i < 64; ++i) values[i] = std::sin(i * 0.7f) * (i < 32 ? 1.0f : 0.01f);
  std::vector<uint8_t> q8(2 * kQ8_0BlockBytes), q4(2 * kQ4_0BlockBytes);
  QuantizeQ8_0(values.data(), q8.data(), 64);
  QuantizeQ4_0(values.data(), q4.data(), 64);
  std::vector<float> back8(64), back4(64);
  DequantizeQ8_0(q8.data(), back8.data(), 64);
  DequantizeQ4_0(q4.data(), back4.data(), 64);
  for (int i = 0; i < 64; ++i) {
    const float scale = i < 32 ? 1.0f : 0.01f;
    EXPECT_NEAR(back8[i], values[i], scale / 127 * 0.6f) << i;
    // Q4_0's codes span [-8, 7] * d, so the side opposite the extreme clips by up to one step.
    EXPECT_NEAR(back4[i], values[i], scale / 8 * 1.01f) << i;
  }
  // Q4_0's extreme value maps exactly to code 0 (-8 * d).
  uint16_t d;
  std::memcpy(&d, q4.data(), 2);
  EXPECT_NE(d, 0);
}

TEST(TensorTest, ByteSizesValidateShapes) {
  EXPECT_EQ(*TensorByteSize(DType::kF16, {3, 4}), 24u);
  EXPECT_EQ(*TensorByteSize(DType::kQ8_0, {2, 64}), 4u * kQ8_0BlockBytes);
  EXPECT_EQ(*TensorByteSize(DType::kQ4_0, {32}), 18u);
  EXPECT_FALSE(TensorByteSize(DType::kQ4_0, {2, 33}).ok());
  EXPECT_FALSE(TensorByteSize(DType::kF32, {-1}).ok());
  EXPECT_FALSE(TensorByteSize(DType::kF32, {1LL << 40, 1LL << 40}).ok());
  EXPECT_FALSE(TensorByteSize(DType::kF64, {1LL << 31, 1LL << 31}).ok());
  EXPECT_EQ(*TensorByteSize(DType::kF32, {}), 4u);  // A scalar.
}

TEST(TensorTest, TensorToF32ConvertsEveryFloatType) {
  const std::vector<float> values = {1.5f, -2.25f, 0.0f, 1024.0f};
  for (DType dtype : {DType::kF32, DType::kF16, DType::kBF16}) {
    std::vector<uint8_t> bytes(*TensorByteSize(dtype, {4}));
    ASSERT_TRUE(EncodeF32(values, dtype, bytes.data()).ok());
    TensorView view{"t", dtype, {2, 2}, bytes.data(), bytes.size()};
    std::vector<float> out;
    ASSERT_TRUE(TensorToF32(view, &out).ok());
    EXPECT_EQ(out, values) << DTypeName(dtype);
  }
  std::vector<uint8_t> ints(16);
  TensorView int_view{"i", DType::kI32, {4}, ints.data(), ints.size()};
  std::vector<float> out;
  EXPECT_EQ(TensorToF32(int_view, &out).code(), absl::StatusCode::kUnimplemented);
  TensorView short_view{"s", DType::kF32, {5}, ints.data(), ints.size()};
  EXPECT_EQ(TensorToF32(short_view, &out).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tessera::model

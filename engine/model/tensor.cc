#include "engine/model/tensor.h"

#include <cpuid.h>
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"

namespace tessera::model {
namespace {

uint32_t FloatBits(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof(bits));
  return bits;
}

float BitsToFloat(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

bool CpuHasF16c() {
#if defined(__clang__) && __clang_major__ < 16
  // clang before 16 does not know "f16c" in __builtin_cpu_supports: ask CPUID
  // for AVX and F16C, and XGETBV whether the OS saves the AVX registers.
  static const bool has = [] {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
    if (!(ecx & bit_OSXSAVE) || !(ecx & bit_AVX) || !(ecx & bit_F16C)) return false;
    unsigned xcr0_low, xcr0_high;
    __asm__("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
    return (xcr0_low & 6) == 6;
  }();
#else
  static const bool has = __builtin_cpu_supports("f16c") && __builtin_cpu_supports("avx");
#endif
  return has;
}

// Compiled for F16C only; called only after CpuHasF16c() said yes.
__attribute__((target("avx,f16c"))) void ConvertF16ToF32F16c(const uint16_t* src, float* dst,
                                                              size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i half = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(half));
  }
  for (; i < n; ++i) dst[i] = F16ToF32(src[i]);
}

}  // namespace

absl::string_view DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kF32: return "F32";
    case DType::kF16: return "F16";
    case DType::kBF16: return "BF16";
    case DType::kF64: return "F64";
    case DType::kI8: return "I8";
    case DType::kU8: return "U8";
    case DType::kI16: return "I16";
    case DType::kU16: return "U16";
    case DType::kI32: return "I32";
    case DType::kU32: return "U32";
    case DType::kI64: return "I64";
    case DType::kU64: return "U64";
    case DType::kBool: return "BOOL";
    case DType::kQ4_0: return "Q4_0";
    case DType::kQ4_1: return "Q4_1";
    case DType::kQ5_0: return "Q5_0";
    case DType::kQ5_1: return "Q5_1";
    case DType::kQ8_0: return "Q8_0";
    case DType::kQ8_1: return "Q8_1";
    case DType::kQ2_K: return "Q2_K";
    case DType::kQ3_K: return "Q3_K";
    case DType::kQ4_K: return "Q4_K";
    case DType::kQ5_K: return "Q5_K";
    case DType::kQ6_K: return "Q6_K";
    case DType::kQ8_K: return "Q8_K";
  }
  return "?";
}

int64_t DTypeBlockElements(DType dtype) {
  switch (dtype) {
    case DType::kQ4_0:
    case DType::kQ4_1:
    case DType::kQ5_0:
    case DType::kQ5_1:
    case DType::kQ8_0:
    case DType::kQ8_1:
      return 32;
    case DType::kQ2_K:
    case DType::kQ3_K:
    case DType::kQ4_K:
    case DType::kQ5_K:
    case DType::kQ6_K:
    case DType::kQ8_K:
      return 256;
    default:
      return 1;
  }
}

int64_t DTypeBlockBytes(DType dtype) {
  switch (dtype) {
    case DType::kF32: return 4;
    case DType::kF16: return 2;
    case DType::kBF16: return 2;
    case DType::kF64: return 8;
    case DType::kI8: return 1;
    case DType::kU8: return 1;
    case DType::kI16: return 2;
    case DType::kU16: return 2;
    case DType::kI32: return 4;
    case DType::kU32: return 4;
    case DType::kI64: return 8;
    case DType::kU64: return 8;
    case DType::kBool: return 1;
    case DType::kQ4_0: return kQ4_0BlockBytes;
    case DType::kQ4_1: return 20;
    case DType::kQ5_0: return 22;
    case DType::kQ5_1: return 24;
    case DType::kQ8_0: return kQ8_0BlockBytes;
    case DType::kQ8_1: return 36;
    case DType::kQ2_K: return 84;
    case DType::kQ3_K: return 110;
    case DType::kQ4_K: return 144;
    case DType::kQ5_K: return 176;
    case DType::kQ6_K: return 210;
    case DType::kQ8_K: return 292;
  }
  return 1;
}

absl::StatusOr<int64_t> ShapeElements(absl::Span<const int64_t> shape) {
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0) return absl::InvalidArgumentError(absl::StrCat("negative dimension ", dim));
    if (dim != 0 && count > std::numeric_limits<int64_t>::max() / dim) {
      return absl::InvalidArgumentError("tensor shape overflows");
    }
    count *= dim;
  }
  return count;
}

absl::StatusOr<uint64_t> TensorByteSize(DType dtype, absl::Span<const int64_t> shape) {
  absl::StatusOr<int64_t> elements = ShapeElements(shape);
  if (!elements.ok()) return elements.status();
  const int64_t block = DTypeBlockElements(dtype);
  if (block > 1) {
    if (shape.empty() || shape.back() % block != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(DTypeName(dtype), " needs an innermost dimension that is a multiple of ",
                       block));
    }
  }
  const int64_t blocks = *elements / block;
  const int64_t block_bytes = DTypeBlockBytes(dtype);
  if (blocks > std::numeric_limits<int64_t>::max() / block_bytes) {
    return absl::InvalidArgumentError("tensor byte size overflows");
  }
  return static_cast<uint64_t>(blocks * block_bytes);
}

int64_t TensorView::num_elements() const {
  absl::StatusOr<int64_t> elements = ShapeElements(shape);
  return elements.ok() ? *elements : 0;
}

float F16ToF32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exponent = (h >> 10) & 0x1f;
  const uint32_t mantissa = h & 0x3ff;
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24, exact in f32.
    const float magnitude = static_cast<float>(mantissa) * (1.0f / 16777216.0f);
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 31) return BitsToFloat(sign | 0x7f800000u | (mantissa << 13));
  return BitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

uint16_t F32ToF16(float f) {
  const uint32_t bits = FloatBits(f);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000);
  const uint32_t magnitude = bits & 0x7fffffffu;
  if (magnitude >= 0x7f800000u) {  // Infinity or NaN (keep NaNs quiet and non-zero).
    if (magnitude == 0x7f800000u) return sign | 0x7c00;
    return sign | 0x7e00 | static_cast<uint16_t>((magnitude >> 13) & 0x3ff);
  }
  if (magnitude >= 0x477ff000u) return sign | 0x7c00;  // >= 65520 rounds to infinity.
  if (magnitude < 0x38800000u) {
    // Below the smallest normal half: scale to units of 2^-24 and round to even.
    const float units = BitsToFloat(magnitude) * 16777216.0f;
    return sign | static_cast<uint16_t>(std::nearbyint(units));
  }
  const uint32_t exponent = (magnitude >> 23) - 127 + 15;
  const uint32_t mantissa = magnitude & 0x7fffff;
  uint32_t half = (exponent << 10) | (mantissa >> 13);
  const uint32_t rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) ++half;  // Carry may bump the exponent.
  return sign | static_cast<uint16_t>(half);
}

float BF16ToF32(uint16_t b) { return BitsToFloat(static_cast<uint32_t>(b) << 16); }

uint16_t F32ToBF16(float f) {
  const uint32_t bits = FloatBits(f);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);
  const uint32_t rounded = bits + 0x7fffu + ((bits >> 16) & 1);
  return static_cast<uint16_t>(rounded >> 16);
}

void ConvertF16ToF32(const uint16_t* src, float* dst, size_t n) {
  if (CpuHasF16c()) {
    ConvertF16ToF32F16c(src, dst, n);
    return;
  }
  for (size_t i = 0; i < n; ++i) dst[i] = F16ToF32(src[i]);
}

void ConvertBF16ToF32(const uint16_t* src, float* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = BF16ToF32(src[i]);
}

void ConvertF32ToF16(const float* src, uint16_t* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = F32ToF16(src[i]);
}

void ConvertF32ToBF16(const float* src, uint16_t* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = F32ToBF16(src[i]);
}

void DequantizeQ8_0(const uint8_t* src, float* dst, size_t n) {
  for (size_t block = 0; block < n / kQuantBlock; ++block) {
    const uint8_t* in = src + block * kQ8_0BlockBytes;
    uint16_t scale_bits;
    std::memcpy(&scale_bits, in, 2);
    const float d = F16ToF32(scale_bits);
    const int8_t* q = reinterpret_cast<const int8_t*>(in + 2);
    float* out = dst + block * kQuantBlock;
    for (int j = 0; j < kQuantBlock; ++j) out[j] = static_cast<float>(q[j]) * d;
  }
}

void DequantizeQ4_0(const uint8_t* src, float* dst, size_t n) {
  constexpr int kHalf = kQuantBlock / 2;
  for (size_t block = 0; block < n / kQuantBlock; ++block) {
    const uint8_t* in = src + block * kQ4_0BlockBytes;
    uint16_t scale_bits;
    std::memcpy(&scale_bits, in, 2);
    const float d = F16ToF32(scale_bits);
    const uint8_t* nibbles = in + 2;
    float* out = dst + block * kQuantBlock;
    for (int j = 0; j < kHalf; ++j) {
      out[j] = static_cast<float>((nibbles[j] & 0x0f) - 8) * d;
      out[j + kHalf] = static_cast<float>((nibbles[j] >> 4) - 8) * d;
    }
  }
}

void QuantizeQ8_0(const float* src, uint8_t* dst, size_t n) {
  for (size_t block = 0; block < n / kQuantBlock; ++block) {
    const float* x = src + block * kQuantBlock;
    float amax = 0.0f;
    for (int j = 0; j < kQuantBlock; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float inverse = d != 0.0f ? 1.0f / d : 0.0f;
    uint8_t* out = dst + block * kQ8_0BlockBytes;
    const uint16_t scale_bits = F32ToF16(d);
    std::memcpy(out, &scale_bits, 2);
    for (int j = 0; j < kQuantBlock; ++j) {
      const int8_t q = static_cast<int8_t>(std::lround(x[j] * inverse));
      std::memcpy(out + 2 + j, &q, 1);
    }
  }
}

void QuantizeQ4_0(const float* src, uint8_t* dst, size_t n) {
  constexpr int kHalf = kQuantBlock / 2;
  for (size_t block = 0; block < n / kQuantBlock; ++block) {
    const float* x = src + block * kQuantBlock;
    float amax = 0.0f;
    float extreme = 0.0f;  // The value of largest magnitude, with its sign.
    for (int j = 0; j < kQuantBlock; ++j) {
      if (std::fabs(x[j]) > amax) {
        amax = std::fabs(x[j]);
        extreme = x[j];
      }
    }
    const float d = extreme / -8.0f;
    const float inverse = d != 0.0f ? 1.0f / d : 0.0f;
    uint8_t* out = dst + block * kQ4_0BlockBytes;
    const uint16_t scale_bits = F32ToF16(d);
    std::memcpy(out, &scale_bits, 2);
    for (int j = 0; j < kHalf; ++j) {
      const int low = std::min(15, static_cast<int>(static_cast<int8_t>(x[j] * inverse + 8.5f)));
      const int high =
          std::min(15, static_cast<int>(static_cast<int8_t>(x[j + kHalf] * inverse + 8.5f)));
      out[2 + j] = static_cast<uint8_t>(low | (high << 4));
    }
  }
}

absl::Status TensorToF32(const TensorView& tensor, std::vector<float>* out) {
  absl::StatusOr<uint64_t> expected = TensorByteSize(tensor.dtype, tensor.shape);
  if (!expected.ok()) return expected.status();
  if (*expected != tensor.num_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", tensor.name, " has ",
                                                   tensor.num_bytes, " bytes; its shape needs ",
                                                   *expected));
  }
  const size_t n = static_cast<size_t>(tensor.num_elements());
  out->resize(n);
  switch (tensor.dtype) {
    case DType::kF32:
      if (n > 0) std::memcpy(out->data(), tensor.data, n * sizeof(float));
      return absl::OkStatus();
    case DType::kF64:
      for (size_t i = 0; i < n; ++i) {
        double value;
        std::memcpy(&value, tensor.data + i * sizeof(double), sizeof(double));
        (*out)[i] = static_cast<float>(value);
      }
      return absl::OkStatus();
    case DType::kF16:
    case DType::kBF16: {
      // The mapped data may be unaligned for uint16_t; convert in aligned chunks.
      constexpr size_t kChunk = 4096;
      uint16_t buffer[kChunk];
      for (size_t start = 0; start < n; start += kChunk) {
        const size_t count = std::min(kChunk, n - start);
        std::memcpy(buffer, tensor.data + start * 2, count * 2);
        if (tensor.dtype == DType::kF16) {
          ConvertF16ToF32(buffer, out->data() + start, count);
        } else {
          ConvertBF16ToF32(buffer, out->data() + start, count);
        }
      }
      return absl::OkStatus();
    }
    case DType::kQ8_0:
      DequantizeQ8_0(tensor.data, out->data(), n);
      return absl::OkStatus();
    case DType::kQ4_0:
      DequantizeQ4_0(tensor.data, out->data(), n);
      return absl::OkStatus();
    default:
      return absl::UnimplementedError(absl::StrCat("tensor ", tensor.name, ": cannot convert ",
                                                   DTypeName(tensor.dtype), " to F32"));
  }
}

absl::Status EncodeF32(absl::Span<const float> src, DType dtype, uint8_t* dst) {
  const size_t n = src.size();
  switch (dtype) {
    case DType::kF32:
      if (n > 0) std::memcpy(dst, src.data(), n * sizeof(float));
      return absl::OkStatus();
    case DType::kF16:
    case DType::kBF16:
      for (size_t i = 0; i < n; ++i) {
        const uint16_t value = dtype == DType::kF16 ? F32ToF16(src[i]) : F32ToBF16(src[i]);
        std::memcpy(dst + 2 * i, &value, 2);
      }
      return absl::OkStatus();
    case DType::kQ8_0:
    case DType::kQ4_0:
      if (n % kQuantBlock != 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(DTypeName(dtype), " needs a multiple of 32 values, got ", n));
      }
      if (dtype == DType::kQ8_0) {
        QuantizeQ8_0(src.data(), dst, n);
      } else {
        QuantizeQ4_0(src.data(), dst, n);
      }
      return absl::OkStatus();
    default:
      return absl::UnimplementedError(
          absl::StrCat("cannot encode F32 values as ", DTypeName(dtype)));
  }
}

}  // namespace tessera::model

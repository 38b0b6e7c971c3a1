#include "engine/llama/kernels.h"

#include <immintrin.h>

#include <atomic>
#include <cstring>

namespace tessera::llama {
namespace {

using model::DType;

std::atomic<bool> force_scalar{false};

bool CpuHasAvx2() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                          __builtin_cpu_supports("f16c");
  return has;
}

uint16_t LoadU16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

float DotF32Scalar(const float* w, const float* x, size_t n) {
  float sum = 0;
  for (size_t i = 0; i < n; ++i) sum += w[i] * x[i];
  return sum;
}

float DotQ8_0Scalar(const uint8_t* row, const float* x, size_t n) {
  float sum = 0;
  for (size_t b = 0; b < n / model::kQuantBlock; ++b) {
    const uint8_t* block = row + b * model::kQ8_0BlockBytes;
    const float d = model::F16ToF32(LoadU16(block));
    const int8_t* q = reinterpret_cast<const int8_t*>(block + 2);
    const float* xb = x + b * model::kQuantBlock;
    float block_sum = 0;
    for (int i = 0; i < model::kQuantBlock; ++i) block_sum += q[i] * xb[i];
    sum += d * block_sum;
  }
  return sum;
}

float DotQ4_0Scalar(const uint8_t* row, const float* x, size_t n) {
  float sum = 0;
  for (size_t b = 0; b < n / model::kQuantBlock; ++b) {
    const uint8_t* block = row + b * model::kQ4_0BlockBytes;
    const float d = model::F16ToF32(LoadU16(block));
    const uint8_t* q = block + 2;
    const float* xb = x + b * model::kQuantBlock;
    float block_sum = 0;
    for (int j = 0; j < 16; ++j) {
      block_sum += (static_cast<int>(q[j] & 0x0F) - 8) * xb[j];
      block_sum += (static_cast<int>(q[j] >> 4) - 8) * xb[j + 16];
    }
    sum += d * block_sum;
  }
  return sum;
}

__attribute__((target("avx2,fma,f16c"))) float HorizontalSum(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v);
  __m128 hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  __m128 shuf = _mm_movehdup_ps(lo);
  __m128 sums = _mm_add_ps(lo, shuf);
  shuf = _mm_movehl_ps(shuf, sums);
  sums = _mm_add_ss(sums, shuf);
  return _mm_cvtss_f32(sums);
}

__attribute__((target("avx2,fma,f16c"))) float DotF32Avx2(const float* w, const float* x,
                                                          size_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(x + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 8), _mm256_loadu_ps(x + i + 8), acc1);
  }
  for (; i + 8 <= n; i += 8) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(x + i), acc0);
  }
  float sum = HorizontalSum(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) sum += w[i] * x[i];
  return sum;
}

__attribute__((target("avx2,fma,f16c"))) float DotF16Avx2(const uint16_t* w, const float* x,
                                                          size_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 w0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + i)));
    const __m256 w1 =
        _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + i + 8)));
    acc0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + i), acc0);
    acc1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + i + 8), acc1);
  }
  for (; i + 8 <= n; i += 8) {
    const __m256 w0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + i)));
    acc0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + i), acc0);
  }
  float sum = HorizontalSum(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) sum += model::F16ToF32(w[i]) * x[i];
  return sum;
}

__attribute__((target("avx2,fma,f16c"))) __m256 LoadBf16x8(const uint16_t* w) {
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(raw), 16));
}

__attribute__((target("avx2,fma,f16c"))) float DotBf16Avx2(const uint16_t* w, const float* x,
                                                           size_t n) {
  __m256 acc = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) acc = _mm256_fmadd_ps(LoadBf16x8(w + i), _mm256_loadu_ps(x + i), acc);
  float sum = HorizontalSum(acc);
  for (; i < n; ++i) sum += model::BF16ToF32(w[i]) * x[i];
  return sum;
}

// int8 -> f32 for 8 values at `q`.
__attribute__((target("avx2,fma,f16c"))) __m256 Int8x8ToF32(const int8_t* q) {
  const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(q));
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes));
}

__attribute__((target("avx2,fma,f16c"))) float DotQ8_0Avx2(const uint8_t* row, const float* x,
                                                           size_t n) {
  __m256 acc = _mm256_setzero_ps();
  for (size_t b = 0; b < n / model::kQuantBlock; ++b) {
    const uint8_t* block = row + b * model::kQ8_0BlockBytes;
    const __m256 d = _mm256_set1_ps(_cvtsh_ss(LoadU16(block)));
    const int8_t* q = reinterpret_cast<const int8_t*>(block + 2);
    const float* xb = x + b * model::kQuantBlock;
    __m256 block_sum = _mm256_mul_ps(Int8x8ToF32(q), _mm256_loadu_ps(xb));
    block_sum = _mm256_fmadd_ps(Int8x8ToF32(q + 8), _mm256_loadu_ps(xb + 8), block_sum);
    block_sum = _mm256_fmadd_ps(Int8x8ToF32(q + 16), _mm256_loadu_ps(xb + 16), block_sum);
    block_sum = _mm256_fmadd_ps(Int8x8ToF32(q + 24), _mm256_loadu_ps(xb + 24), block_sum);
    acc = _mm256_fmadd_ps(d, block_sum, acc);
  }
  return HorizontalSum(acc);
}

__attribute__((target("avx2,fma,f16c"))) float DotQ4_0Avx2(const uint8_t* row, const float* x,
                                                           size_t n) {
  __m256 acc = _mm256_setzero_ps();
  const __m128i low_mask = _mm_set1_epi8(0x0F);
  const __m128i eight = _mm_set1_epi8(8);
  for (size_t b = 0; b < n / model::kQuantBlock; ++b) {
    const uint8_t* block = row + b * model::kQ4_0BlockBytes;
    const __m256 d = _mm256_set1_ps(_cvtsh_ss(LoadU16(block)));
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 2));
    // Elements 0..15 are the low nibbles, 16..31 the high ones; both minus 8.
    const __m128i lo = _mm_sub_epi8(_mm_and_si128(packed, low_mask), eight);
    const __m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(packed, 4), low_mask), eight);
    const float* xb = x + b * model::kQuantBlock;
    __m256 block_sum =
        _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo)), _mm256_loadu_ps(xb));
    block_sum = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8))),
                                _mm256_loadu_ps(xb + 8), block_sum);
    block_sum = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi)),
                                _mm256_loadu_ps(xb + 16), block_sum);
    block_sum = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8))),
                                _mm256_loadu_ps(xb + 24), block_sum);
    acc = _mm256_fmadd_ps(d, block_sum, acc);
  }
  return HorizontalSum(acc);
}

__attribute__((target("avx2,fma,f16c"))) void Q8_0ToF32Avx2(const uint8_t* row, float* out,
                                                              size_t n) {
  for (size_t b = 0; b < n / model::kQuantBlock; ++b) {
    const uint8_t* block = row + b * model::kQ8_0BlockBytes;
    const __m256 d = _mm256_set1_ps(_cvtsh_ss(LoadU16(block)));
    const int8_t* q = reinterpret_cast<const int8_t*>(block + 2);
    float* o = out + b * model::kQuantBlock;
    for (int i = 0; i < model::kQuantBlock; i += 8) {
      _mm256_storeu_ps(o + i, _mm256_mul_ps(d, Int8x8ToF32(q + i)));
    }
  }
}

__attribute__((target("avx2,fma,f16c"))) void Q4_0ToF32Avx2(const uint8_t* row, float* out,
                                                              size_t n) {
  const __m128i low_mask = _mm_set1_epi8(0x0F);
  const __m128i eight = _mm_set1_epi8(8);
  for (size_t b = 0; b < n / model::kQuantBlock; ++b) {
    const uint8_t* block = row + b * model::kQ4_0BlockBytes;
    const __m256 d = _mm256_set1_ps(_cvtsh_ss(LoadU16(block)));
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 2));
    const __m128i lo = _mm_sub_epi8(_mm_and_si128(packed, low_mask), eight);
    const __m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(packed, 4), low_mask), eight);
    float* o = out + b * model::kQuantBlock;
    _mm256_storeu_ps(o, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo))));
    _mm256_storeu_ps(o + 8, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(
                                                 _mm_srli_si128(lo, 8)))));
    _mm256_storeu_ps(o + 16, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi))));
    _mm256_storeu_ps(o + 24, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(
                                                  _mm_srli_si128(hi, 8)))));
  }
}

bool UseAvx2() { return CpuHasAvx2() && !force_scalar.load(std::memory_order_relaxed); }

}  // namespace

KernelIsa ActiveKernelIsa() { return UseAvx2() ? KernelIsa::kAvx2 : KernelIsa::kScalar; }

void ForceScalarKernels(bool force) { force_scalar.store(force, std::memory_order_relaxed); }

bool IsSupportedWeightType(model::DType dtype) {
  return dtype == DType::kF32 || dtype == DType::kF16 || dtype == DType::kBF16 ||
         dtype == DType::kQ8_0 || dtype == DType::kQ4_0;
}

float DotRowScalar(model::DType dtype, const uint8_t* row, const float* x, size_t n) {
  switch (dtype) {
    case DType::kF32:
      return DotF32Scalar(reinterpret_cast<const float*>(row), x, n);
    case DType::kF16: {
      float sum = 0;
      for (size_t i = 0; i < n; ++i) sum += model::F16ToF32(LoadU16(row + 2 * i)) * x[i];
      return sum;
    }
    case DType::kBF16: {
      float sum = 0;
      for (size_t i = 0; i < n; ++i) sum += model::BF16ToF32(LoadU16(row + 2 * i)) * x[i];
      return sum;
    }
    case DType::kQ8_0:
      return DotQ8_0Scalar(row, x, n);
    case DType::kQ4_0:
      return DotQ4_0Scalar(row, x, n);
    default:
      return 0;
  }
}

float DotRowAvx2(model::DType dtype, const uint8_t* row, const float* x, size_t n) {
  if (!CpuHasAvx2()) return DotRowScalar(dtype, row, x, n);
  switch (dtype) {
    case DType::kF32:
      return DotF32Avx2(reinterpret_cast<const float*>(row), x, n);
    case DType::kF16:
      return DotF16Avx2(reinterpret_cast<const uint16_t*>(row), x, n);
    case DType::kBF16:
      return DotBf16Avx2(reinterpret_cast<const uint16_t*>(row), x, n);
    case DType::kQ8_0:
      return DotQ8_0Avx2(row, x, n);
    case DType::kQ4_0:
      return DotQ4_0Avx2(row, x, n);
    default:
      return 0;
  }
}

float DotRow(model::DType dtype, const uint8_t* row, const float* x, size_t n) {
  return UseAvx2() ? DotRowAvx2(dtype, row, x, n) : DotRowScalar(dtype, row, x, n);
}

void RowToF32(model::DType dtype, const uint8_t* row, float* out, size_t n) {
  switch (dtype) {
    case DType::kF32:
      std::memcpy(out, row, n * sizeof(float));
      return;
    case DType::kF16:
      model::ConvertF16ToF32(reinterpret_cast<const uint16_t*>(row), out, n);
      return;
    case DType::kBF16:
      model::ConvertBF16ToF32(reinterpret_cast<const uint16_t*>(row), out, n);
      return;
    case DType::kQ8_0:
      if (UseAvx2()) {
        Q8_0ToF32Avx2(row, out, n);
      } else {
        model::DequantizeQ8_0(row, out, n);
      }
      return;
    case DType::kQ4_0:
      if (UseAvx2()) {
        Q4_0ToF32Avx2(row, out, n);
      } else {
        model::DequantizeQ4_0(row, out, n);
      }
      return;
    default:
      std::memset(out, 0, n * sizeof(float));
  }
}

}  // namespace tessera::llama

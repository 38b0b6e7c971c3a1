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

bool CpuHasAvx512() {
  static const bool has = CpuHasAvx2() && __builtin_cpu_supports("avx512f") &&
                          __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
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

// AVX-512 versions: 16 lanes, and masked loads for the tails. Same arithmetic as
// the AVX2 ones (f32 activations, f32 accumulation); only the summation order
// differs. Two independent accumulators hide the FMA latency.
#define TESSERA_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))

// One accumulator in 16-lane steps: the same order as Dot4F32Avx512 below,
// so a row gives the same bits alone or in a group of four.
TESSERA_AVX512 float DotF32Avx512(const float* w, const float* x, size_t n) {
  __m512 acc = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc = _mm512_fmadd_ps(_mm512_loadu_ps(w + i), _mm512_loadu_ps(x + i), acc);
  }
  if (i < n) {
    const __mmask16 mask = static_cast<__mmask16>((1u << (n - i)) - 1);
    acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, w + i), _mm512_maskz_loadu_ps(mask, x + i),
                          acc);
  }
  return _mm512_reduce_add_ps(acc);
}

// Four f32 rows against one x: four weight streams in flight at once (one row
// at a time leaves most of the memory bandwidth unused) and each x load
// shared by four rows.
TESSERA_AVX512 void Dot4F32Avx512(const float* w, size_t row_stride, const float* x, size_t n,
                                  float* out) {
  const float* w0 = w;
  const float* w1 = w + row_stride;
  const float* w2 = w + 2 * row_stride;
  const float* w3 = w + 3 * row_stride;
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  __m512 acc2 = _mm512_setzero_ps(), acc3 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 xv = _mm512_loadu_ps(x + i);
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(w0 + i), xv, acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(w1 + i), xv, acc1);
    acc2 = _mm512_fmadd_ps(_mm512_loadu_ps(w2 + i), xv, acc2);
    acc3 = _mm512_fmadd_ps(_mm512_loadu_ps(w3 + i), xv, acc3);
  }
  if (i < n) {
    const __mmask16 mask = static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512 xv = _mm512_maskz_loadu_ps(mask, x + i);
    acc0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, w0 + i), xv, acc0);
    acc1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, w1 + i), xv, acc1);
    acc2 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, w2 + i), xv, acc2);
    acc3 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, w3 + i), xv, acc3);
  }
  out[0] = _mm512_reduce_add_ps(acc0);
  out[1] = _mm512_reduce_add_ps(acc1);
  out[2] = _mm512_reduce_add_ps(acc2);
  out[3] = _mm512_reduce_add_ps(acc3);
}

// Half-width rows (f16 or bf16): `Widen` turns 16 of them into f32 lanes.
struct F16Widen {
  TESSERA_AVX512 __m512 operator()(__m256i raw) const { return _mm512_cvtph_ps(raw); }
};
struct Bf16Widen {
  TESSERA_AVX512 __m512 operator()(__m256i raw) const {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(raw), 16));
  }
};

template <typename Widen>
TESSERA_AVX512 float DotHalfAvx512(const uint16_t* w, const float* x, size_t n) {
  const Widen widen;
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512 w0 = widen(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + i)));
    const __m512 w1 = widen(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + i + 16)));
    acc0 = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x + i), acc0);
    acc1 = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + i + 16), acc1);
  }
  for (; i < n; i += 16) {
    const __mmask16 mask = n - i >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512 w0 = widen(_mm256_maskz_loadu_epi16(mask, w + i));
    acc0 = _mm512_fmadd_ps(w0, _mm512_maskz_loadu_ps(mask, x + i), acc0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

TESSERA_AVX512 float DotF16Avx512(const uint16_t* w, const float* x, size_t n) {
  return DotHalfAvx512<F16Widen>(w, x, n);
}

TESSERA_AVX512 float DotBf16Avx512(const uint16_t* w, const float* x, size_t n) {
  return DotHalfAvx512<Bf16Widen>(w, x, n);
}

// One 32-element block's sum of w * x, unscaled, from its 32 int8 weights.
TESSERA_AVX512 __m512 BlockDotInt8(__m128i q0, __m128i q1, const float* xb) {
  const __m512 w0 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q0));
  const __m512 w1 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q1));
  return _mm512_fmadd_ps(w1, _mm512_loadu_ps(xb + 16), _mm512_mul_ps(w0, _mm512_loadu_ps(xb)));
}

TESSERA_AVX512 __m512 Q8_0BlockDot(const uint8_t* block, const float* xb) {
  const __m512 d = _mm512_set1_ps(_cvtsh_ss(LoadU16(block)));
  const __m128i* q = reinterpret_cast<const __m128i*>(block + 2);
  return _mm512_mul_ps(d, BlockDotInt8(_mm_loadu_si128(q), _mm_loadu_si128(q + 1), xb));
}

TESSERA_AVX512 float DotQ8_0Avx512(const uint8_t* row, const float* x, size_t n) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  const size_t blocks = n / model::kQuantBlock;
  size_t b = 0;
  for (; b + 2 <= blocks; b += 2) {
    const uint8_t* block = row + b * model::kQ8_0BlockBytes;
    const float* xb = x + b * model::kQuantBlock;
    const __m512 d0 = _mm512_set1_ps(_cvtsh_ss(LoadU16(block)));
    const __m512 d1 = _mm512_set1_ps(_cvtsh_ss(LoadU16(block + model::kQ8_0BlockBytes)));
    const __m128i* q0 = reinterpret_cast<const __m128i*>(block + 2);
    const __m128i* q1 = reinterpret_cast<const __m128i*>(block + model::kQ8_0BlockBytes + 2);
    acc0 = _mm512_fmadd_ps(d0, BlockDotInt8(_mm_loadu_si128(q0), _mm_loadu_si128(q0 + 1), xb),
                           acc0);
    acc1 = _mm512_fmadd_ps(
        d1, BlockDotInt8(_mm_loadu_si128(q1), _mm_loadu_si128(q1 + 1), xb + model::kQuantBlock),
        acc1);
  }
  if (b < blocks) {
    acc0 = _mm512_add_ps(acc0, Q8_0BlockDot(row + b * model::kQ8_0BlockBytes,
                                            x + b * model::kQuantBlock));
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

// Q4_0 without integer-to-float conversions: each block's 16 possible weights
// (q - 8) * d form a table, and vpermps looks the nibbles up in it (it reads
// only the low 4 bits of each index, so no masking either). The products are
// exact in f32, so this is the dequantised dot, summed in another order.
TESSERA_AVX512 __m512 Q4_0Table(const uint8_t* block) {
  const __m512 levels = _mm512_setr_ps(-8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7);
  return _mm512_mul_ps(levels, _mm512_set1_ps(_cvtsh_ss(LoadU16(block))));
}

TESSERA_AVX512 float DotQ4_0Avx512(const uint8_t* row, const float* x, size_t n) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  __m512 acc2 = _mm512_setzero_ps(), acc3 = _mm512_setzero_ps();
  const size_t blocks = n / model::kQuantBlock;
  size_t b = 0;
  for (; b + 2 <= blocks; b += 2) {
    const uint8_t* block0 = row + b * model::kQ4_0BlockBytes;
    const uint8_t* block1 = block0 + model::kQ4_0BlockBytes;
    const float* xb = x + b * model::kQuantBlock;
    const __m128i packed0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block0 + 2));
    const __m128i packed1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block1 + 2));
    const __m512 table0 = Q4_0Table(block0), table1 = Q4_0Table(block1);
    // Elements 0..15 are the low nibbles, 16..31 the high ones.
    acc0 = _mm512_fmadd_ps(_mm512_permutexvar_ps(_mm512_cvtepu8_epi32(packed0), table0),
                           _mm512_loadu_ps(xb), acc0);
    acc1 = _mm512_fmadd_ps(
        _mm512_permutexvar_ps(_mm512_cvtepu8_epi32(_mm_srli_epi16(packed0, 4)), table0),
        _mm512_loadu_ps(xb + 16), acc1);
    acc2 = _mm512_fmadd_ps(_mm512_permutexvar_ps(_mm512_cvtepu8_epi32(packed1), table1),
                           _mm512_loadu_ps(xb + 32), acc2);
    acc3 = _mm512_fmadd_ps(
        _mm512_permutexvar_ps(_mm512_cvtepu8_epi32(_mm_srli_epi16(packed1, 4)), table1),
        _mm512_loadu_ps(xb + 48), acc3);
  }
  if (b < blocks) {
    const uint8_t* block = row + b * model::kQ4_0BlockBytes;
    const float* xb = x + b * model::kQuantBlock;
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 2));
    const __m512 table = Q4_0Table(block);
    acc0 = _mm512_fmadd_ps(_mm512_permutexvar_ps(_mm512_cvtepu8_epi32(packed), table),
                           _mm512_loadu_ps(xb), acc0);
    acc1 = _mm512_fmadd_ps(
        _mm512_permutexvar_ps(_mm512_cvtepu8_epi32(_mm_srli_epi16(packed, 4)), table),
        _mm512_loadu_ps(xb + 16), acc1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

TESSERA_AVX512 float DotRowAvx512Impl(DType dtype, const uint8_t* row, const float* x, size_t n) {
  switch (dtype) {
    case DType::kF32:
      return DotF32Avx512(reinterpret_cast<const float*>(row), x, n);
    case DType::kF16:
      return DotF16Avx512(reinterpret_cast<const uint16_t*>(row), x, n);
    case DType::kBF16:
      return DotBf16Avx512(reinterpret_cast<const uint16_t*>(row), x, n);
    case DType::kQ8_0:
      return DotQ8_0Avx512(row, x, n);
    case DType::kQ4_0:
      return DotQ4_0Avx512(row, x, n);
    default:
      return 0;
  }
}

// The dtype switch hoisted out of the row loop.
TESSERA_AVX512 void DotRowsAvx512(DType dtype, const uint8_t* rows, size_t row_bytes,
                                  int64_t count, const float* x, size_t n, float* out) {
  switch (dtype) {
    case DType::kF32: {
      int64_t r = 0;
      for (; r + 4 <= count; r += 4) {
        Dot4F32Avx512(reinterpret_cast<const float*>(rows + r * row_bytes),
                      row_bytes / sizeof(float), x, n, out + r);
      }
      for (; r < count; ++r) {
        out[r] = DotF32Avx512(reinterpret_cast<const float*>(rows + r * row_bytes), x, n);
      }
      return;
    }
    case DType::kF16:
      for (int64_t r = 0; r < count; ++r) {
        out[r] = DotF16Avx512(reinterpret_cast<const uint16_t*>(rows + r * row_bytes), x, n);
      }
      return;
    case DType::kBF16:
      for (int64_t r = 0; r < count; ++r) {
        out[r] = DotBf16Avx512(reinterpret_cast<const uint16_t*>(rows + r * row_bytes), x, n);
      }
      return;
    case DType::kQ8_0:
      for (int64_t r = 0; r < count; ++r) out[r] = DotQ8_0Avx512(rows + r * row_bytes, x, n);
      return;
    case DType::kQ4_0:
      for (int64_t r = 0; r < count; ++r) out[r] = DotQ4_0Avx512(rows + r * row_bytes, x, n);
      return;
    default:
      for (int64_t r = 0; r < count; ++r) out[r] = 0;
  }
}

bool UseAvx2() { return CpuHasAvx2() && !force_scalar.load(std::memory_order_relaxed); }
bool UseAvx512() { return CpuHasAvx512() && !force_scalar.load(std::memory_order_relaxed); }

}  // namespace

KernelIsa ActiveKernelIsa() {
  if (UseAvx512()) return KernelIsa::kAvx512;
  return UseAvx2() ? KernelIsa::kAvx2 : KernelIsa::kScalar;
}

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

float DotRowAvx512(model::DType dtype, const uint8_t* row, const float* x, size_t n) {
  if (!CpuHasAvx512()) return DotRowAvx2(dtype, row, x, n);
  return DotRowAvx512Impl(dtype, row, x, n);
}

float DotRow(model::DType dtype, const uint8_t* row, const float* x, size_t n) {
  if (UseAvx512()) return DotRowAvx512Impl(dtype, row, x, n);
  return UseAvx2() ? DotRowAvx2(dtype, row, x, n) : DotRowScalar(dtype, row, x, n);
}

void DotRows(model::DType dtype, const uint8_t* rows, size_t row_bytes, int64_t count,
             const float* x, size_t n, float* out) {
  if (UseAvx512()) {
    DotRowsAvx512(dtype, rows, row_bytes, count, x, n, out);
    return;
  }
  for (int64_t r = 0; r < count; ++r) out[r] = DotRow(dtype, rows + r * row_bytes, x, n);
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

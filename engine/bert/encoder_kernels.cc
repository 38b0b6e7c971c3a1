#include "engine/bert/encoder_kernels.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>

namespace tessera::bert {
namespace {

#define TESSERA_AVX2 __attribute__((target("avx2,fma")))

std::atomic<bool> force_scalar{false};

bool CpuHasAvx2() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}

bool CpuHasAvx512() {
  static const bool has = CpuHasAvx2() && __builtin_cpu_supports("avx512f");
  return has;
}

bool UseAvx2() { return CpuHasAvx2() && !force_scalar.load(std::memory_order_relaxed); }
bool UseAvx512() { return CpuHasAvx512() && !force_scalar.load(std::memory_order_relaxed); }

// ---------------------------------------------------------------- scalar

void AttentionHeadScalar(const float* q, const float* k, const float* v, size_t stride,
                         int length, int head_dim, float scale, float* out, size_t out_stride,
                         std::vector<float>* scratch) {
  scratch->resize(length);
  float* scores = scratch->data();
  for (int i = 0; i < length; ++i) {
    const float* qi = q + i * stride;
    float max_score = -std::numeric_limits<float>::infinity();
    for (int j = 0; j < length; ++j) {
      const float* kj = k + j * stride;
      float dot = 0.0f;
      for (int d = 0; d < head_dim; ++d) dot += qi[d] * kj[d];
      scores[j] = dot * scale;
      max_score = std::max(max_score, scores[j]);
    }
    float sum = 0.0f;
    for (int j = 0; j < length; ++j) {
      scores[j] = std::exp(scores[j] - max_score);
      sum += scores[j];
    }
    const float inverse = 1.0f / sum;
    float* o = out + i * out_stride;
    std::fill(o, o + head_dim, 0.0f);
    for (int j = 0; j < length; ++j) {
      const float* vj = v + j * stride;
      const float weight = scores[j] * inverse;
      for (int d = 0; d < head_dim; ++d) o[d] += weight * vj[d];
    }
  }
}

float GeluErfScalar(float x) {
  return 0.5f * x * (1.0f + std::erf(x * static_cast<float>(M_SQRT1_2)));
}

float GeluTanhScalar(float x) {
  const float inner = 0.7978845608028654f * (x + 0.044715f * x * x * x);
  return 0.5f * x * (1.0f + std::tanh(inner));
}

void AddLayerNormScalar(float* row, const float* add, size_t n, const float* gamma,
                        const float* beta, float eps) {
  if (add != nullptr) {
    for (size_t j = 0; j < n; ++j) row[j] += add[j];
  }
  double sum = 0;
  for (size_t j = 0; j < n; ++j) sum += row[j];
  const double mean = sum / n;
  double squares = 0;
  for (size_t j = 0; j < n; ++j) squares += (row[j] - mean) * (row[j] - mean);
  const float inverse = static_cast<float>(1.0 / std::sqrt(squares / n + eps));
  const float mean_f = static_cast<float>(mean);
  for (size_t j = 0; j < n; ++j) row[j] = (row[j] - mean_f) * inverse * gamma[j] + beta[j];
}

// ---------------------------------------------------------------- AVX2

TESSERA_AVX2 float HorizontalSum(__m256 v) {
  __m128 lo = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
  return _mm_cvtss_f32(lo);
}

TESSERA_AVX2 float HorizontalMax(__m256 v) {
  __m128 lo = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  lo = _mm_max_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_max_ss(lo, _mm_movehdup_ps(lo));
  return _mm_cvtss_f32(lo);
}

// e^x for 8 floats: Cephes' expf (range reduction by ln 2 in two parts, degree-6
// polynomial), within 2 ulp on [-87, 88]; inputs are clamped to that range.
TESSERA_AVX2 __m256 Exp8(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3365447504f)),
                    _mm256_set1_ps(88.3762626647949f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  x = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  x = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), x);
  __m256 y = _mm256_set1_ps(1.9875691500e-4f);
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507e-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073e-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894e-2f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459e-1f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201e-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(x, x), _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
  const __m256i exponent =
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(exponent));
}

// A row block of attention: rows [i0, i0 + rows) of one head, rows <= 4.
TESSERA_AVX2 void AttentionRows(const float* q, const float* v, size_t stride, int length,
                                int head_dim, float scale, const float* kt, int padded,
                                float* scores, int i0, int rows, float* out, size_t out_stride) {
  // Scores: S[r][j] = scale * q_r . k_j, 16 columns of 4 rows at a time (8
  // accumulators hide the FMA latency). Tail rows repeat the last real row.
  const float* qr[4];
  for (int r = 0; r < 4; ++r) qr[r] = q + (i0 + std::min(r, rows - 1)) * stride;
  const __m256 scale8 = _mm256_set1_ps(scale);
  for (int jb = 0; jb < padded; jb += 16) {
    __m256 a[4][2];
    for (int r = 0; r < 4; ++r) a[r][0] = a[r][1] = _mm256_setzero_ps();
    for (int d = 0; d < head_dim; ++d) {
      const __m256 k0 = _mm256_loadu_ps(kt + d * padded + jb);
      const __m256 k1 = _mm256_loadu_ps(kt + d * padded + jb + 8);
#pragma GCC unroll 4
      for (int r = 0; r < 4; ++r) {
        const __m256 b = _mm256_broadcast_ss(qr[r] + d);
        a[r][0] = _mm256_fmadd_ps(b, k0, a[r][0]);
        a[r][1] = _mm256_fmadd_ps(b, k1, a[r][1]);
      }
    }
    for (int r = 0; r < 4; ++r) {
      _mm256_storeu_ps(scores + r * padded + jb, _mm256_mul_ps(a[r][0], scale8));
      _mm256_storeu_ps(scores + r * padded + jb + 8, _mm256_mul_ps(a[r][1], scale8));
    }
  }
  // Softmax of each row over its `length` real columns.
  float inverse[4] = {1.0f, 1.0f, 1.0f, 1.0f};
  for (int r = 0; r < rows; ++r) {
    float* s = scores + r * padded;
    for (int j = length; j < padded; ++j) s[j] = -std::numeric_limits<float>::infinity();
    __m256 m = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
    for (int j = 0; j < padded; j += 8) m = _mm256_max_ps(m, _mm256_loadu_ps(s + j));
    const __m256 max8 = _mm256_set1_ps(HorizontalMax(m));
    for (int j = 0; j < padded; j += 8) {
      _mm256_storeu_ps(s + j, Exp8(_mm256_sub_ps(_mm256_loadu_ps(s + j), max8)));
    }
    for (int j = length; j < padded; ++j) s[j] = 0.0f;
    __m256 sum = _mm256_setzero_ps();
    for (int j = 0; j < padded; j += 8) sum = _mm256_add_ps(sum, _mm256_loadu_ps(s + j));
    inverse[r] = 1.0f / HorizontalSum(sum);
  }
  // Context: out_r = sum_j p[r][j] v_j, four rows and 16 columns at a time (8
  // accumulators), then 8 columns if head_dim leaves them.
  const float* p[4];
  for (int r = 0; r < 4; ++r) p[r] = scores + std::min(r, rows - 1) * padded;
  for (int dc = 0; dc < head_dim; dc += 16) {
    const bool two = head_dim - dc >= 16;
    __m256 a[4][2];
    for (int r = 0; r < 4; ++r) a[r][0] = a[r][1] = _mm256_setzero_ps();
    for (int j = 0; j < length; ++j) {
      const float* vj = v + j * stride + dc;
      const __m256 v0 = _mm256_loadu_ps(vj);
      const __m256 v1 = two ? _mm256_loadu_ps(vj + 8) : _mm256_setzero_ps();
#pragma GCC unroll 4
      for (int r = 0; r < 4; ++r) {
        const __m256 w = _mm256_broadcast_ss(p[r] + j);
        a[r][0] = _mm256_fmadd_ps(w, v0, a[r][0]);
        a[r][1] = _mm256_fmadd_ps(w, v1, a[r][1]);
      }
    }
    for (int r = 0; r < rows; ++r) {
      float* o = out + (i0 + r) * out_stride + dc;
      const __m256 inv = _mm256_set1_ps(inverse[r]);
      _mm256_storeu_ps(o, _mm256_mul_ps(a[r][0], inv));
      if (two) _mm256_storeu_ps(o + 8, _mm256_mul_ps(a[r][1], inv));
    }
  }
}

TESSERA_AVX2 void AttentionHeadAvx2(const float* q, const float* k, const float* v, size_t stride,
                                    int length, int head_dim, float scale, float* out,
                                    size_t out_stride, std::vector<float>* scratch) {
  const int padded = (length + 15) & ~15;
  scratch->resize(static_cast<size_t>(head_dim + 4) * padded);
  float* kt = scratch->data();  // K transposed: [head_dim][padded], zero-padded.
  float* scores = kt + static_cast<size_t>(head_dim) * padded;
  for (int j = 0; j < length; ++j) {
    const float* kj = k + j * stride;
    for (int d = 0; d < head_dim; ++d) kt[d * padded + j] = kj[d];
  }
  for (int d = 0; d < head_dim; ++d) {
    std::fill(kt + d * padded + length, kt + (d + 1) * padded, 0.0f);
  }
  for (int i0 = 0; i0 < length; i0 += 4) {
    AttentionRows(q, v, stride, length, head_dim, scale, kt, padded, scores, i0,
                  std::min(4, length - i0), out, out_stride);
  }
}

// ---------------------------------------------------------------- AVX-512

#define TESSERA_AVX512 __attribute__((target("avx512f,avx2,fma")))

// Exp8 on 16 lanes.
TESSERA_AVX512 __m512 Exp16(__m512 x) {
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.3365447504f)),
                    _mm512_set1_ps(88.3762626647949f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  x = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  x = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), x);
  __m512 y = _mm512_set1_ps(1.9875691500e-4f);
  y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(1.3981999507e-3f));
  y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(8.3334519073e-3f));
  y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(4.1665795894e-2f));
  y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(1.6666665459e-1f));
  y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(5.0000001201e-1f));
  y = _mm512_fmadd_ps(y, _mm512_mul_ps(x, x), _mm512_add_ps(x, _mm512_set1_ps(1.0f)));
  const __m512i exponent =
      _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
  return _mm512_mul_ps(y, _mm512_castsi512_ps(exponent));
}

// AttentionRows with 16 lanes: 32 score columns of 4 rows at a time, and the
// context in 32-column chunks of 4 rows (head_dim a multiple of 16).
TESSERA_AVX512 void AttentionRowsAvx512(const float* q, const float* v, size_t stride, int length,
                                        int head_dim, float scale, const float* kt, int padded,
                                        float* scores, int i0, int rows, float* out,
                                        size_t out_stride) {
  const float* qr[4];
  for (int r = 0; r < 4; ++r) qr[r] = q + (i0 + std::min(r, rows - 1)) * stride;
  const __m512 scale16 = _mm512_set1_ps(scale);
  for (int jb = 0; jb < padded; jb += 32) {
    __m512 a[4][2];
    for (int r = 0; r < 4; ++r) a[r][0] = a[r][1] = _mm512_setzero_ps();
    for (int d = 0; d < head_dim; ++d) {
      const __m512 k0 = _mm512_loadu_ps(kt + d * padded + jb);
      const __m512 k1 = _mm512_loadu_ps(kt + d * padded + jb + 16);
#pragma GCC unroll 4
      for (int r = 0; r < 4; ++r) {
        const __m512 b = _mm512_set1_ps(qr[r][d]);
        a[r][0] = _mm512_fmadd_ps(b, k0, a[r][0]);
        a[r][1] = _mm512_fmadd_ps(b, k1, a[r][1]);
      }
    }
    for (int r = 0; r < 4; ++r) {
      _mm512_storeu_ps(scores + r * padded + jb, _mm512_mul_ps(a[r][0], scale16));
      _mm512_storeu_ps(scores + r * padded + jb + 16, _mm512_mul_ps(a[r][1], scale16));
    }
  }
  float inverse[4] = {1.0f, 1.0f, 1.0f, 1.0f};
  for (int r = 0; r < rows; ++r) {
    float* s = scores + r * padded;
    for (int j = length; j < padded; ++j) s[j] = -std::numeric_limits<float>::infinity();
    __m512 m = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
    for (int j = 0; j < padded; j += 16) m = _mm512_max_ps(m, _mm512_loadu_ps(s + j));
    const __m512 max16 = _mm512_set1_ps(_mm512_reduce_max_ps(m));
    for (int j = 0; j < padded; j += 16) {
      _mm512_storeu_ps(s + j, Exp16(_mm512_sub_ps(_mm512_loadu_ps(s + j), max16)));
    }
    for (int j = length; j < padded; ++j) s[j] = 0.0f;
    __m512 sum = _mm512_setzero_ps();
    for (int j = 0; j < padded; j += 16) sum = _mm512_add_ps(sum, _mm512_loadu_ps(s + j));
    inverse[r] = 1.0f / _mm512_reduce_add_ps(sum);
  }
  const float* p[4];
  for (int r = 0; r < 4; ++r) p[r] = scores + std::min(r, rows - 1) * padded;
  for (int dc = 0; dc < head_dim; dc += 32) {
    const bool two = head_dim - dc >= 32;
    __m512 a[4][2];
    for (int r = 0; r < 4; ++r) a[r][0] = a[r][1] = _mm512_setzero_ps();
    for (int j = 0; j < length; ++j) {
      const float* vj = v + j * stride + dc;
      const __m512 v0 = _mm512_loadu_ps(vj);
      const __m512 v1 = two ? _mm512_loadu_ps(vj + 16) : _mm512_setzero_ps();
#pragma GCC unroll 4
      for (int r = 0; r < 4; ++r) {
        const __m512 w = _mm512_set1_ps(p[r][j]);
        a[r][0] = _mm512_fmadd_ps(w, v0, a[r][0]);
        a[r][1] = _mm512_fmadd_ps(w, v1, a[r][1]);
      }
    }
    for (int r = 0; r < rows; ++r) {
      float* o = out + (i0 + r) * out_stride + dc;
      const __m512 inv = _mm512_set1_ps(inverse[r]);
      _mm512_storeu_ps(o, _mm512_mul_ps(a[r][0], inv));
      if (two) _mm512_storeu_ps(o + 16, _mm512_mul_ps(a[r][1], inv));
    }
  }
}

TESSERA_AVX512 void AttentionHeadAvx512(const float* q, const float* k, const float* v,
                                        size_t stride, int length, int head_dim, float scale,
                                        float* out, size_t out_stride,
                                        std::vector<float>* scratch) {
  const int padded = (length + 31) & ~31;
  scratch->resize(static_cast<size_t>(head_dim + 4) * padded);
  float* kt = scratch->data();  // K transposed: [head_dim][padded], zero-padded.
  float* scores = kt + static_cast<size_t>(head_dim) * padded;
  for (int j = 0; j < length; ++j) {
    const float* kj = k + j * stride;
    for (int d = 0; d < head_dim; ++d) kt[d * padded + j] = kj[d];
  }
  for (int d = 0; d < head_dim; ++d) {
    std::fill(kt + d * padded + length, kt + (d + 1) * padded, 0.0f);
  }
  for (int i0 = 0; i0 < length; i0 += 4) {
    AttentionRowsAvx512(q, v, stride, length, head_dim, scale, kt, padded, scores, i0,
                        std::min(4, length - i0), out, out_stride);
  }
}

// 0.5 x (1 + erf(x / sqrt 2)), erf by Abramowitz & Stegun 7.1.26 (absolute
// error below 1.5e-7).
TESSERA_AVX2 __m256 GeluErf8(__m256 x) {
  const __m256 sign_mask = _mm256_set1_ps(-0.0f);
  const __m256 z = _mm256_mul_ps(_mm256_andnot_ps(sign_mask, x), _mm256_set1_ps(0.70710678118654752f));
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 t = _mm256_div_ps(one, _mm256_fmadd_ps(_mm256_set1_ps(0.3275911f), z, one));
  __m256 poly = _mm256_set1_ps(1.061405429f);
  poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(-1.453152027f));
  poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(1.421413741f));
  poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(-0.284496736f));
  poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(0.254829592f));
  poly = _mm256_mul_ps(poly, t);
  const __m256 e = Exp8(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(z, z)));
  const __m256 erf_abs = _mm256_fnmadd_ps(poly, e, one);
  const __m256 erf = _mm256_or_ps(erf_abs, _mm256_and_ps(x, sign_mask));
  return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x), _mm256_add_ps(one, erf));
}

// 0.5 x (1 + tanh(u)), tanh(u) = 1 - 2 / (1 + e^{2u}).
TESSERA_AVX2 __m256 GeluTanh8(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 x3 = _mm256_mul_ps(_mm256_mul_ps(x, x), x);
  const __m256 u = _mm256_mul_ps(_mm256_set1_ps(0.7978845608028654f),
                                 _mm256_fmadd_ps(_mm256_set1_ps(0.044715f), x3, x));
  const __m256 e = Exp8(_mm256_add_ps(u, u));
  const __m256 tanh = _mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(one, e)));
  return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x), _mm256_add_ps(one, tanh));
}

TESSERA_AVX2 void GeluErfAvx2(float* x, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, GeluErf8(_mm256_loadu_ps(x + i)));
  for (; i < n; ++i) x[i] = GeluErfScalar(x[i]);
}

TESSERA_AVX2 void GeluTanhAvx2(float* x, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, GeluTanh8(_mm256_loadu_ps(x + i)));
  for (; i < n; ++i) x[i] = GeluTanhScalar(x[i]);
}

TESSERA_AVX2 void AddBiasAvx2(float* y, size_t rows, const float* bias, size_t n) {
  for (size_t r = 0; r < rows; ++r) {
    float* row = y + r * n;
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
      _mm256_storeu_ps(row + j, _mm256_add_ps(_mm256_loadu_ps(row + j), _mm256_loadu_ps(bias + j)));
    }
    for (; j < n; ++j) row[j] += bias[j];
  }
}

TESSERA_AVX2 void AddLayerNormAvx2(float* row, const float* add, size_t n, const float* gamma,
                                   const float* beta, float eps) {
  const size_t vector_end = n & ~size_t{7};
  __m256 sum8 = _mm256_setzero_ps();
  for (size_t j = 0; j < vector_end; j += 8) {
    __m256 x = _mm256_loadu_ps(row + j);
    if (add != nullptr) x = _mm256_add_ps(x, _mm256_loadu_ps(add + j));
    _mm256_storeu_ps(row + j, x);
    sum8 = _mm256_add_ps(sum8, x);
  }
  float sum = HorizontalSum(sum8);
  for (size_t j = vector_end; j < n; ++j) {
    if (add != nullptr) row[j] += add[j];
    sum += row[j];
  }
  const float mean = sum / n;
  const __m256 mean8 = _mm256_set1_ps(mean);
  __m256 squares8 = _mm256_setzero_ps();
  for (size_t j = 0; j < vector_end; j += 8) {
    const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(row + j), mean8);
    squares8 = _mm256_fmadd_ps(d, d, squares8);
  }
  float squares = HorizontalSum(squares8);
  for (size_t j = vector_end; j < n; ++j) squares += (row[j] - mean) * (row[j] - mean);
  const float inverse = 1.0f / std::sqrt(squares / n + eps);
  const __m256 inverse8 = _mm256_set1_ps(inverse);
  for (size_t j = 0; j < vector_end; j += 8) {
    const __m256 normed = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(row + j), mean8), inverse8);
    _mm256_storeu_ps(row + j, _mm256_fmadd_ps(normed, _mm256_loadu_ps(gamma + j),
                                              _mm256_loadu_ps(beta + j)));
  }
  for (size_t j = vector_end; j < n; ++j) row[j] = (row[j] - mean) * inverse * gamma[j] + beta[j];
}

}  // namespace

void ForceScalarEncoderKernels(bool force) { force_scalar.store(force, std::memory_order_relaxed); }

bool EncoderKernelsVectorised() { return UseAvx2(); }

void AttentionHead(const float* q, const float* k, const float* v, size_t stride, int length,
                   int head_dim, float scale, float* out, size_t out_stride,
                   std::vector<float>* scratch) {
  if (length <= 0) return;
  if (UseAvx512() && head_dim % 16 == 0) {
    AttentionHeadAvx512(q, k, v, stride, length, head_dim, scale, out, out_stride, scratch);
  } else if (UseAvx2() && head_dim % 8 == 0) {
    AttentionHeadAvx2(q, k, v, stride, length, head_dim, scale, out, out_stride, scratch);
  } else {
    AttentionHeadScalar(q, k, v, stride, length, head_dim, scale, out, out_stride, scratch);
  }
}

void GeluErf(float* x, size_t n) {
  if (UseAvx2()) return GeluErfAvx2(x, n);
  for (size_t i = 0; i < n; ++i) x[i] = GeluErfScalar(x[i]);
}

void GeluTanh(float* x, size_t n) {
  if (UseAvx2()) return GeluTanhAvx2(x, n);
  for (size_t i = 0; i < n; ++i) x[i] = GeluTanhScalar(x[i]);
}

void Relu(float* x, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] = x[i] > 0 ? x[i] : 0.0f;
}

void AddBias(float* y, size_t rows, const float* bias, size_t n) {
  if (UseAvx2()) return AddBiasAvx2(y, rows, bias, n);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t j = 0; j < n; ++j) y[r * n + j] += bias[j];
  }
}

void AddLayerNorm(float* row, const float* add, size_t n, const float* gamma, const float* beta,
                  float eps) {
  if (UseAvx2()) return AddLayerNormAvx2(row, add, n, gamma, beta, eps);
  AddLayerNormScalar(row, add, n, gamma, beta, eps);
}

}  // namespace tessera::bert

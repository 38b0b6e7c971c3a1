#include "engine/gemm/packed_gemm.h"

#include <cblas.h>
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cstring>

namespace tessera::gemm {
namespace {

#define TESSERA_AVX512 __attribute__((target("avx512f,avx512vl,avx2,fma")))

constexpr int kPanel = kPanelColumns;  // Two zmm registers.
constexpr int kRows = kKernelRows;     // 16 accumulators.
// Bytes of W one block of panels may take, so it stays in L2 while every row
// block of x passes over it.
constexpr int64_t kPanelBlockBytes = 512 << 10;

std::atomic<bool> force_blas{false};

bool CpuHasAvx512() {
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
  return has;
}

// c[i][0..32) = sum_kk a[i][kk] * panel[kk][0..32) for i < rows; columns past
// `columns` are not stored.
TESSERA_AVX512 void Kernel(const float* a, int64_t lda, int rows, const float* panel, int64_t k,
                           float* c, int64_t ldc, int columns) {
  const float* row[kRows];
  for (int i = 0; i < kRows; ++i) row[i] = a + std::min(i, rows - 1) * lda;
  __m512 acc[kRows][2];
#pragma GCC unroll 8
  for (int i = 0; i < kRows; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (int64_t kk = 0; kk < k; ++kk) {
    const __m512 b0 = _mm512_loadu_ps(panel + kk * kPanel);
    const __m512 b1 = _mm512_loadu_ps(panel + kk * kPanel + 16);
#pragma GCC unroll 8
    for (int i = 0; i < kRows; ++i) {
      const __m512 av = _mm512_set1_ps(row[i][kk]);
      acc[i][0] = _mm512_fmadd_ps(av, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(av, b1, acc[i][1]);
    }
  }
  const __mmask16 mask0 = columns >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << columns) - 1);
  const __mmask16 mask1 =
      columns >= 32 ? 0xFFFF : columns <= 16 ? 0 : static_cast<__mmask16>((1u << (columns - 16)) - 1);
#pragma GCC unroll 8
  for (int i = 0; i < kRows; ++i) {
    if (i < rows) {
      _mm512_mask_storeu_ps(c + i * ldc, mask0, acc[i][0]);
      _mm512_mask_storeu_ps(c + i * ldc + 16, mask1, acc[i][1]);
    }
  }
}

// Rows [row_begin, row_end) of y, all columns.
TESSERA_AVX512 void PanelProductAvx512(const float* a, int64_t lda, int rows, const float* panel,
                                       int64_t k, float tile[kRows][kPanel]) {
  Kernel(a, lda, rows, panel, k, &tile[0][0], kPanel, kPanel);
}

void MultiplyRows(const float* x, int64_t row_begin, int64_t row_end, const PackedMatrix& w,
                  const float* panels, float* y) {
  const int64_t n = w.n(), k = w.k();
  const int64_t panel_count = (n + kPanel - 1) / kPanel;
  const int64_t panels_per_block =
      std::max<int64_t>(1, kPanelBlockBytes / (k * kPanel * static_cast<int64_t>(sizeof(float))));
  for (int64_t p0 = 0; p0 < panel_count; p0 += panels_per_block) {
    const int64_t p1 = std::min(panel_count, p0 + panels_per_block);
    for (int64_t r = row_begin; r < row_end; r += kRows) {
      const int rows = static_cast<int>(std::min<int64_t>(kRows, row_end - r));
      for (int64_t p = p0; p < p1; ++p) {
        const int columns = static_cast<int>(std::min<int64_t>(kPanel, n - p * kPanel));
        Kernel(x + r * k, k, rows, panels + p * k * kPanel, k, y + r * n + p * kPanel, n, columns);
      }
    }
  }
}

}  // namespace

void ForceBlasGemm(bool force) { force_blas.store(force, std::memory_order_relaxed); }

bool PackedGemmAvailable() { return CpuHasAvx512() && !force_blas.load(std::memory_order_relaxed); }

PackedMatrix PackedMatrix::Pack(const float* w, int64_t n, int64_t k) {
  PackedMatrix matrix;
  matrix.n_ = n;
  matrix.k_ = k;
  matrix.packed_ = PackedGemmAvailable();
  if (!matrix.packed_) {
    matrix.data_.assign(w, w + n * k);
    return matrix;
  }
  const int64_t panel_count = (n + kPanel - 1) / kPanel;
  // 64-byte aligned panels for aligned loads: over-allocate and offset.
  matrix.data_.assign(panel_count * k * kPanel + 16, 0.0f);
  float* base = matrix.data_.data();
  const size_t misalign = (reinterpret_cast<uintptr_t>(base) / sizeof(float)) % 16;
  float* panels = base + (misalign == 0 ? 0 : 16 - misalign);
  for (int64_t p = 0; p < panel_count; ++p) {
    for (int64_t kk = 0; kk < k; ++kk) {
      float* dst = panels + (p * k + kk) * kPanel;
      for (int j = 0; j < kPanel && p * kPanel + j < n; ++j) dst[j] = w[(p * kPanel + j) * k + kk];
    }
  }
  return matrix;
}

void PackPanels(const float* x, int64_t m, int64_t k, std::vector<float>* panels) {
  const int64_t count = (m + kPanel - 1) / kPanel;
  panels->assign(count * k * kPanel, 0.0f);
  for (int64_t row = 0; row < m; ++row) {
    float* dst = panels->data() + (row / kPanel) * k * kPanel + row % kPanel;
    const float* src = x + row * k;
    for (int64_t kk = 0; kk < k; ++kk) dst[kk * kPanel] = src[kk];
  }
}

void PanelProduct(const float* a, int64_t lda, int rows, const float* panel, int64_t k,
                  float tile[kKernelRows][kPanelColumns]) {
  PanelProductAvx512(a, lda, rows, panel, k, tile);
}

void Multiply(const float* x, int64_t m, const PackedMatrix& w, float* y, int threads) {
  if (m <= 0 || w.n_ <= 0) return;
  if (!w.packed_) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(m),
                static_cast<int>(w.n_), static_cast<int>(w.k_), 1.0f, x, static_cast<int>(w.k_),
                w.data_.data(), static_cast<int>(w.k_), 0.0f, y, static_cast<int>(w.n_));
    return;
  }
  const float* base = w.data_.data();
  const size_t misalign = (reinterpret_cast<uintptr_t>(base) / sizeof(float)) % 16;
  const float* panels = base + (misalign == 0 ? 0 : 16 - misalign);
  // Whole row blocks per thread.
  const int64_t blocks = (m + kRows - 1) / kRows;
  threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, blocks)));
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
  for (int t = 0; t < threads; ++t) {
    const int64_t begin = blocks * t / threads * kRows;
    const int64_t end = std::min(m, blocks * (t + 1) / threads * kRows);
    if (begin < end) MultiplyRows(x, begin, end, w, panels, y);
  }
}

}  // namespace tessera::gemm

// y = x * W^T for a weight matrix W [n, k] (PyTorch's Linear layout) that is
// multiplied many times: W is repacked once into 32-column panels for an
// AVX-512 kernel (x86-64 OpenBLAS builds of Debian 12 do not know recent AMD
// CPUs and run their AVX2 kernels there). Without AVX-512 the matrix stays as it
// is and OpenBLAS multiplies it.
#ifndef TESSERA_ENGINE_GEMM_PACKED_GEMM_H_
#define TESSERA_ENGINE_GEMM_PACKED_GEMM_H_

#include <cstdint>
#include <vector>

namespace tessera::gemm {

// Makes Pack() keep matrices unpacked, so Multiply() uses OpenBLAS (tests).
void ForceBlasGemm(bool force);
// True when Pack() packs for the AVX-512 kernel.
bool PackedGemmAvailable();

class PackedMatrix {
 public:
  PackedMatrix() = default;
  // `w` is row-major [n, k].
  static PackedMatrix Pack(const float* w, int64_t n, int64_t k);

  int64_t n() const { return n_; }
  int64_t k() const { return k_; }
  bool packed() const { return packed_; }

 private:
  friend void Multiply(const float* x, int64_t m, const PackedMatrix& w, float* y, int threads);
  int64_t n_ = 0, k_ = 0;
  bool packed_ = false;
  // packed_: panels of 32 columns, [n / 32 rounded up][k][32], zero-padded;
  // otherwise W as given.
  std::vector<float> data_;
};

// The kernel on its own, for products whose "weights" change every call (LLaMA
// prefill: the activations are packed, the quantised weights dequantised a few
// rows at a time). Panels are kPanelColumns columns of a [k, columns] matrix,
// stored [k][kPanelColumns] and zero-padded.
inline constexpr int kPanelColumns = 32;
inline constexpr int kKernelRows = 8;

// Packs the rows [0, m) of x [m, k] as panels of kPanelColumns rows each:
// panels[p][kk][j] = x[p * kPanelColumns + j][kk]. `panels` is resized.
void PackPanels(const float* x, int64_t m, int64_t k, std::vector<float>* panels);

// tile[i][j] = sum_kk a[i * lda + kk] * panel[kk][j] for i < rows (<= kKernelRows),
// j < kPanelColumns. Needs PackedGemmAvailable().
void PanelProduct(const float* a, int64_t lda, int rows, const float* panel, int64_t k,
                  float tile[kKernelRows][kPanelColumns]);

// y[m, n] = x[m, k] * W^T, rows of y contiguous. `threads` > 1 splits the rows
// of x across OpenMP threads (the OpenBLAS fallback uses OpenBLAS's threads).
void Multiply(const float* x, int64_t m, const PackedMatrix& w, float* y, int threads);

}  // namespace tessera::gemm

#endif  // TESSERA_ENGINE_GEMM_PACKED_GEMM_H_

// Dot products of one weight row with an f32 activation vector, for every weight
// type the LLaMA runtime keeps memory-mapped (f32, f16, bf16, Q8_0, Q4_0), and
// the row-wise conversion to f32 that batched (prefill) matmuls use. AVX2/FMA
// versions are chosen once at run time (__builtin_cpu_supports), with scalar
// fallbacks for older CPUs and for tests.
#ifndef TESSERA_ENGINE_LLAMA_KERNELS_H_
#define TESSERA_ENGINE_LLAMA_KERNELS_H_

#include <cstddef>
#include <cstdint>

#include "engine/model/tensor.h"

namespace tessera::llama {

// Which implementation the dispatching functions below use.
enum class KernelIsa { kScalar, kAvx2, kAvx512 };

// Unless ForceScalarKernels(true): kAvx512 when the CPU also has AVX-512 F, BW
// and VL, else kAvx2 when it has AVX2, FMA and F16C, else kScalar.
KernelIsa ActiveKernelIsa();
// Makes every kernel take the scalar path (for tests and comparisons).
void ForceScalarKernels(bool force);

// True for the weight types the kernels handle.
bool IsSupportedWeightType(model::DType dtype);

// sum_i w[i] * x[i] over `n` elements of a row stored as `dtype`. For Q8_0/Q4_0,
// `n` must be a multiple of 32 (the loader checks it).
float DotRow(model::DType dtype, const uint8_t* row, const float* x, size_t n);

// out[r] = DotRow(dtype, rows + r * row_bytes, x, n) for r in [0, count), with
// the dispatch done once.
void DotRows(model::DType dtype, const uint8_t* rows, size_t row_bytes, int64_t count,
             const float* x, size_t n, float* out);

// The `n` elements of a row stored as `dtype`, as f32.
void RowToF32(model::DType dtype, const uint8_t* row, float* out, size_t n);

// Scalar and AVX2 versions, exposed so tests can compare them directly.
float DotRowScalar(model::DType dtype, const uint8_t* row, const float* x, size_t n);
float DotRowAvx2(model::DType dtype, const uint8_t* row, const float* x, size_t n);
// Falls back to DotRowAvx2 on CPUs without AVX-512.
float DotRowAvx512(model::DType dtype, const uint8_t* row, const float* x, size_t n);

}  // namespace tessera::llama

#endif  // TESSERA_ENGINE_LLAMA_KERNELS_H_

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
enum class KernelIsa { kScalar, kAvx2 };

// kAvx2 when the CPU has AVX2, FMA and F16C and ForceScalarKernels(false).
KernelIsa ActiveKernelIsa();
// Makes every kernel take the scalar path (for tests and comparisons).
void ForceScalarKernels(bool force);

// True for the weight types the kernels handle.
bool IsSupportedWeightType(model::DType dtype);

// sum_i w[i] * x[i] over `n` elements of a row stored as `dtype`. For Q8_0/Q4_0,
// `n` must be a multiple of 32 (the loader checks it).
float DotRow(model::DType dtype, const uint8_t* row, const float* x, size_t n);

// The `n` elements of a row stored as `dtype`, as f32.
void RowToF32(model::DType dtype, const uint8_t* row, float* out, size_t n);

// Scalar and AVX2 versions, exposed so tests can compare them directly.
float DotRowScalar(model::DType dtype, const uint8_t* row, const float* x, size_t n);
float DotRowAvx2(model::DType dtype, const uint8_t* row, const float* x, size_t n);

}  // namespace tessera::llama

#endif  // TESSERA_ENGINE_LLAMA_KERNELS_H_

// The non-GEMM work of the BERT encoder, vectorised: one (sequence, head) of
// self-attention, GELU, bias and LayerNorm. AVX2/FMA versions (attention also
// AVX-512) are chosen at run time (the build targets x86-64-v2), with scalar
// fallbacks that tests compare against.
#ifndef TESSERA_ENGINE_BERT_ENCODER_KERNELS_H_
#define TESSERA_ENGINE_BERT_ENCODER_KERNELS_H_

#include <cstddef>
#include <vector>

namespace tessera::bert {

// Makes every kernel take the scalar path (tests).
void ForceScalarEncoderKernels(bool force);
// True when the vector kernels run.
bool EncoderKernelsVectorised();

// out[i] = softmax_j(scale * q_i . k_j) v_j for i, j < length, where q_i, k_i,
// v_i are `head_dim` floats at q + i * stride (and k, v alike), and out_i is
// at out + i * out_stride. `scratch` is resized as needed (reuse it).
void AttentionHead(const float* q, const float* k, const float* v, size_t stride, int length,
                   int head_dim, float scale, float* out, size_t out_stride,
                   std::vector<float>* scratch);

// In place over n values: x * Phi(x) with the exact (erf) GELU, or the tanh
// approximation ("gelu_new", "gelu_pytorch_tanh"), or max(x, 0).
void GeluErf(float* x, size_t n);
void GeluTanh(float* x, size_t n);
void Relu(float* x, size_t n);

// y[r][j] += bias[j] for `rows` rows of n.
void AddBias(float* y, size_t rows, const float* bias, size_t n);

// row = LayerNorm(row + add) with gamma, beta (add may be null).
void AddLayerNorm(float* row, const float* add, size_t n, const float* gamma, const float* beta,
                  float eps);

}  // namespace tessera::bert

#endif  // TESSERA_ENGINE_BERT_ENCODER_KERNELS_H_

// The per-row pieces of the LLaMA forward pass that every executor of the
// model shares (LlamaSequence's contiguous KV cache, the serving engine's
// paged one), so they compute the same floats in the same order.
#ifndef TESSERA_ENGINE_LLAMA_TRANSFORMER_OPS_H_
#define TESSERA_ENGINE_LLAMA_TRANSFORMER_OPS_H_

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "engine/llama/kernels.h"
#include "engine/llama/llama_model.h"

namespace tessera::llama {

// out = weight * x / rms(x).
void RmsNorm(const float* x, const float* weight, int n, float eps, float* out);

// Rotates the pairs of one head by the angles whose cos/sin are given
// (head_dim / 2 of each), in the model's pair layout.
void ApplyRope(float* head, const float* cos, const float* sin, int head_dim, RopeLayout layout);

inline float Silu(float x) { return x / (1.0f + std::exp(-x)); }

// Softmax attention of one query head over positions [0, last]: `key_at(p)`
// and `value_at(p)` give that head's key and value at position p. `scores`
// has room for last + 1 floats; `out` receives head_dim floats.
template <typename KeyAt, typename ValueAt>
void AttendOneQuery(const float* q, int last, int head_dim, float scale, KeyAt key_at,
                    ValueAt value_at, float* scores, float* out) {
  float max_score = -INFINITY;
  for (int p = 0; p <= last; ++p) {
    scores[p] = DotRow(model::DType::kF32, reinterpret_cast<const uint8_t*>(key_at(p)), q,
                       head_dim) *
                scale;
    max_score = std::max(max_score, scores[p]);
  }
  float sum = 0;
  for (int p = 0; p <= last; ++p) {
    scores[p] = std::exp(scores[p] - max_score);
    sum += scores[p];
  }
  const float inv_sum = 1.0f / sum;
  std::fill(out, out + head_dim, 0.0f);
  for (int p = 0; p <= last; ++p) {
    const float weight = scores[p] * inv_sum;
    const float* v = value_at(p);
    for (int i = 0; i < head_dim; ++i) out[i] += weight * v[i];
  }
}

}  // namespace tessera::llama

#endif  // TESSERA_ENGINE_LLAMA_TRANSFORMER_OPS_H_

#include "engine/llama/transformer_ops.h"

namespace tessera::llama {

void RmsNorm(const float* x, const float* weight, int n, float eps, float* out) {
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  const float scale = 1.0f / std::sqrt(static_cast<float>(sum / n) + eps);
  for (int i = 0; i < n; ++i) out[i] = weight[i] * (x[i] * scale);
}

void ApplyRope(float* head, const float* cos, const float* sin, int head_dim, RopeLayout layout) {
  const int half = head_dim / 2;
  for (int i = 0; i < half; ++i) {
    const int a = layout == RopeLayout::kRotateHalf ? i : 2 * i;
    const int b = layout == RopeLayout::kRotateHalf ? i + half : 2 * i + 1;
    const float x0 = head[a], x1 = head[b];
    head[a] = x0 * cos[i] - x1 * sin[i];
    head[b] = x1 * cos[i] + x0 * sin[i];
  }
}

}  // namespace tessera::llama

#include "engine/serving/cpu_executor.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/llama/kernels.h"
#include "engine/llama/transformer_ops.h"

namespace tessera::serving {
namespace {

using llama::LlamaHParams;
using llama::LlamaModel;
using llama::WeightMatrix;

// Weight rows one task multiplies against every gathered token before moving
// on: small enough to stay in L1/L2 while the tokens pass over them.
constexpr int64_t kRowTile = 16;

class CpuExecutor final : public ModelExecutor {
 public:
  CpuExecutor(const LlamaModel& model, KvCacheGeometry geometry)
      : model_(model), hparams_(model.hparams()), geometry_(geometry) {
    const LlamaHParams& h = hparams_;
    kv_dim_ = h.num_kv_heads * h.head_dim;
    layer_stride_ = static_cast<size_t>(geometry.block_size) * kv_dim_;
    block_stride_ = layer_stride_ * h.num_layers;
    keys_.assign(block_stride_ * geometry.num_blocks, 0.0f);
    values_.assign(keys_.size(), 0.0f);
  }

  const LlamaHParams& hparams() const override { return hparams_; }
  KvCacheGeometry geometry() const override { return geometry_; }
  std::string device_name() const override {
    return absl::StrCat("cpu (", model_.num_threads(), " threads)");
  }

  absl::Status Execute(absl::Span<const SequenceStep> batch, std::vector<float>* logits) override;
  absl::Status CopyBlocks(absl::Span<const std::pair<int32_t, int32_t>> copies) override;

 private:
  // out[t] = w * x[t] for the rows of `x` listed in `single_rows` (each a
  // one-token step): row tiles of w against every token, each dot product the
  // kernel a one-token LlamaSequence step uses, so results match it exactly.
  void TiledMatVec(const WeightMatrix& w, const float* x, absl::Span<const int> rows,
                   float* out) const;
  // out = w * x for every row: the one-token rows through TiledMatVec, each
  // multi-token step through the model's MatMul (as LlamaSequence prefills).
  void Project(const WeightMatrix& w, const float* x, float* out) const;

  float* KeyAt(int32_t block, int layer, int slot) {
    return &keys_[block * block_stride_ + layer * layer_stride_ + static_cast<size_t>(slot) * kv_dim_];
  }
  float* ValueAt(int32_t block, int layer, int slot) {
    return &values_[block * block_stride_ + layer * layer_stride_ +
                    static_cast<size_t>(slot) * kv_dim_];
  }

  const LlamaModel& model_;
  const LlamaHParams hparams_;
  const KvCacheGeometry geometry_;
  int kv_dim_ = 0;
  size_t layer_stride_ = 0;  // Floats of one layer in a block.
  size_t block_stride_ = 0;  // Floats of one block (all layers).
  std::vector<float> keys_;    // [block][layer][slot][kv_dim]
  std::vector<float> values_;  // Same layout.

  // Per-step layout, rebuilt by Execute.
  struct StepRange {
    int first_row = 0;
    int tokens = 0;
  };
  std::vector<StepRange> ranges_;
  std::vector<int> single_rows_;  // Rows of one-token steps.
  std::vector<float> x_, norm_, q_, k_, v_, attn_, gate_, up_, rope_cos_, rope_sin_;
};

void CpuExecutor::TiledMatVec(const WeightMatrix& w, const float* x, absl::Span<const int> rows,
                              float* out) const {
  if (rows.empty()) return;
  const int64_t cols = w.cols;
  model_.pool()->ParallelFor(w.rows, kRowTile, [&](int64_t begin, int64_t end) {
    for (int64_t r0 = begin; r0 < end; r0 += kRowTile) {
      const int64_t count = std::min(kRowTile, end - r0);
      for (int row : rows) {
        llama::DotRows(w.dtype, w.Row(r0), w.row_bytes, count, x + static_cast<size_t>(row) * cols,
                       cols, out + static_cast<size_t>(row) * w.rows + r0);
      }
    }
  });
}

void CpuExecutor::Project(const WeightMatrix& w, const float* x, float* out) const {
  TiledMatVec(w, x, single_rows_, out);
  for (const StepRange& range : ranges_) {
    if (range.tokens == 1) continue;
    model_.MatMul(w, x + static_cast<size_t>(range.first_row) * w.cols, range.tokens,
                  out + static_cast<size_t>(range.first_row) * w.rows);
  }
}

absl::Status CpuExecutor::CopyBlocks(absl::Span<const std::pair<int32_t, int32_t>> copies) {
  absl::Status valid = ValidateCopies(copies, geometry_);
  if (!valid.ok()) return valid;
  for (const auto& [from, to] : copies) {
    if (from == to) continue;
    std::memcpy(&keys_[to * block_stride_], &keys_[from * block_stride_],
                block_stride_ * sizeof(float));
    std::memcpy(&values_[to * block_stride_], &values_[from * block_stride_],
                block_stride_ * sizeof(float));
  }
  return absl::OkStatus();
}

absl::Status CpuExecutor::Execute(absl::Span<const SequenceStep> batch, std::vector<float>* logits) {
  absl::Status valid = ValidateStep(batch, hparams_, geometry_);
  if (!valid.ok()) return valid;
  const LlamaHParams& h = hparams_;
  const int dim = h.dim, head_dim = h.head_dim, half = head_dim / 2, kv_dim = kv_dim_;
  const int group = h.num_heads / h.num_kv_heads;
  const int bs = geometry_.block_size;
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));

  ranges_.clear();
  single_rows_.clear();
  int total = 0;
  for (const SequenceStep& step : batch) {
    ranges_.push_back({total, static_cast<int>(step.tokens.size())});
    if (step.tokens.size() == 1) single_rows_.push_back(total);
    total += static_cast<int>(step.tokens.size());
  }
  const size_t t_all = total;
  x_.resize(t_all * dim);
  norm_.resize(t_all * dim);
  q_.resize(t_all * dim);
  k_.resize(t_all * kv_dim);
  v_.resize(t_all * kv_dim);
  attn_.resize(t_all * dim);
  gate_.resize(t_all * h.ffn_dim);
  up_.resize(t_all * h.ffn_dim);
  rope_cos_.resize(t_all * half);
  rope_sin_.resize(t_all * half);

  const WeightMatrix& embedding = model_.embedding();
  const absl::Span<const float> inv_freq = model_.inv_freq();
  for (size_t s = 0; s < batch.size(); ++s) {
    for (int t = 0; t < ranges_[s].tokens; ++t) {
      const size_t row = ranges_[s].first_row + t;
      llama::RowToF32(embedding.dtype, embedding.Row(batch[s].tokens[t]), &x_[row * dim], dim);
      const int pos = batch[s].start_position + t;
      for (int i = 0; i < half; ++i) {
        // As LlamaSequence's table: the angle in float, then cos/sin.
        const float angle = static_cast<float>(pos) * inv_freq[i];
        rope_cos_[row * half + i] = std::cos(angle);
        rope_sin_[row * half + i] = std::sin(angle);
      }
    }
  }

  int longest = 0;
  for (const SequenceStep& step : batch) {
    longest = std::max(longest, step.start_position + static_cast<int>(step.tokens.size()));
  }
  const absl::Span<const LlamaModel::Layer> layers = model_.layers();
  for (int l = 0; l < h.num_layers; ++l) {
    const LlamaModel::Layer& layer = layers[l];
    for (size_t t = 0; t < t_all; ++t) {
      llama::RmsNorm(&x_[t * dim], layer.attn_norm.data(), dim, h.rms_norm_eps, &norm_[t * dim]);
    }
    Project(layer.q, norm_.data(), q_.data());
    Project(layer.k, norm_.data(), k_.data());
    Project(layer.v, norm_.data(), v_.data());
    for (size_t s = 0; s < batch.size(); ++s) {
      const SequenceStep& step = batch[s];
      for (int t = 0; t < ranges_[s].tokens; ++t) {
        const size_t row = ranges_[s].first_row + t;
        const int pos = step.start_position + t;
        const float* cos = &rope_cos_[row * half];
        const float* sin = &rope_sin_[row * half];
        for (int head = 0; head < h.num_heads; ++head) {
          llama::ApplyRope(&q_[row * dim + head * head_dim], cos, sin, head_dim, h.rope_layout);
        }
        float* k = &k_[row * kv_dim];
        for (int head = 0; head < h.num_kv_heads; ++head) {
          llama::ApplyRope(k + head * head_dim, cos, sin, head_dim, h.rope_layout);
        }
        const int32_t block = step.block_table[pos / bs];
        std::memcpy(KeyAt(block, l, pos % bs), k, kv_dim * sizeof(float));
        std::memcpy(ValueAt(block, l, pos % bs), &v_[row * kv_dim], kv_dim * sizeof(float));
      }
    }
    // One task per (sequence, head): causal attention over its block table.
    const int64_t tasks = static_cast<int64_t>(batch.size()) * h.num_heads;
    model_.pool()->ParallelFor(tasks, 1, [&](int64_t begin, int64_t end) {
      std::vector<float> scores(longest);
      for (int64_t task = begin; task < end; ++task) {
        const size_t s = task / h.num_heads;
        const int head = static_cast<int>(task % h.num_heads);
        const SequenceStep& step = batch[s];
        const int kv_offset = (head / group) * head_dim;
        for (int t = 0; t < ranges_[s].tokens; ++t) {
          const size_t row = ranges_[s].first_row + t;
          llama::AttendOneQuery(
              &q_[row * dim + head * head_dim], step.start_position + t, head_dim, scale,
              [&](int p) { return KeyAt(step.block_table[p / bs], l, p % bs) + kv_offset; },
              [&](int p) { return ValueAt(step.block_table[p / bs], l, p % bs) + kv_offset; },
              scores.data(), &attn_[row * dim + head * head_dim]);
        }
      }
    });
    Project(layer.o, attn_.data(), norm_.data());
    for (size_t i = 0; i < t_all * dim; ++i) x_[i] += norm_[i];
    for (size_t t = 0; t < t_all; ++t) {
      llama::RmsNorm(&x_[t * dim], layer.ffn_norm.data(), dim, h.rms_norm_eps, &norm_[t * dim]);
    }
    Project(layer.gate, norm_.data(), gate_.data());
    Project(layer.up, norm_.data(), up_.data());
    for (size_t i = 0; i < t_all * h.ffn_dim; ++i) gate_[i] = llama::Silu(gate_[i]) * up_[i];
    Project(layer.down, gate_.data(), norm_.data());
    for (size_t i = 0; i < t_all * dim; ++i) x_[i] += norm_[i];
  }

  // The rows whose logits are wanted, normed into norm_ in output order; the
  // last-token rows go through matrix-vector products (as LlamaSequence's do).
  std::vector<int> single_out;
  std::vector<StepRange> multi_out;
  int out_rows = 0;
  for (size_t s = 0; s < batch.size(); ++s) {
    const int rows = batch[s].all_logits ? ranges_[s].tokens : 1;
    const int first = ranges_[s].first_row + ranges_[s].tokens - rows;
    for (int r = 0; r < rows; ++r) {
      llama::RmsNorm(&x_[static_cast<size_t>(first + r) * dim], model_.output_norm().data(), dim,
                     h.rms_norm_eps, &norm_[static_cast<size_t>(out_rows + r) * dim]);
    }
    if (rows == 1) {
      single_out.push_back(out_rows);
    } else {
      multi_out.push_back({out_rows, rows});
    }
    out_rows += rows;
  }
  logits->resize(static_cast<size_t>(out_rows) * h.vocab_size);
  TiledMatVec(model_.output(), norm_.data(), single_out, logits->data());
  for (const StepRange& range : multi_out) {
    model_.MatMul(model_.output(), &norm_[static_cast<size_t>(range.first_row) * dim],
                  range.tokens, logits->data() + static_cast<size_t>(range.first_row) * h.vocab_size);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateCopies(absl::Span<const std::pair<int32_t, int32_t>> copies,
                            const KvCacheGeometry& geometry) {
  for (const auto& [from, to] : copies) {
    if (from < 0 || from >= geometry.num_blocks || to < 0 || to >= geometry.num_blocks) {
      return absl::InvalidArgumentError(absl::StrCat("block copy ", from, " -> ", to,
                                                     " outside the pool of ", geometry.num_blocks));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateStep(absl::Span<const SequenceStep> batch, const LlamaHParams& h,
                          KvCacheGeometry geometry) {
  if (batch.empty()) return absl::InvalidArgumentError("empty step");
  for (size_t s = 0; s < batch.size(); ++s) {
    const SequenceStep& step = batch[s];
    if (step.tokens.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("sequence ", s, " of the step has no tokens"));
    }
    if (step.start_position < 0) {
      return absl::InvalidArgumentError(absl::StrCat("negative start position in sequence ", s));
    }
    for (int32_t id : step.tokens) {
      if (id < 0 || id >= h.vocab_size) {
        return absl::InvalidArgumentError(
            absl::StrCat("token id ", id, " outside the vocabulary [0, ", h.vocab_size, ")"));
      }
    }
    const int64_t end = static_cast<int64_t>(step.start_position) + step.tokens.size();
    if (end > h.context_length) {
      return absl::InvalidArgumentError(absl::StrCat("positions up to ", end,
                                                     " exceed the context of ", h.context_length));
    }
    const int64_t blocks = (end + geometry.block_size - 1) / geometry.block_size;
    if (static_cast<int64_t>(step.block_table.size()) < blocks) {
      return absl::InvalidArgumentError(absl::StrCat("block table of ", step.block_table.size(),
                                                     " blocks cannot hold ", end, " positions"));
    }
    for (int64_t b = 0; b < blocks; ++b) {
      if (step.block_table[b] < 0 || step.block_table[b] >= geometry.num_blocks) {
        return absl::InvalidArgumentError(absl::StrCat("block id ", step.block_table[b],
                                                       " outside the pool of ",
                                                       geometry.num_blocks));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ModelExecutor>> NewCpuExecutor(const llama::LlamaModel& model,
                                                               KvCacheGeometry geometry) {
  if (geometry.num_blocks <= 0 || geometry.block_size <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("KV pool of ", geometry.num_blocks,
                                                   " blocks of ", geometry.block_size,
                                                   " positions"));
  }
  return std::unique_ptr<ModelExecutor>(new CpuExecutor(model, geometry));
}

}  // namespace tessera::serving

#include "engine/cuda/cuda_executor.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "engine/cuda/device.h"
#include "engine/cuda/kernels.h"
#include "engine/cuda/step_layout.h"
#include "engine/model/tensor.h"
#include "engine/serving/cpu_executor.h"

namespace tessera::cuda {
namespace {

using llama::LlamaHParams;
using llama::LlamaModel;
using llama::WeightMatrix;
using model::DType;
using serving::KvCacheGeometry;
using serving::SequenceStep;

// Returned by early exits: `RETURN_IF_ERROR(expr)`.
#define TESSERA_CUDA_RETURN_IF_ERROR(expr)        \
  do {                                            \
    if (absl::Status _status = (expr); !_status.ok()) return _status; \
  } while (0)

absl::StatusOr<WeightType> KernelWeightType(DType dtype, absl::string_view name) {
  switch (dtype) {
    case DType::kF32: return WeightType::kF32;
    case DType::kF16: return WeightType::kF16;
    case DType::kBF16: return WeightType::kBF16;
    case DType::kQ8_0: return WeightType::kQ8_0;
    case DType::kQ4_0: return WeightType::kQ4_0;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          name, " is ", model::DTypeName(dtype), "; the CUDA path reads F32, F16, BF16, Q8_0, Q4_0"));
  }
}

// Bytes of a weight matrix, checking that its rows are contiguous (they are
// in every file the loaders read) so that it uploads in one copy.
absl::StatusOr<size_t> MatrixBytes(const WeightMatrix& w, absl::string_view name) {
  auto expected = model::TensorByteSize(w.dtype, {1, w.cols});
  if (!expected.ok()) return expected.status();
  if (*expected != w.row_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(name, " has ", w.row_bytes,
                                                   " bytes a row, expected ", *expected));
  }
  return static_cast<size_t>(w.rows) * w.row_bytes;
}

class CudaExecutor : public serving::ModelExecutor {
 public:
  CudaExecutor(const LlamaHParams& hparams, KvCacheGeometry geometry, int device,
               std::string name)
      : hparams_(hparams), geometry_(geometry), device_(device), name_(std::move(name)) {}

  const LlamaHParams& hparams() const override { return hparams_; }
  KvCacheGeometry geometry() const override { return geometry_; }
  std::string device_name() const override { return name_; }

  absl::Status Init(const LlamaModel& model);
  absl::Status Execute(absl::Span<const SequenceStep> batch, std::vector<float>* logits) override;
  absl::Status CopyBlocks(absl::Span<const std::pair<int32_t, int32_t>> copies) override;

 private:
  struct Layer {
    DeviceBuffer attn_norm, ffn_norm;  // f32 [dim]
    DeviceBuffer qkv;                  // f16 [dim + 2 kv_dim, dim]: q, k, v rows.
    DeviceBuffer o;                    // f16 [dim, dim]
    DeviceBuffer gate_up;              // f16 [2 ffn_dim, dim]: gate, up rows.
    DeviceBuffer down;                 // f16 [dim, ffn_dim]
  };

  int kv_dim() const { return hparams_.num_kv_heads * hparams_.head_dim; }
  int qkv_dim() const { return hparams_.dim + 2 * kv_dim(); }
  size_t block_elements() const { return static_cast<size_t>(geometry_.block_size) * kv_dim(); }
  size_t layer_elements() const { return block_elements() * geometry_.num_blocks; }
  // Bytes of KV pool (keys and values, every layer) one block takes.
  size_t BlockBytes() const {
    return 2 * block_elements() * hparams_.num_layers * sizeof(uint16_t);
  }
  size_t ScratchBytes(int tokens, int rows) const;

  absl::Status UploadFloats(absl::Span<const float> values, DeviceBuffer* out);
  // Converts `w` to f16 into `dst` (rows * cols halves), through `staging_`.
  absl::Status UploadF16(const WeightMatrix& w, absl::string_view name, uint16_t* dst);
  absl::Status EnsureScratch(int tokens, int rows);
  absl::Status Check(int error, absl::string_view what) const {
    return CudaStatus(error, absl::StrCat("launch of ", what));
  }

  const LlamaHParams hparams_;
  KvCacheGeometry geometry_;
  const int device_;
  const std::string name_;
  WeightType embedding_type_ = WeightType::kF32;
  size_t embedding_row_bytes_ = 0;

  absl::Mutex mutex_;
  std::unique_ptr<Stream> stream_;
  std::unique_ptr<Blas> blas_;
  DeviceBuffer staging_;
  DeviceBuffer embedding_;    // File type, [vocab] rows.
  DeviceBuffer output_;       // f16 [vocab, dim]
  DeviceBuffer output_norm_;  // f32 [dim]
  DeviceBuffer inv_freq_;     // f32 [head_dim / 2]
  std::vector<Layer> layers_;
  DeviceBuffer key_cache_, value_cache_;  // f16 [layer][block][slot][kv_dim]

  // Activations, sized for scratch_tokens_ tokens and scratch_rows_ logits rows.
  int scratch_tokens_ = 0, scratch_rows_ = 0;
  DeviceBuffer x_;        // f32 [tokens, dim], the residual stream.
  DeviceBuffer norm_;     // f16 [tokens, dim]
  DeviceBuffer qkv_;      // f32 [tokens, qkv_dim]
  DeviceBuffer attn_;     // f16 [tokens, dim]
  DeviceBuffer gate_up_;  // f32 [tokens, 2 ffn_dim]
  DeviceBuffer act_;      // f16 [tokens, ffn_dim]
  DeviceBuffer logits_;   // f32 [rows, vocab]
  StepLayout step_;    // Host copy of the step's metadata (step_layout.h).
  DeviceBuffer meta_;  // Its device copy.
  std::vector<int32_t> host_pairs_;
  DeviceBuffer pairs_;
};

absl::Status CudaExecutor::UploadFloats(absl::Span<const float> values, DeviceBuffer* out) {
  auto buffer = DeviceBuffer::Allocate(values.size() * sizeof(float));
  if (!buffer.ok()) return buffer.status();
  *out = std::move(*buffer);
  return CopyToDevice(out->data(), values.data(), values.size() * sizeof(float), *stream_);
}

absl::Status CudaExecutor::UploadF16(const WeightMatrix& w, absl::string_view name,
                                     uint16_t* dst) {
  auto type = KernelWeightType(w.dtype, name);
  if (!type.ok()) return type.status();
  auto bytes = MatrixBytes(w, name);
  if (!bytes.ok()) return bytes.status();
  if (*bytes > staging_.bytes()) {
    return absl::InternalError(absl::StrCat("staging buffer too small for ", name));
  }
  // The stream orders this copy after the conversion that last read staging_.
  TESSERA_CUDA_RETURN_IF_ERROR(CopyToDevice(staging_.data(), w.data, *bytes, *stream_));
  return Check(LaunchConvertToF16(*type, staging_.data(), w.rows * w.cols, dst, stream_->handle()),
               absl::StrCat("f16 conversion of ", name));
}

absl::Status CudaExecutor::Init(const LlamaModel& model) {
  const LlamaHParams& h = hparams_;
  if (h.num_heads * h.head_dim != h.dim || h.num_kv_heads <= 0 ||
      h.num_heads % h.num_kv_heads != 0 || h.head_dim % 2 != 0) {
    return absl::InvalidArgumentError(absl::StrCat("unsupported head layout: dim ", h.dim, ", ",
                                                   h.num_heads, " heads of ", h.head_dim, ", ",
                                                   h.num_kv_heads, " kv heads"));
  }
  if (h.head_dim > kMaxHeadDim) {
    return absl::InvalidArgumentError(absl::StrCat("head dimension ", h.head_dim,
                                                   " exceeds the CUDA kernels' ", kMaxHeadDim));
  }
  TESSERA_CUDA_RETURN_IF_ERROR(UseDevice(device_));
  auto stream = Stream::Create();
  if (!stream.ok()) return stream.status();
  stream_ = std::move(*stream);
  auto blas = Blas::Create(*stream_);
  if (!blas.ok()) return blas.status();
  blas_ = std::move(*blas);

  // Staging for the largest matrix in its file type.
  size_t largest = 0;
  auto grow = [&](const WeightMatrix& w, absl::string_view name) -> absl::Status {
    auto bytes = MatrixBytes(w, name);
    if (!bytes.ok()) return bytes.status();
    largest = std::max(largest, *bytes);
    return absl::OkStatus();
  };
  TESSERA_CUDA_RETURN_IF_ERROR(grow(model.output(), "output"));
  for (size_t l = 0; l < model.layers().size(); ++l) {
    const LlamaModel::Layer& layer = model.layers()[l];
    for (const WeightMatrix* w : {&layer.q, &layer.k, &layer.v, &layer.o, &layer.gate, &layer.up,
                                  &layer.down}) {
      TESSERA_CUDA_RETURN_IF_ERROR(grow(*w, absl::StrCat("layer ", l)));
    }
  }
  auto staging = DeviceBuffer::Allocate(largest);
  if (!staging.ok()) return staging.status();
  staging_ = std::move(*staging);

  const WeightMatrix& embedding = model.embedding();
  auto embedding_type = KernelWeightType(embedding.dtype, "token embedding");
  if (!embedding_type.ok()) return embedding_type.status();
  embedding_type_ = *embedding_type;
  embedding_row_bytes_ = embedding.row_bytes;
  auto embedding_bytes = MatrixBytes(embedding, "token embedding");
  if (!embedding_bytes.ok()) return embedding_bytes.status();
  auto table = DeviceBuffer::Allocate(*embedding_bytes);
  if (!table.ok()) return table.status();
  embedding_ = std::move(*table);
  TESSERA_CUDA_RETURN_IF_ERROR(
      CopyToDevice(embedding_.data(), embedding.data, *embedding_bytes, *stream_));

  auto f16_buffer = [](int64_t rows, int64_t cols, DeviceBuffer* out) -> absl::Status {
    auto buffer = DeviceBuffer::Allocate(static_cast<size_t>(rows * cols) * sizeof(uint16_t));
    if (!buffer.ok()) return buffer.status();
    *out = std::move(*buffer);
    return absl::OkStatus();
  };
  const int64_t dim = h.dim, kv = kv_dim(), ffn = h.ffn_dim;
  TESSERA_CUDA_RETURN_IF_ERROR(f16_buffer(h.vocab_size, dim, &output_));
  TESSERA_CUDA_RETURN_IF_ERROR(UploadF16(model.output(), "output", output_.as<uint16_t>()));
  TESSERA_CUDA_RETURN_IF_ERROR(UploadFloats(model.output_norm(), &output_norm_));
  TESSERA_CUDA_RETURN_IF_ERROR(UploadFloats(model.inv_freq(), &inv_freq_));

  layers_.resize(model.layers().size());
  for (size_t l = 0; l < layers_.size(); ++l) {
    const LlamaModel::Layer& src = model.layers()[l];
    Layer& dst = layers_[l];
    const std::string name = absl::StrCat("layer ", l);
    TESSERA_CUDA_RETURN_IF_ERROR(UploadFloats(src.attn_norm, &dst.attn_norm));
    TESSERA_CUDA_RETURN_IF_ERROR(UploadFloats(src.ffn_norm, &dst.ffn_norm));
    TESSERA_CUDA_RETURN_IF_ERROR(f16_buffer(dim + 2 * kv, dim, &dst.qkv));
    uint16_t* qkv = dst.qkv.as<uint16_t>();
    TESSERA_CUDA_RETURN_IF_ERROR(UploadF16(src.q, name + " q", qkv));
    TESSERA_CUDA_RETURN_IF_ERROR(UploadF16(src.k, name + " k", qkv + dim * dim));
    TESSERA_CUDA_RETURN_IF_ERROR(UploadF16(src.v, name + " v", qkv + (dim + kv) * dim));
    TESSERA_CUDA_RETURN_IF_ERROR(f16_buffer(dim, dim, &dst.o));
    TESSERA_CUDA_RETURN_IF_ERROR(UploadF16(src.o, name + " o", dst.o.as<uint16_t>()));
    TESSERA_CUDA_RETURN_IF_ERROR(f16_buffer(2 * ffn, dim, &dst.gate_up));
    uint16_t* gate_up = dst.gate_up.as<uint16_t>();
    TESSERA_CUDA_RETURN_IF_ERROR(UploadF16(src.gate, name + " gate", gate_up));
    TESSERA_CUDA_RETURN_IF_ERROR(UploadF16(src.up, name + " up", gate_up + ffn * dim));
    TESSERA_CUDA_RETURN_IF_ERROR(f16_buffer(dim, ffn, &dst.down));
    TESSERA_CUDA_RETURN_IF_ERROR(UploadF16(src.down, name + " down", dst.down.as<uint16_t>()));
  }
  TESSERA_CUDA_RETURN_IF_ERROR(stream_->Synchronize());
  staging_ = DeviceBuffer();  // Freed before the KV pool takes what is left.

  constexpr int kReservedTokens = 2048;
  if (geometry_.num_blocks == 0) {
    auto info = GetDeviceInfo(device_);
    if (!info.ok()) return info.status();
    const double usable = 0.9 * static_cast<double>(info->free_memory) -
                          static_cast<double>(ScratchBytes(kReservedTokens, kReservedTokens));
    geometry_.num_blocks = usable > 0 ? static_cast<int>(std::min<double>(
                                            usable / static_cast<double>(BlockBytes()), 1 << 30))
                                      : 0;
    if (geometry_.num_blocks <= 0) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "no device memory left for the KV pool (", info->free_memory, " bytes free)"));
    }
  }
  const size_t pool_bytes = layer_elements() * h.num_layers * sizeof(uint16_t);
  auto keys = DeviceBuffer::Allocate(pool_bytes);
  if (!keys.ok()) return keys.status();
  key_cache_ = std::move(*keys);
  auto values = DeviceBuffer::Allocate(pool_bytes);
  if (!values.ok()) return values.status();
  value_cache_ = std::move(*values);
  TESSERA_CUDA_RETURN_IF_ERROR(EnsureScratch(16, 16));
  spdlog::info("{}: {} layers in f16, KV pool of {} blocks x {} positions ({} MiB)", name_,
               h.num_layers, geometry_.num_blocks, geometry_.block_size,
               2 * pool_bytes >> 20);
  return absl::OkStatus();
}

size_t CudaExecutor::ScratchBytes(int tokens, int rows) const {
  const size_t t = tokens, h = hparams_.dim, f = hparams_.ffn_dim;
  return t * h * 4 + t * h * 2 + t * qkv_dim() * 4 + t * h * 2 + t * 2 * f * 4 + t * f * 2 +
         static_cast<size_t>(rows) * hparams_.vocab_size * 4;
}

absl::Status CudaExecutor::EnsureScratch(int tokens, int rows) {
  if (tokens > scratch_tokens_) {
    // Grow geometrically so a run of slightly larger steps does not reallocate each time.
    const int t = std::max(tokens, scratch_tokens_ * 3 / 2);
    const size_t dim = hparams_.dim, ffn = hparams_.ffn_dim;
    struct Want {
      DeviceBuffer* buffer;
      size_t bytes;
    };
    for (const Want& want : {Want{&x_, t * dim * 4}, Want{&norm_, t * dim * 2},
                             Want{&qkv_, t * static_cast<size_t>(qkv_dim()) * 4},
                             Want{&attn_, t * dim * 2}, Want{&gate_up_, t * 2 * ffn * 4},
                             Want{&act_, t * ffn * 2}}) {
      *want.buffer = DeviceBuffer();
      auto buffer = DeviceBuffer::Allocate(want.bytes);
      if (!buffer.ok()) return buffer.status();
      *want.buffer = std::move(*buffer);
    }
    scratch_tokens_ = t;
  }
  if (rows > scratch_rows_) {
    const int r = std::max(rows, scratch_rows_ * 3 / 2);
    logits_ = DeviceBuffer();
    auto buffer = DeviceBuffer::Allocate(static_cast<size_t>(r) * hparams_.vocab_size * 4);
    if (!buffer.ok()) return buffer.status();
    logits_ = std::move(*buffer);
    scratch_rows_ = r;
  }
  return absl::OkStatus();
}

absl::Status CudaExecutor::Execute(absl::Span<const SequenceStep> batch,
                                   std::vector<float>* logits) {
  TESSERA_CUDA_RETURN_IF_ERROR(serving::ValidateStep(batch, hparams_, geometry_));
  logits->clear();
  absl::MutexLock lock(&mutex_);
  TESSERA_CUDA_RETURN_IF_ERROR(UseDevice(device_));
  const LlamaHParams& h = hparams_;

  PackStep(batch, &step_);
  const int tokens = step_.tokens, rows = step_.rows;
  TESSERA_CUDA_RETURN_IF_ERROR(EnsureScratch(tokens, rows));
  const size_t meta_bytes = step_.values.size() * sizeof(int32_t);
  if (meta_.bytes() < meta_bytes) {
    meta_ = DeviceBuffer();
    auto buffer = DeviceBuffer::Allocate(std::max(meta_bytes, size_t{4096}) * 2);
    if (!buffer.ok()) return buffer.status();
    meta_ = std::move(*buffer);
  }
  TESSERA_CUDA_RETURN_IF_ERROR(CopyToDevice(meta_.data(), step_.values.data(), meta_bytes, *stream_));
  const int32_t* meta = meta_.as<int32_t>();
  const int32_t* ids = meta + step_.ids_at;
  const int32_t* positions = meta + step_.positions_at;
  const int32_t* offsets = meta + step_.table_offsets_at;
  const int32_t* logit_rows = meta + step_.logit_rows_at;
  const int32_t* tables = meta + step_.tables_at;

  void* s = stream_->handle();
  const int dim = h.dim, kv = kv_dim(), qkv = qkv_dim(), ffn = h.ffn_dim;
  const float scale = 1.0f / std::sqrt(static_cast<float>(h.head_dim));
  const bool interleaved = h.rope_layout == llama::RopeLayout::kInterleaved;
  float* x = x_.as<float>();
  uint16_t* norm = norm_.as<uint16_t>();
  float* qkv_out = qkv_.as<float>();

  TESSERA_CUDA_RETURN_IF_ERROR(Check(
      LaunchEmbedding(embedding_type_, embedding_.data(), embedding_row_bytes_, dim, ids, tokens,
                      x, s),
      "embedding"));
  for (int l = 0; l < h.num_layers; ++l) {
    const Layer& layer = layers_[l];
    uint16_t* keys = key_cache_.as<uint16_t>() + l * layer_elements();
    uint16_t* values = value_cache_.as<uint16_t>() + l * layer_elements();
    TESSERA_CUDA_RETURN_IF_ERROR(Check(LaunchRmsNorm(x, nullptr, tokens, dim,
                                                     layer.attn_norm.as<float>(), h.rms_norm_eps,
                                                     norm, s),
                                       "rms norm"));
    TESSERA_CUDA_RETURN_IF_ERROR(blas_->Gemm(layer.qkv.data(), norm, qkv_out, qkv, tokens, dim));
    TESSERA_CUDA_RETURN_IF_ERROR(Check(LaunchRope(qkv_out, tokens, qkv, h.num_heads,
                                                  h.num_kv_heads, h.head_dim, positions,
                                                  inv_freq_.as<float>(), interleaved, s),
                                       "rope"));
    TESSERA_CUDA_RETURN_IF_ERROR(Check(
        LaunchWriteKv(qkv_out, tokens, qkv, dim, dim + kv, kv, positions, offsets, tables,
                      geometry_.block_size, keys, values, s),
        "kv write"));
    TESSERA_CUDA_RETURN_IF_ERROR(Check(
        LaunchPagedAttention(qkv_out, tokens, qkv, h.num_heads, h.num_kv_heads, h.head_dim,
                             positions, offsets, tables, geometry_.block_size, keys, values, scale,
                             attn_.as<uint16_t>(), s),
        "paged attention"));
    TESSERA_CUDA_RETURN_IF_ERROR(
        blas_->Gemm(layer.o.data(), attn_.data(), x, dim, tokens, dim, /*beta=*/1.0f));
    TESSERA_CUDA_RETURN_IF_ERROR(Check(LaunchRmsNorm(x, nullptr, tokens, dim,
                                                     layer.ffn_norm.as<float>(), h.rms_norm_eps,
                                                     norm, s),
                                       "rms norm"));
    TESSERA_CUDA_RETURN_IF_ERROR(
        blas_->Gemm(layer.gate_up.data(), norm, gate_up_.as<float>(), 2 * ffn, tokens, dim));
    TESSERA_CUDA_RETURN_IF_ERROR(
        Check(LaunchSwiGlu(gate_up_.as<float>(), tokens, ffn, act_.as<uint16_t>(), s), "swiglu"));
    TESSERA_CUDA_RETURN_IF_ERROR(
        blas_->Gemm(layer.down.data(), act_.data(), x, dim, tokens, ffn, /*beta=*/1.0f));
  }
  // Only the rows whose logits are wanted go through the output matrix.
  TESSERA_CUDA_RETURN_IF_ERROR(Check(LaunchRmsNorm(x, logit_rows, rows, dim,
                                                   output_norm_.as<float>(), h.rms_norm_eps, norm,
                                                   s),
                                     "output rms norm"));
  TESSERA_CUDA_RETURN_IF_ERROR(
      blas_->Gemm(output_.data(), norm, logits_.as<float>(), h.vocab_size, rows, dim));
  logits->resize(static_cast<size_t>(rows) * h.vocab_size);
  return CopyToHost(logits->data(), logits_.data(), logits->size() * sizeof(float), *stream_);
}

absl::Status CudaExecutor::CopyBlocks(absl::Span<const std::pair<int32_t, int32_t>> copies) {
  absl::Status valid = serving::ValidateCopies(copies, geometry_);
  if (!valid.ok()) return valid;
  if (copies.empty()) return absl::OkStatus();
  absl::MutexLock lock(&mutex_);
  TESSERA_CUDA_RETURN_IF_ERROR(UseDevice(device_));
  host_pairs_.clear();
  for (const auto& [source, destination] : copies) {
    host_pairs_.push_back(source);
    host_pairs_.push_back(destination);
  }
  const size_t bytes = host_pairs_.size() * sizeof(int32_t);
  if (pairs_.bytes() < bytes) {
    pairs_ = DeviceBuffer();
    auto buffer = DeviceBuffer::Allocate(bytes * 2);
    if (!buffer.ok()) return buffer.status();
    pairs_ = std::move(*buffer);
  }
  TESSERA_CUDA_RETURN_IF_ERROR(CopyToDevice(pairs_.data(), host_pairs_.data(), bytes, *stream_));
  TESSERA_CUDA_RETURN_IF_ERROR(Check(
      LaunchCopyKvBlocks(key_cache_.as<uint16_t>(), value_cache_.as<uint16_t>(), layer_elements(),
                         hparams_.num_layers, block_elements(), pairs_.as<int32_t>(),
                         static_cast<int>(copies.size()), stream_->handle()),
      "block copy"));
  // host_pairs_ is reused by the next call; the copy above has read it once the
  // stream reaches here, and waiting also reports a failed copy to this caller.
  return stream_->Synchronize();
}

}  // namespace

absl::StatusOr<std::unique_ptr<serving::ModelExecutor>> NewCudaExecutor(
    const llama::LlamaModel& model, serving::KvCacheGeometry geometry, int device) {
  if (geometry.block_size <= 0 || geometry.num_blocks < 0) {
    return absl::InvalidArgumentError(absl::StrCat("bad KV geometry: ", geometry.num_blocks,
                                                   " blocks of ", geometry.block_size));
  }
  if (absl::Status status = CheckCudaAvailable(); !status.ok()) {
    return absl::UnavailableError(absl::StrCat("CUDA executor: ", status.message()));
  }
  auto info = GetDeviceInfo(device);
  if (!info.ok()) return info.status();
  auto executor = std::make_unique<CudaExecutor>(model.hparams(), geometry, device,
                                                 absl::StrCat("cuda:", device, " ", info->name));
  if (absl::Status status = executor->Init(model); !status.ok()) return status;
  return std::unique_ptr<serving::ModelExecutor>(std::move(executor));
}

}  // namespace tessera::cuda

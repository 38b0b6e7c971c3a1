// llama2.c checkpoints (the `model.bin` of karpathy/llama2.c's export.py):
//   version 0 ("legacy"): seven int32 (dim, hidden_dim, n_layers, n_heads,
//     n_kv_heads, vocab_size, seq_len; a negative vocab_size means an unshared
//     classifier follows), then f32 tensors: token embedding, per-layer groups
//     (all rms_att, all wq, wk, wv, wo, all rms_ffn, w1, w2, w3), rms_final, the
//     RoPE tables freq_cis_real/imag [seq_len, head_size / 2] (unused by run.c),
//     then the classifier when unshared;
//   version 1: uint32 magic "ak42", int32 version, the same seven int32 (vocab
//     positive), a uint8 shared-classifier flag, zeros up to byte 256, then f32:
//     all rms_att, all rms_ffn, rms_final, token embedding, all wq, wk, wv, wo, w1,
//     w2, w3, and the classifier when unshared.
// Version 2 (llama2.c's own groupwise Q8_0, int8 and scales stored apart) is
// answered UNIMPLEMENTED. The file is memory-mapped and every tensor is exposed
// under llama.cpp's GGUF name (w1 = ffn_gate, w2 = ffn_down, w3 = ffn_up) so the
// GGUF binding code serves both. export.py permutes Hugging Face q/k rows the way
// llama.cpp's converter does, and run.c rotates pairs (2i, 2i + 1) with theta
// 10000 and RMSNorm eps 1e-5: the interleaved RoPE layout.
#ifndef TESSERA_ENGINE_LLAMA_LLAMA2C_CHECKPOINT_H_
#define TESSERA_ENGINE_LLAMA_LLAMA2C_CHECKPOINT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/model/mapped_file.h"
#include "engine/model/tensor.h"

namespace tessera::llama {

inline constexpr uint32_t kLlama2cMagic = 0x616b3432;  // "ak42" read as a little-endian uint32.
inline constexpr int kLlama2cV1HeaderBytes = 256;

struct Llama2cConfig {
  int version = 0;  // 0 (legacy) or 1.
  int dim = 0;
  int hidden_dim = 0;
  int num_layers = 0;
  int num_heads = 0;
  int num_kv_heads = 0;
  int vocab_size = 0;  // Always positive here; the sign of the legacy field is `shared_classifier`.
  int seq_len = 0;
  bool shared_classifier = true;
};

// One tensor of the file, in file order. The legacy RoPE tables are named
// "freq_cis_real" / "freq_cis_imag".
struct Llama2cTensorSlot {
  std::string name;
  std::vector<int64_t> shape;
};

// The tensors after the header, in file order, for a valid config.
std::vector<Llama2cTensorSlot> Llama2cLayout(const Llama2cConfig& config);

// INVALID_ARGUMENT naming the field for sizes no LLaMA has (or that would
// overflow size computations), heads that do not divide dim, an odd head size.
absl::Status ValidateLlama2cConfig(const Llama2cConfig& config);

class Llama2cCheckpoint {
 public:
  // Whether LlamaModel::Load should read `path` as llama2.c: it starts with the
  // "ak42" magic, or it is not GGUF and its name ends in ".bin".
  static bool Recognizes(const std::string& path);

  // NOT_FOUND for a missing file; INVALID_ARGUMENT for a bad header or a file
  // whose length is not exactly what the header implies (truncated or trailing
  // bytes); UNIMPLEMENTED for version 2 and later.
  static absl::StatusOr<std::unique_ptr<Llama2cCheckpoint>> Open(const std::string& path);

  const Llama2cConfig& config() const { return config_; }
  // nullptr when absent ("output.weight" is absent for a shared classifier).
  const model::TensorView* Find(absl::string_view name) const;

 private:
  Llama2cCheckpoint() = default;

  std::unique_ptr<model::MappedFile> file_;
  Llama2cConfig config_;
  std::vector<model::TensorView> tensors_;
  absl::flat_hash_map<std::string, size_t> index_;
};

// Writes `config` as a llama2.c checkpoint of config.version (0 or 1), via
// "<path>.tmp" renamed on success. `fill(name, dst, count)` provides each named
// f32 tensor (llama.cpp names, rows already in the interleaved RoPE order); the
// legacy RoPE tables are computed here (theta 10000, as export.py writes them).
absl::Status WriteLlama2cCheckpoint(
    const std::string& path, const Llama2cConfig& config,
    const std::function<void(const std::string& name, float* dst, size_t count)>& fill);

}  // namespace tessera::llama

#endif  // TESSERA_ENGINE_LLAMA_LLAMA2C_CHECKPOINT_H_

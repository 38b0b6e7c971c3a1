#include "engine/llama/llama2c_checkpoint.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/model/llama_tensor_names.h"
#include "engine/model/output_file.h"

namespace tessera::llama {
namespace {

constexpr int kLegacyHeaderBytes = 7 * 4;
constexpr int kV1FieldsEnd = 8 + 7 * 4 + 1;  // magic, version, seven int32, the flag.
constexpr float kRopeTheta = 10000.0f;       // Fixed by run.c; not stored in the file.

int32_t ReadInt32(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));  // Little-endian hosts only, as llama2.c itself.
  return v;
}

uint64_t NumElements(const std::vector<int64_t>& shape) {
  uint64_t n = 1;
  for (int64_t d : shape) n *= static_cast<uint64_t>(d);
  return n;
}

// The seven int32 fields shared by both header versions.
void ReadFields(const uint8_t* p, Llama2cConfig* config) {
  config->dim = ReadInt32(p);
  config->hidden_dim = ReadInt32(p + 4);
  config->num_layers = ReadInt32(p + 8);
  config->num_heads = ReadInt32(p + 12);
  config->num_kv_heads = ReadInt32(p + 16);
  config->vocab_size = ReadInt32(p + 20);
  config->seq_len = ReadInt32(p + 24);
}

void PutInt32(std::string* out, int32_t v) {
  char bytes[4];
  std::memcpy(bytes, &v, sizeof(v));
  out->append(bytes, 4);
}

}  // namespace

absl::Status ValidateLlama2cConfig(const Llama2cConfig& c) {
  struct Field {
    const char* name;
    int value, max;
  };
  const Field fields[] = {
      {"dim", c.dim, 1 << 16},           {"hidden_dim", c.hidden_dim, 1 << 18},
      {"n_layers", c.num_layers, 1024},  {"n_heads", c.num_heads, 1 << 16},
      {"n_kv_heads", c.num_kv_heads, 1 << 16}, {"vocab_size", c.vocab_size, 1 << 22},
      {"seq_len", c.seq_len, 1 << 20},
  };
  for (const Field& f : fields) {
    if (f.value <= 0 || f.value > f.max) {
      return absl::InvalidArgumentError(absl::StrCat("llama2.c header: ", f.name, " = ", f.value,
                                                     " is outside [1, ", f.max, "]"));
    }
  }
  if (c.dim % c.num_heads != 0 || c.num_heads % c.num_kv_heads != 0) {
    return absl::InvalidArgumentError(absl::StrCat("llama2.c header: dim ", c.dim, ", n_heads ",
                                                   c.num_heads, " and n_kv_heads ",
                                                   c.num_kv_heads, " do not divide"));
  }
  if ((c.dim / c.num_heads) % 2 != 0) {
    return absl::InvalidArgumentError("llama2.c header: head size must be even");
  }
  if (c.version != 0 && c.version != 1) {
    return absl::InvalidArgumentError(absl::StrCat("llama2.c version ", c.version, " is not 0 or 1"));
  }
  return absl::OkStatus();
}

std::vector<Llama2cTensorSlot> Llama2cLayout(const Llama2cConfig& c) {
  const int64_t dim = c.dim, hidden = c.hidden_dim, vocab = c.vocab_size;
  const int64_t head_size = dim / c.num_heads;
  const int64_t kv_dim = head_size * c.num_kv_heads;
  // Slots carry llama.cpp's names, so the GGUF binding reads these files too.
  const model::LlamaTensorNames& n = model::kLlamaCppTensorNames;
  std::vector<Llama2cTensorSlot> slots;
  auto per_layer = [&](const char* name, std::vector<int64_t> shape) {
    for (int layer = 0; layer < c.num_layers; ++layer) {
      slots.push_back({absl::StrCat(n.layer_prefix, layer, ".", name), shape});
    }
  };
  auto matrices = [&] {
    per_layer(n.q, {dim, dim});
    per_layer(n.k, {kv_dim, dim});
    per_layer(n.v, {kv_dim, dim});
    per_layer(n.o, {dim, dim});
  };
  if (c.version == 0) {
    slots.push_back({n.embedding, {vocab, dim}});
    per_layer(n.attn_norm, {dim});
    matrices();
    per_layer(n.ffn_norm, {dim});
    per_layer(n.gate, {hidden, dim});  // w1
    per_layer(n.down, {dim, hidden});  // w2
    per_layer(n.up, {hidden, dim});    // w3
    slots.push_back({n.output_norm, {dim}});
    slots.push_back({"freq_cis_real", {c.seq_len, head_size / 2}});
    slots.push_back({"freq_cis_imag", {c.seq_len, head_size / 2}});
  } else {
    per_layer(n.attn_norm, {dim});
    per_layer(n.ffn_norm, {dim});
    slots.push_back({n.output_norm, {dim}});
    slots.push_back({n.embedding, {vocab, dim}});
    matrices();
    per_layer(n.gate, {hidden, dim});
    per_layer(n.down, {dim, hidden});
    per_layer(n.up, {hidden, dim});
  }
  if (!c.shared_classifier) slots.push_back({n.output, {vocab, dim}});
  return slots;
}

bool Llama2cCheckpoint::Recognizes(const std::string& path) {
  char magic[4] = {0, 0, 0, 0};
  if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
    const size_t got = std::fread(magic, 1, sizeof(magic), f);
    std::fclose(f);
    if (got == sizeof(magic)) {
      uint32_t value;
      std::memcpy(&value, magic, sizeof(value));
      if (value == kLlama2cMagic) return true;
      if (std::memcmp(magic, "GGUF", 4) == 0) return false;
    }
  }
  return absl::EndsWith(path, ".bin");
}

absl::StatusOr<std::unique_ptr<Llama2cCheckpoint>> Llama2cCheckpoint::Open(const std::string& path) {
  absl::StatusOr<std::unique_ptr<model::MappedFile>> file = model::MappedFile::Open(path);
  if (!file.ok()) return file.status();
  std::unique_ptr<Llama2cCheckpoint> checkpoint(new Llama2cCheckpoint());
  checkpoint->file_ = std::move(*file);
  const uint8_t* data = checkpoint->file_->data();
  const uint64_t size = checkpoint->file_->size();
  Llama2cConfig& config = checkpoint->config_;
  uint64_t offset = 0;
  if (size >= 8 && static_cast<uint32_t>(ReadInt32(data)) == kLlama2cMagic) {
    const int32_t version = ReadInt32(data + 4);
    if (version >= 2) {
      return absl::UnimplementedError(absl::StrCat(
          "llama2.c version ", version,
          " checkpoints (llama2.c's groupwise Q8_0) are not supported; export with --version 1 or 0"));
    }
    if (version != 1) {
      return absl::InvalidArgumentError(absl::StrCat("llama2.c header: unknown version ", version));
    }
    if (size < kLlama2cV1HeaderBytes) {
      return absl::InvalidArgumentError(absl::StrCat("llama2.c version 1 file of ", size,
                                                     " bytes is shorter than its 256-byte header"));
    }
    config.version = 1;
    ReadFields(data + 8, &config);
    const uint8_t shared = data[kV1FieldsEnd - 1];
    if (shared > 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("llama2.c header: shared_classifier flag is ", int{shared}, ", not 0 or 1"));
    }
    config.shared_classifier = shared == 1;
    offset = kLlama2cV1HeaderBytes;
  } else {
    if (size < kLegacyHeaderBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "file of ", size, " bytes is shorter than a llama2.c header (", kLegacyHeaderBytes, ")"));
    }
    config.version = 0;
    ReadFields(data, &config);
    // Negative vocab_size: an unshared classifier follows (INT32_MIN cannot be negated).
    config.shared_classifier = config.vocab_size > 0;
    if (config.vocab_size < 0 && config.vocab_size > -(1 << 30)) config.vocab_size = -config.vocab_size;
    offset = kLegacyHeaderBytes;
  }
  absl::Status status = ValidateLlama2cConfig(config);
  if (!status.ok()) return status;

  // All sizes are bounded by the validation above, so these sums cannot overflow.
  uint64_t expected = offset;
  const std::vector<Llama2cTensorSlot> slots = Llama2cLayout(config);
  for (const Llama2cTensorSlot& slot : slots) expected += NumElements(slot.shape) * sizeof(float);
  if (size != expected) {
    return absl::InvalidArgumentError(absl::StrCat(
        "llama2.c file has ", size, " bytes but its header (dim ", config.dim, ", hidden ",
        config.hidden_dim, ", layers ", config.num_layers, ", heads ", config.num_heads, "/",
        config.num_kv_heads, ", vocab ", config.vocab_size, ", seq_len ", config.seq_len,
        config.shared_classifier ? ", shared" : ", unshared", " classifier) implies ", expected,
        size < expected ? " (truncated)" : " (trailing bytes)"));
  }
  checkpoint->tensors_.reserve(slots.size());
  for (const Llama2cTensorSlot& slot : slots) {
    model::TensorView view;
    view.name = slot.name;
    view.dtype = model::DType::kF32;
    view.shape = slot.shape;
    view.data = data + offset;
    view.num_bytes = NumElements(slot.shape) * sizeof(float);
    offset += view.num_bytes;
    checkpoint->index_[view.name] = checkpoint->tensors_.size();
    checkpoint->tensors_.push_back(std::move(view));
  }
  return checkpoint;
}

const model::TensorView* Llama2cCheckpoint::Find(absl::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

absl::Status WriteLlama2cCheckpoint(
    const std::string& path, const Llama2cConfig& config,
    const std::function<void(const std::string& name, float* dst, size_t count)>& fill) {
  absl::Status status = ValidateLlama2cConfig(config);
  if (!status.ok()) return status;
  std::string header;
  if (config.version == 1) {
    PutInt32(&header, static_cast<int32_t>(kLlama2cMagic));
    PutInt32(&header, 1);
  }
  const int32_t fields[] = {config.dim,          config.hidden_dim, config.num_layers,
                            config.num_heads,    config.num_kv_heads,
                            config.version == 0 && !config.shared_classifier ? -config.vocab_size
                                                                             : config.vocab_size,
                            config.seq_len};
  for (int32_t v : fields) PutInt32(&header, v);
  if (config.version == 1) {
    header.push_back(config.shared_classifier ? 1 : 0);
    header.resize(kLlama2cV1HeaderBytes, '\0');
  }
  absl::StatusOr<std::unique_ptr<model::OutputFile>> out = model::OutputFile::Create(path);
  if (!out.ok()) return out.status();
  status = (*out)->Write(header);
  const int64_t head_size = config.dim / config.num_heads;
  for (const Llama2cTensorSlot& slot : Llama2cLayout(config)) {
    if (!status.ok()) return status;
    model::TensorToWrite tensor;
    tensor.name = slot.name;
    tensor.shape = slot.shape;
    const bool is_cos = slot.name == "freq_cis_real", is_sin = slot.name == "freq_cis_imag";
    tensor.fill = [&](uint8_t* dst, size_t num_bytes) {
      float* values = reinterpret_cast<float*>(dst);
      const size_t count = num_bytes / sizeof(float);
      if (!is_cos && !is_sin) {
        fill(slot.name, values, count);
        return;
      }
      const int64_t half = head_size / 2;
      for (size_t i = 0; i < count; ++i) {
        const int64_t pos = static_cast<int64_t>(i) / half, j = static_cast<int64_t>(i) % half;
        const float freq = 1.0f / std::pow(kRopeTheta, static_cast<float>(2 * j) / head_size);
        const float angle = static_cast<float>(pos) * freq;
        values[i] = is_cos ? std::cos(angle) : std::sin(angle);
      }
    };
    status = (*out)->WriteTensor(tensor, NumElements(slot.shape) * sizeof(float));
  }
  if (!status.ok()) return status;
  return (*out)->Commit();
}

}  // namespace tessera::llama

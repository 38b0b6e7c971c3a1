// GGUF (llama.cpp's model format), versions 2 and 3: "GGUF", version, tensor
// count, metadata count, typed key/value metadata, tensor infos, then the tensor
// data section aligned to general.alignment (default 32). Read through a memory
// mapping with every count, length and offset checked against the file size.
#ifndef TESSERA_ENGINE_MODEL_GGUF_H_
#define TESSERA_ENGINE_MODEL_GGUF_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "engine/model/mapped_file.h"
#include "engine/model/tensor.h"

namespace tessera::model {

inline constexpr uint32_t kGgufDefaultAlignment = 32;

// GGUF metadata value types (numbering of the file format).
enum class GgufType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};

// One metadata value. Exactly one payload field is meaningful, chosen by `type`:
// unsigned types -> uint_value, signed -> int_value, floats -> float_value,
// kBool -> bool_value, kString -> string_value, kArray -> element_type + array.
struct GgufValue {
  GgufType type = GgufType::kUint32;
  uint64_t uint_value = 0;
  int64_t int_value = 0;
  double float_value = 0;
  bool bool_value = false;
  std::string string_value;
  GgufType element_type = GgufType::kUint32;
  std::vector<GgufValue> array;

  static GgufValue Uint(GgufType type, uint64_t value);
  static GgufValue Int(GgufType type, int64_t value);
  static GgufValue Float(GgufType type, double value);
  static GgufValue Bool(bool value);
  static GgufValue String(std::string value);
  static GgufValue Array(GgufType element_type, std::vector<GgufValue> elements);
};

// ggml tensor type numbers <-> DType. INVALID_ARGUMENT for numbers ggml does not
// define or this runtime does not know (the IQ quantisations).
absl::StatusOr<DType> DTypeFromGgml(uint32_t ggml_type);
absl::StatusOr<uint32_t> GgmlTypeFromDType(DType dtype);

class GgufFile {
 public:
  // NOT_FOUND for a missing file; DATA_LOSS when the file ends early or a tensor
  // runs past its end; INVALID_ARGUMENT for a bad magic, unknown value or tensor
  // type, duplicate keys or names, misaligned or overlapping tensors; UNIMPLEMENTED
  // for GGUF v1 and big-endian files.
  static absl::StatusOr<std::unique_ptr<GgufFile>> Open(const std::string& path);

  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  // File offset of the tensor data section.
  uint64_t data_offset() const { return data_offset_; }

  // Metadata in file order.
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return metadata_; }
  const GgufValue* FindValue(absl::string_view key) const;

  // Typed accessors: NOT_FOUND when the key is absent, INVALID_ARGUMENT when its
  // type does not fit (any integer type converts to GetUint/GetInt when in range;
  // any number converts to GetFloat).
  absl::StatusOr<uint64_t> GetUint(absl::string_view key) const;
  absl::StatusOr<int64_t> GetInt(absl::string_view key) const;
  absl::StatusOr<double> GetFloat(absl::string_view key) const;
  absl::StatusOr<bool> GetBool(absl::string_view key) const;
  absl::StatusOr<std::string> GetString(absl::string_view key) const;
  absl::StatusOr<std::vector<std::string>> GetStringArray(absl::string_view key) const;
  absl::StatusOr<std::vector<float>> GetFloatArray(absl::string_view key) const;
  absl::StatusOr<std::vector<int64_t>> GetIntArray(absl::string_view key) const;

  // Tensors in file order; shapes are row-major (GGUF's ne[] reversed).
  const std::vector<TensorView>& tensors() const { return tensors_; }
  const TensorView* Find(absl::string_view name) const;

 private:
  GgufFile() = default;
  absl::Status Parse();

  std::unique_ptr<MappedFile> file_;
  uint32_t version_ = 0;
  uint64_t alignment_ = kGgufDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  absl::flat_hash_map<std::string, size_t> metadata_index_;
  std::vector<TensorView> tensors_;
  absl::flat_hash_map<std::string, size_t> tensor_index_;
};

// The llama.* hyper-parameters (keys prefixed by general.architecture).
struct LlamaHyperParams {
  std::string architecture;
  uint64_t context_length = 0;
  uint64_t embedding_length = 0;
  uint64_t block_count = 0;
  uint64_t feed_forward_length = 0;
  uint64_t head_count = 0;
  uint64_t head_count_kv = 0;  // = head_count when absent.
  uint64_t rope_dimension_count = 0;  // = embedding_length / head_count when absent.
  double rope_freq_base = 10000.0;  // Default when absent.
  double rms_norm_eps = 1e-5;
  uint64_t vocab_size = 0;  // From llama.vocab_size or the token list.
};
absl::StatusOr<LlamaHyperParams> ReadLlamaHyperParams(const GgufFile& file);

// The tokenizer.ggml.* vocabulary. scores/token_types are empty when absent;
// special ids are -1 when absent.
struct GgufVocab {
  std::string model;  // "llama", "gpt2", "bert", ...
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> token_types;
  std::vector<std::string> merges;
  int64_t bos_id = -1;
  int64_t eos_id = -1;
  int64_t unk_id = -1;
  int64_t pad_id = -1;
};
absl::StatusOr<GgufVocab> ReadGgufVocab(const GgufFile& file);

// Builds a GGUF v3 file. Tensor offsets are aligned to the alignment (32 unless
// SetAlignment); general.alignment is written when it differs from 32.
class GgufWriter {
 public:
  GgufWriter() = default;

  // INVALID_ARGUMENT unless a power of two.
  absl::Status SetAlignment(uint32_t alignment);
  // Later values of a key replace earlier ones (keeping the first position).
  void Set(const std::string& key, GgufValue value);
  void SetString(const std::string& key, std::string value);
  void SetUint32(const std::string& key, uint32_t value);
  void SetFloat32(const std::string& key, float value);
  void SetBool(const std::string& key, bool value);
  void SetStringArray(const std::string& key, const std::vector<std::string>& values);
  void SetFloat32Array(const std::string& key, absl::Span<const float> values);
  void SetInt32Array(const std::string& key, absl::Span<const int32_t> values);

  // `tensor.shape` is row-major. INVALID_ARGUMENT for a duplicate name, a type GGUF
  // cannot hold, more than 4 dimensions, or a shape the type cannot tile.
  absl::Status AddTensor(TensorToWrite tensor);

  absl::Status Write(const std::string& path) const;

 private:
  uint32_t alignment_ = kGgufDefaultAlignment;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<TensorToWrite> tensors_;
  std::vector<uint64_t> sizes_;
};

}  // namespace tessera::model

#endif  // TESSERA_ENGINE_MODEL_GGUF_H_

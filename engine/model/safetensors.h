// Hugging Face safetensors: an 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}},
// then the tensor bytes. Read through a memory mapping; every size and offset is
// checked before any tensor byte is touched.
#ifndef TESSERA_ENGINE_MODEL_SAFETENSORS_H_
#define TESSERA_ENGINE_MODEL_SAFETENSORS_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "engine/model/mapped_file.h"
#include "engine/model/tensor.h"

namespace tessera::model {

// Largest JSON header accepted (the reference implementation's limit).
inline constexpr uint64_t kMaxSafetensorsHeaderBytes = 100 << 20;

// "F32" -> kF32 etc.; INVALID_ARGUMENT for names safetensors does not define or
// that this runtime does not know (F8 variants).
absl::StatusOr<DType> ParseSafetensorsDType(absl::string_view name);

class SafetensorsFile {
 public:
  // NOT_FOUND for a missing file; DATA_LOSS for a file shorter than its header
  // says; INVALID_ARGUMENT for a malformed header (bad JSON, unknown dtype, shape
  // and byte length that disagree, offsets out of range or overlapping).
  static absl::StatusOr<std::unique_ptr<SafetensorsFile>> Open(const std::string& path);

  // Tensors in file order (by data offset).
  const std::vector<TensorView>& tensors() const { return tensors_; }
  // nullptr when absent.
  const TensorView* Find(absl::string_view name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::string& path() const { return file_->path(); }

 private:
  SafetensorsFile() = default;
  absl::Status Parse();

  std::unique_ptr<MappedFile> file_;
  std::vector<TensorView> tensors_;
  absl::flat_hash_map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

// A checkpoint of one file or of shards listed by model.safetensors.index.json
// ({"weight_map": {tensor: shard file}}).
class SafetensorsCheckpoint {
 public:
  // `path`: a .safetensors file, an index .json file, or a directory holding
  // model.safetensors or model.safetensors.index.json.
  static absl::StatusOr<std::unique_ptr<SafetensorsCheckpoint>> Open(const std::string& path);

  const TensorView* Find(absl::string_view name) const;
  // Every tensor of every shard.
  std::vector<const TensorView*> tensors() const;
  const std::vector<std::unique_ptr<SafetensorsFile>>& files() const { return files_; }

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  absl::flat_hash_map<std::string, const TensorView*> index_;
};

// Writes a safetensors file (header padded with spaces to a multiple of 8 so the
// data is aligned, as the reference writer does). Tensors are laid out in the
// given order. INVALID_ARGUMENT for duplicate or empty names, quantised dtypes,
// or byte counts that do not match the shapes.
absl::Status WriteSafetensors(const std::string& path, absl::Span<const TensorToWrite> tensors,
                              const std::map<std::string, std::string>& metadata);

}  // namespace tessera::model

#endif  // TESSERA_ENGINE_MODEL_SAFETENSORS_H_

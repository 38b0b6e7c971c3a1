// Writing model files: buffered output to "<path>.tmp", renamed over `path` on
// Commit(), so a crash never leaves a half-written model under the final name.
#ifndef TESSERA_ENGINE_MODEL_OUTPUT_FILE_H_
#define TESSERA_ENGINE_MODEL_OUTPUT_FILE_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/model/tensor.h"

namespace tessera::model {

class OutputFile {
 public:
  static absl::StatusOr<std::unique_ptr<OutputFile>> Create(const std::string& path);
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  // Removes the temporary file when Commit() was not reached.
  ~OutputFile();

  absl::Status Write(const void* data, size_t size);
  absl::Status Write(absl::string_view bytes) { return Write(bytes.data(), bytes.size()); }
  absl::Status WriteZeros(size_t count);
  // The bytes of `tensor` (from `bytes` or `fill`); INVALID_ARGUMENT when `bytes`
  // does not have `expected_size` bytes.
  absl::Status WriteTensor(const TensorToWrite& tensor, uint64_t expected_size);
  uint64_t position() const { return position_; }
  absl::Status Commit();

 private:
  OutputFile(std::string path, std::FILE* file) : path_(std::move(path)), file_(file) {}

  std::string path_;
  std::FILE* file_;
  uint64_t position_ = 0;
  std::vector<uint8_t> scratch_;
};

}  // namespace tessera::model

#endif  // TESSERA_ENGINE_MODEL_OUTPUT_FILE_H_

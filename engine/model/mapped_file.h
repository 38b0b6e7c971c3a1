// Read-only memory mapping of a whole file, unmapped on destruction.
#ifndef TESSERA_ENGINE_MODEL_MAPPED_FILE_H_
#define TESSERA_ENGINE_MODEL_MAPPED_FILE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace tessera::model {

class MappedFile {
 public:
  // NOT_FOUND when the file is missing, INVALID_ARGUMENT for a directory,
  // INTERNAL when mapping fails. An empty file maps to size() == 0.
  static absl::StatusOr<std::unique_ptr<MappedFile>> Open(const std::string& path);

  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile(std::string path, const uint8_t* data, size_t size)
      : path_(std::move(path)), data_(data), size_(size) {}

  std::string path_;
  const uint8_t* data_;
  size_t size_;
};

}  // namespace tessera::model

#endif  // TESSERA_ENGINE_MODEL_MAPPED_FILE_H_

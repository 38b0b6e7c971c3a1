#include "engine/model/output_file.h"

#include <errno.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace tessera::model {

absl::StatusOr<std::unique_ptr<OutputFile>> OutputFile::Create(const std::string& path) {
  const std::string temporary = path + ".tmp";
  std::FILE* file = std::fopen(temporary.c_str(), "wb");
  if (file == nullptr) {
    return absl::InternalError(
        absl::StrCat("cannot create ", temporary, ": ", std::strerror(errno)));
  }
  return std::unique_ptr<OutputFile>(new OutputFile(path, file));
}

OutputFile::~OutputFile() {
  if (file_ != nullptr) {
    std::fclose(file_);
    std::remove((path_ + ".tmp").c_str());
  }
}

absl::Status OutputFile::Write(const void* data, size_t size) {
  if (file_ == nullptr) return absl::FailedPreconditionError("output file already committed");
  if (size > 0 && std::fwrite(data, 1, size, file_) != size) {
    return absl::InternalError(absl::StrCat("cannot write ", path_, ".tmp: ", std::strerror(errno)));
  }
  position_ += size;
  return absl::OkStatus();
}

absl::Status OutputFile::WriteZeros(size_t count) {
  static const char kZeros[64] = {};
  while (count > 0) {
    const size_t chunk = count < sizeof(kZeros) ? count : sizeof(kZeros);
    absl::Status status = Write(kZeros, chunk);
    if (!status.ok()) return status;
    count -= chunk;
  }
  return absl::OkStatus();
}

absl::Status OutputFile::WriteTensor(const TensorToWrite& tensor, uint64_t expected_size) {
  if (tensor.fill) {
    scratch_.assign(expected_size, 0);
    tensor.fill(scratch_.data(), scratch_.size());
    absl::Status status = Write(scratch_.data(), scratch_.size());
    scratch_.clear();
    scratch_.shrink_to_fit();
    return status;
  }
  if (tensor.bytes.size() != expected_size) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", tensor.name, " has ",
                                                   tensor.bytes.size(),
                                                   " bytes; its dtype and shape need ",
                                                   expected_size));
  }
  return Write(tensor.bytes.data(), tensor.bytes.size());
}

absl::Status OutputFile::Commit() {
  if (file_ == nullptr) return absl::FailedPreconditionError("output file already committed");
  const bool flushed = std::fflush(file_) == 0;
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  const std::string temporary = path_ + ".tmp";
  if (!flushed || !closed) {
    std::remove(temporary.c_str());
    return absl::InternalError(absl::StrCat("cannot finish writing ", temporary));
  }
  if (std::rename(temporary.c_str(), path_.c_str()) != 0) {
    const int error = errno;
    std::remove(temporary.c_str());
    return absl::InternalError(
        absl::StrCat("cannot rename ", temporary, " to ", path_, ": ", std::strerror(error)));
  }
  return absl::OkStatus();
}

}  // namespace tessera::model

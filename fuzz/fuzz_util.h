// Helpers shared by the fuzz targets.
#ifndef TESSERA_FUZZ_FUZZ_UTIL_H_
#define TESSERA_FUZZ_FUZZ_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace tessera::fuzz {

// Aborts with `what` on stderr: a broken invariant is a finding, like a crash.
[[noreturn]] void Fail(absl::string_view what);
#define TESSERA_FUZZ_CHECK(condition) \
  ((condition) ? (void)0 : ::tessera::fuzz::Fail("check failed: " #condition))

// An in-memory file (memfd) for parsers that open a path and memory-map it.
// Rewritten for every input, so one per process is enough.
class MemoryFile {
 public:
  MemoryFile();
  ~MemoryFile();
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;

  // Replaces the contents; aborts when the file cannot be written.
  void Write(const uint8_t* data, size_t size);
  // "/proc/self/fd/N", openable by path.
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
};

inline absl::string_view AsStringView(const uint8_t* data, size_t size) {
  return absl::string_view(reinterpret_cast<const char*>(data), size);
}

}  // namespace tessera::fuzz

#endif  // TESSERA_FUZZ_FUZZ_UTIL_H_

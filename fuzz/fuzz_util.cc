#include "fuzz/fuzz_util.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace tessera::fuzz {

void Fail(absl::string_view what) {
  std::fprintf(stderr, "fuzz: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

MemoryFile::MemoryFile() {
  fd_ = memfd_create("tessera-fuzz", MFD_CLOEXEC);
  if (fd_ < 0) Fail("memfd_create failed");
  path_ = absl::StrCat("/proc/self/fd/", fd_);
}

MemoryFile::~MemoryFile() {
  if (fd_ >= 0) close(fd_);
}

void MemoryFile::Write(const uint8_t* data, size_t size) {
  if (ftruncate(fd_, 0) != 0) Fail("ftruncate failed");
  size_t written = 0;
  while (written < size) {
    const ssize_t n = pwrite(fd_, data + written, size - written, static_cast<off_t>(written));
    if (n <= 0) Fail("pwrite failed");
    written += static_cast<size_t>(n);
  }
}

}  // namespace tessera::fuzz

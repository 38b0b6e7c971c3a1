#include "engine/tokenizer/test_shared_dir.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

namespace tessera::tokenizer::testing {
namespace {

bool Exists(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0;
}

}  // namespace

std::optional<std::string> FindSharedFile(const std::string& relative) {
  std::vector<std::string> roots;
  if (const char* env = std::getenv("TESSERA_SHARED_DIR"); env != nullptr && *env != '\0') {
    roots.push_back(env);
  }
  roots.push_back("/work/shared");
  char resolved[PATH_MAX];
  if (realpath(".", resolved) != nullptr) {
    std::string dir = resolved;
    while (!dir.empty() && dir != "/") {
      const size_t slash = dir.rfind('/');
      dir = slash == 0 ? "/" : dir.substr(0, slash);
      roots.push_back((dir == "/" ? "" : dir) + "/shared");
    }
  }
  for (const std::string& root : roots) {
    const std::string path = root + "/" + relative;
    if (Exists(path)) return path;
  }
  return std::nullopt;
}

std::string TestDataPath(const std::string& name) {
  std::string base;
  if (const char* srcdir = std::getenv("TEST_SRCDIR"); srcdir != nullptr) {
    base = std::string(srcdir) + "/tessera/";
  }
  return base + "engine/tokenizer/testdata/" + name;
}

}  // namespace tessera::tokenizer::testing

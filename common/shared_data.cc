#include "common/shared_data.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cstdlib>
#include <vector>

namespace tessera {
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
  // `bazel run` names the checkout; ../shared sits beside it.
  if (const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY"); workspace != nullptr) {
    roots.push_back(std::string(workspace) + "/../shared");
  }
  char resolved[PATH_MAX];
  if (realpath(".", resolved) != nullptr) {
    std::string dir = resolved;
    while (!dir.empty() && dir != "/") {
      roots.push_back(dir + "/shared");
      const size_t slash = dir.rfind('/');
      dir = slash == 0 ? "/" : dir.substr(0, slash);
    }
  }
  for (const std::string& root : roots) {
    const std::string path = root + "/" + relative;
    if (Exists(path)) return path;
  }
  return std::nullopt;
}

std::string RunfilePath(const std::string& workspace_relative) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  if (srcdir == nullptr) return workspace_relative;
  const char* workspace = std::getenv("TEST_WORKSPACE");
  return std::string(srcdir) + "/" + (workspace != nullptr ? workspace : "tessera") + "/" +
         workspace_relative;
}

}  // namespace tessera

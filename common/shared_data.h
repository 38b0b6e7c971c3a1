// Locating files that tests and benchmarks read but the repository does not hold:
// ../shared (data and model files) and Bazel runfiles.
#ifndef TESSERA_COMMON_SHARED_DATA_H_
#define TESSERA_COMMON_SHARED_DATA_H_

#include <optional>
#include <string>

namespace tessera {

// The path of `relative` (e.g. "data/scifact/corpus.jsonl") inside the shared
// directory: $TESSERA_SHARED_DIR (tools/test.sh sets it to ../shared), else
// ../shared beside the checkout under `bazel run`, else a "shared" directory
// beside the working directory or one of its ancestors.
// nullopt when no shared directory has that file.
std::optional<std::string> FindSharedFile(const std::string& relative);

// The runfiles path of a file of this workspace listed in a target's `data`
// (e.g. "services/tessera_server"); the relative path outside tests.
std::string RunfilePath(const std::string& workspace_relative);

}  // namespace tessera

#endif  // TESSERA_COMMON_SHARED_DATA_H_

#include "engine/tokenizer/test_shared_dir.h"

#include "common/shared_data.h"

namespace tessera::tokenizer::testing {

std::optional<std::string> FindSharedFile(const std::string& relative) {
  return tessera::FindSharedFile(relative);
}

std::string TestDataPath(const std::string& name) {
  return RunfilePath("engine/tokenizer/testdata/" + name);
}

}  // namespace tessera::tokenizer::testing

// Finds files under the shared data directory (/work/shared) for tests: tries
// $TESSERA_SHARED_DIR, then /work/shared, then a "shared" directory beside any
// ancestor of the working directory's real path.
#ifndef TESSERA_ENGINE_TOKENIZER_TEST_SHARED_DIR_H_
#define TESSERA_ENGINE_TOKENIZER_TEST_SHARED_DIR_H_

#include <optional>
#include <string>

namespace tessera::tokenizer::testing {

// The path of `relative` (e.g. "tokenizers/llama2/tokenizer.model") when it exists.
std::optional<std::string> FindSharedFile(const std::string& relative);

// The path of a file checked in under engine/tokenizer/testdata, from runfiles.
std::string TestDataPath(const std::string& name);

}  // namespace tessera::tokenizer::testing

#endif  // TESSERA_ENGINE_TOKENIZER_TEST_SHARED_DIR_H_

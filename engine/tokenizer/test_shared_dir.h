// Test helpers of the tokenizer tests: shared files (see common/shared_data.h)
// and this package's testdata.
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

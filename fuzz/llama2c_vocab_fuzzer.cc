// llama2.c tokenizer.bin.
#include <cstddef>
#include <cstdint>

#include "engine/tokenizer/llama2c_vocab.h"
#include "fuzz/fuzz_util.h"
#include "fuzz/tokenizer_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto tokenizer =
      tessera::tokenizer::LoadLlama2cTokenizer(tessera::fuzz::AsStringView(data, size));
  if (tokenizer.ok()) tessera::fuzz::ExerciseTokenizerWithSamples(**tokenizer);
  return 0;
}

// Hugging Face tokenizer.json (WordPiece, byte-level BPE, SentencePiece-style BPE).
#include <cstddef>
#include <cstdint>

#include "engine/tokenizer/tokenizer_json.h"
#include "fuzz/fuzz_util.h"
#include "fuzz/tokenizer_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto tokenizer = tessera::tokenizer::LoadTokenizerJson(tessera::fuzz::AsStringView(data, size));
  if (tokenizer.ok()) tessera::fuzz::ExerciseTokenizerWithSamples(**tokenizer);
  return 0;
}

// SentencePiece tokenizer.model (a serialized ModelProto, read without the
// sentencepiece library).
#include <cstddef>
#include <cstdint>

#include "engine/tokenizer/sentencepiece_model.h"
#include "fuzz/fuzz_util.h"
#include "fuzz/tokenizer_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes = tessera::fuzz::AsStringView(data, size);
  (void)tessera::tokenizer::ParseSentencePieceModel(bytes);
  auto tokenizer = tessera::tokenizer::LoadSentencePieceModel(bytes);
  if (tokenizer.ok()) tessera::fuzz::ExerciseTokenizerWithSamples(**tokenizer);
  return 0;
}

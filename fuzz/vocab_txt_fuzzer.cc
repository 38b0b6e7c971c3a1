// BERT vocab.txt (WordPiece). The first byte picks the options a
// tokenizer_config.json could set.
#include <cstddef>
#include <cstdint>

#include "engine/tokenizer/wordpiece.h"
#include "fuzz/fuzz_util.h"
#include "fuzz/tokenizer_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  tessera::tokenizer::WordPieceOptions options;
  options.do_lower_case = (data[0] & 1) != 0;
  if ((data[0] & 2) != 0) options.strip_accents = (data[0] & 4) != 0;
  options.tokenize_chinese_chars = (data[0] & 8) != 0;
  options.clean_text = (data[0] & 16) != 0;
  options.max_input_chars_per_word = (data[0] & 32) != 0 ? 5 : 100;
  auto tokenizer = tessera::tokenizer::WordPieceTokenizer::FromVocabText(
      tessera::fuzz::AsStringView(data + 1, size - 1), options);
  if (tokenizer.ok()) tessera::fuzz::ExerciseTokenizerWithSamples(**tokenizer);
  return 0;
}

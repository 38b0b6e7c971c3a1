// Drives a Tokenizer built from fuzzed bytes (or encoding fuzzed text) through
// every method, checking the contracts of tokenizer.h.
#ifndef TESSERA_FUZZ_TOKENIZER_CHECKS_H_
#define TESSERA_FUZZ_TOKENIZER_CHECKS_H_

#include "absl/strings/string_view.h"
#include "engine/tokenizer/tokenizer.h"

namespace tessera::fuzz {

// Encodes `text` (with and without special tokens), decodes the ids and encodes
// a pair; with `probe_vocabulary`, also looks up pieces by id and back. Ids must
// lie in [0, vocab_size()); invalid UTF-8 must be an error, not a crash.
void ExerciseTokenizer(const tokenizer::Tokenizer& tokenizer, absl::string_view text,
                       bool probe_vocabulary = true);

// ExerciseTokenizer over a few fixed texts (ASCII, accents, CJK, emoji, control
// characters, special-token look-alikes): for fuzzing vocabularies.
void ExerciseTokenizerWithSamples(const tokenizer::Tokenizer& tokenizer);

}  // namespace tessera::fuzz

#endif  // TESSERA_FUZZ_TOKENIZER_CHECKS_H_

// Builds a tokenizer from a Hugging Face tokenizer.json: "model.type" WordPiece
// gives WordPieceTokenizer (options from the BertNormalizer); BPE with a ByteLevel
// pre-tokenizer gives ByteLevelBpeTokenizer; other BPE models (Llama-style, with
// "▁" pieces and byte_fallback) give SentencePieceBpeTokenizer, the merge ranks
// standing in for piece scores.
#ifndef TESSERA_ENGINE_TOKENIZER_TOKENIZER_JSON_H_
#define TESSERA_ENGINE_TOKENIZER_TOKENIZER_JSON_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/tokenizer/tokenizer.h"

namespace tessera::tokenizer {

// INVALID_ARGUMENT for malformed JSON or a missing/ill-typed field; UNIMPLEMENTED
// for model types other than WordPiece and BPE (e.g. Unigram).
absl::StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizerJson(absl::string_view json_text);

}  // namespace tessera::tokenizer

#endif  // TESSERA_ENGINE_TOKENIZER_TOKENIZER_JSON_H_

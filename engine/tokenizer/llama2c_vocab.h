// Reads llama2.c's tokenizer.bin: int32 max_token_length, then per token a float
// score, an int32 byte length and the bytes (all little-endian). llama2.c writes
// spaces instead of U+2581 and "\n<s>\n" / "\n</s>\n" for BOS/EOS; the loader maps
// them back so the vocabulary matches the SentencePiece model it came from.
#ifndef TESSERA_ENGINE_TOKENIZER_LLAMA2C_VOCAB_H_
#define TESSERA_ENGINE_TOKENIZER_LLAMA2C_VOCAB_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/tokenizer/sentencepiece_bpe.h"

namespace tessera::tokenizer {

// The token count is implied by the file length (llama2.c takes it from the model
// config); any partial record is INVALID_ARGUMENT. Types are inferred: "<unk>" is
// UNKNOWN, "<s>"/"</s>" CONTROL, "<0xNN>" BYTE, everything else NORMAL.
absl::StatusOr<SentencePieceVocab> ParseLlama2cVocab(absl::string_view bytes);

// Llama 2 defaults: dummy prefix, byte fallback, BOS "<s>", EOS "</s>".
absl::StatusOr<std::unique_ptr<SentencePieceBpeTokenizer>> LoadLlama2cTokenizer(
    absl::string_view bytes);

}  // namespace tessera::tokenizer

#endif  // TESSERA_ENGINE_TOKENIZER_LLAMA2C_VOCAB_H_

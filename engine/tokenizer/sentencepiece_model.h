// Reads SentencePiece's tokenizer.model (a serialized ModelProto) without the
// sentencepiece library: the protobuf wire format is walked field by field.
#ifndef TESSERA_ENGINE_TOKENIZER_SENTENCEPIECE_MODEL_H_
#define TESSERA_ENGINE_TOKENIZER_SENTENCEPIECE_MODEL_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/tokenizer/sentencepiece_bpe.h"

namespace tessera::tokenizer {

struct SentencePieceModel {
  SentencePieceVocab vocab;
  SentencePieceOptions options;
  int32_t model_type = 1;  // TrainerSpec.ModelType: 1 UNIGRAM, 2 BPE, 3 WORD, 4 CHAR.
};

// Parses the bytes of a tokenizer.model. Every length is checked against the
// bytes left, so a truncated or hostile file gives INVALID_ARGUMENT.
absl::StatusOr<SentencePieceModel> ParseSentencePieceModel(absl::string_view bytes);

// Parses and builds the tokenizer. UNIMPLEMENTED for model types other than BPE
// and for treat_whitespace_as_suffix. A precompiled normalisation charsmap (e.g.
// nmt_nfkc) is not applied: text is used as given (Llama's models are "identity").
absl::StatusOr<std::unique_ptr<SentencePieceBpeTokenizer>> LoadSentencePieceModel(
    absl::string_view bytes);

}  // namespace tessera::tokenizer

#endif  // TESSERA_ENGINE_TOKENIZER_SENTENCEPIECE_MODEL_H_

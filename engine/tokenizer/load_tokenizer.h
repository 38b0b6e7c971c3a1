// Builds the right Tokenizer for a file, and the `tessera tokenize` entry point.
#ifndef TESSERA_ENGINE_TOKENIZER_LOAD_TOKENIZER_H_
#define TESSERA_ENGINE_TOKENIZER_LOAD_TOKENIZER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/tokenizer/tokenizer.h"

namespace tessera::tokenizer {

// Picks the implementation from the file:
//   *.json (or content starting with '{') -> tokenizer.json (WordPiece or BPE);
//   *.txt  -> BERT vocab.txt (WordPiece; do_lower_case from a tokenizer_config.json
//             beside it, default true);
//   *.model (or other protobuf content) -> SentencePiece ModelProto (BPE only);
//   *.bin  -> llama2.c tokenizer.bin;
//   a directory -> its tokenizer.json, tokenizer.model or vocab.txt, in that order.
// GGUF files give UNIMPLEMENTED here: the GGUF loader builds the tokenizer from
// its metadata with SentencePieceBpeTokenizer::Create. NOT_FOUND when the file is
// missing; INVALID_ARGUMENT when it is malformed.
absl::StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizer(const std::string& path);

// `tessera tokenize`: the ids of `text`, space-separated. No special tokens are
// added for any kind (so a SentencePiece model prints what `sentencepiece`'s
// encode() prints, without BOS, and WordPiece prints no [CLS]/[SEP]).
absl::StatusOr<std::string> TokenizeToString(const std::string& path, absl::string_view text);

// Reads a whole file, refusing anything over `max_bytes`.
absl::StatusOr<std::string> ReadFileToString(const std::string& path, size_t max_bytes);

}  // namespace tessera::tokenizer

#endif  // TESSERA_ENGINE_TOKENIZER_LOAD_TOKENIZER_H_

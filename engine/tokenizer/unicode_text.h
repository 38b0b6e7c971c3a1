// Small UTF-8 helpers shared by the tokenizers (validation lives in //common:utf8).
#ifndef TESSERA_ENGINE_TOKENIZER_UNICODE_TEXT_H_
#define TESSERA_ENGINE_TOKENIZER_UNICODE_TEXT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"

namespace tessera::tokenizer {

// Byte length of the UTF-8 sequence starting with `lead`, 1 for a stray byte so
// that loops over unvalidated text always advance.
inline size_t Utf8SequenceLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

// Decodes already-validated UTF-8 into code points.
std::vector<char32_t> ToCodePoints(absl::string_view valid_utf8);

// Appends the UTF-8 encoding of `code_point` to `out`.
void AppendUtf8(char32_t code_point, std::string* out);

// Appends `bytes` to `out`, replacing each byte that is not part of a well-formed
// UTF-8 sequence with U+FFFD (how SentencePiece and Hugging Face decode bytes).
void AppendUtf8Lossy(absl::string_view bytes, std::string* out);

// The added token ("[SEP]", "<|endoftext|>") that splits `text` first, as Hugging
// Face matches them: the leftmost occurrence of any of the `count` tokens
// (`content(i)` is token i), the longest at one position. nullopt when none occurs.
struct AddedTokenMatch {
  size_t position;
  size_t index;
};
std::optional<AddedTokenMatch> FindAddedToken(absl::string_view text, size_t count,
                                              absl::FunctionRef<absl::string_view(size_t)> content);

}  // namespace tessera::tokenizer

#endif  // TESSERA_ENGINE_TOKENIZER_UNICODE_TEXT_H_

// Conversion between byte offsets and code-point offsets of one UTF-8 text.
#ifndef TESSERA_INGEST_PARSE_TEXT_OFFSETS_H_
#define TESSERA_INGEST_PARSE_TEXT_OFFSETS_H_

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"

namespace tessera::ingest {

// Walks a text from its last position, so a sequence of nearby lookups costs the
// distance between them: linear overall when lookups move mostly forward.
// Byte offsets must lie on code-point boundaries (or they are rounded up).
class OffsetCursor {
 public:
  explicit OffsetCursor(absl::string_view text) : text_(text) {}

  // Code-point offset of byte offset `byte` (clamped to the text size).
  int64_t ByteToChar(size_t byte);
  // Byte offset of code-point offset `char_offset` (clamped to the text end).
  size_t CharToByte(int64_t char_offset);

 private:
  bool IsContinuation(size_t byte) const {
    return (static_cast<unsigned char>(text_[byte]) & 0xC0) == 0x80;
  }

  absl::string_view text_;
  size_t byte_ = 0;
  int64_t char_ = 0;
};

// Length in bytes of the UTF-8 sequence that starts with `lead`; 1 for a stray byte.
inline int Utf8SequenceLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

}  // namespace tessera::ingest

#endif  // TESSERA_INGEST_PARSE_TEXT_OFFSETS_H_

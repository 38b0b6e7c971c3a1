#include "ingest/parse/text_offsets.h"

namespace tessera::ingest {

int64_t OffsetCursor::ByteToChar(size_t byte) {
  if (byte > text_.size()) byte = text_.size();
  while (byte_ < byte) {
    byte_ += Utf8SequenceLength(static_cast<unsigned char>(text_[byte_]));
    ++char_;
  }
  if (byte_ > text_.size()) byte_ = text_.size();
  while (byte_ > byte) {
    // Step back over one code point: its continuation bytes, then its lead byte.
    --byte_;
    while (byte_ > 0 && IsContinuation(byte_)) --byte_;
    --char_;
  }
  // `byte` inside a sequence: the loop above overshot backwards; move to its end.
  while (byte_ < byte) {
    byte_ += Utf8SequenceLength(static_cast<unsigned char>(text_[byte_]));
    ++char_;
  }
  return char_;
}

size_t OffsetCursor::CharToByte(int64_t char_offset) {
  if (char_offset < 0) char_offset = 0;
  while (char_ < char_offset && byte_ < text_.size()) {
    byte_ += Utf8SequenceLength(static_cast<unsigned char>(text_[byte_]));
    ++char_;
  }
  if (byte_ > text_.size()) byte_ = text_.size();
  while (char_ > char_offset) {
    --byte_;
    while (byte_ > 0 && IsContinuation(byte_)) --byte_;
    --char_;
  }
  return byte_;
}

}  // namespace tessera::ingest

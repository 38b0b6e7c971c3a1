#include "engine/tokenizer/llama2c_vocab.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace tessera::tokenizer {
namespace {

// Reads little-endian fixed-size values with bounds checks.
class ByteCursor {
 public:
  explicit ByteCursor(absl::string_view bytes) : bytes_(bytes) {}
  size_t position() const { return position_; }
  size_t remaining() const { return bytes_.size() - position_; }

  bool ReadInt32(int32_t* value) { return ReadRaw(value, sizeof(*value)); }
  bool ReadFloat(float* value) { return ReadRaw(value, sizeof(*value)); }
  bool ReadBytes(size_t length, absl::string_view* value) {
    if (length > remaining()) return false;
    *value = bytes_.substr(position_, length);
    position_ += length;
    return true;
  }

 private:
  bool ReadRaw(void* value, size_t size) {
    if (size > remaining()) return false;
    // x86-64 and aarch64 are little-endian, as is the file format.
    std::memcpy(value, bytes_.data() + position_, size);
    position_ += size;
    return true;
  }

  absl::string_view bytes_;
  size_t position_ = 0;
};

bool IsBytePiece(absl::string_view piece) {
  auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); };
  return piece.size() == 6 && piece.substr(0, 3) == "<0x" && hex(piece[3]) && hex(piece[4]) &&
         piece[5] == '>';
}

}  // namespace

absl::StatusOr<SentencePieceVocab> ParseLlama2cVocab(absl::string_view bytes) {
  ByteCursor cursor(bytes);
  int32_t max_token_length = 0;
  if (!cursor.ReadInt32(&max_token_length)) {
    return absl::InvalidArgumentError("tokenizer.bin: shorter than its 4-byte header");
  }
  if (max_token_length <= 0 || max_token_length > (1 << 20)) {
    return absl::InvalidArgumentError(
        absl::StrCat("tokenizer.bin: implausible max_token_length ", max_token_length));
  }
  SentencePieceVocab vocab;
  while (cursor.remaining() > 0) {
    const size_t record_start = cursor.position();
    const size_t index = vocab.pieces.size();
    float score = 0.0f;
    int32_t length = 0;
    absl::string_view raw;
    if (!cursor.ReadFloat(&score) || !cursor.ReadInt32(&length)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tokenizer.bin: truncated record header for token ", index, " at byte ", record_start));
    }
    if (length < 0 || length > max_token_length) {
      return absl::InvalidArgumentError(absl::StrCat("tokenizer.bin: token ", index, " length ",
                                                     length, " outside [0, max_token_length=",
                                                     max_token_length, "]"));
    }
    if (!cursor.ReadBytes(static_cast<size_t>(length), &raw)) {
      return absl::InvalidArgumentError(absl::StrCat("tokenizer.bin: token ", index, " needs ",
                                                     length, " bytes but only ",
                                                     cursor.remaining(), " remain"));
    }
    std::string piece;
    PieceType type = PieceType::kNormal;
    if (raw == "<unk>") {
      piece = "<unk>";
      type = PieceType::kUnknown;
    } else if (raw == "\n<s>\n" || raw == "<s>") {
      piece = "<s>";
      type = PieceType::kControl;
    } else if (raw == "\n</s>\n" || raw == "</s>") {
      piece = "</s>";
      type = PieceType::kControl;
    } else if (IsBytePiece(raw)) {
      piece = std::string(raw);
      type = PieceType::kByte;
    } else {
      piece = absl::StrReplaceAll(raw, {{" ", "\xE2\x96\x81"}});
    }
    vocab.pieces.push_back(std::move(piece));
    vocab.scores.push_back(score);
    vocab.types.push_back(type);
  }
  if (vocab.pieces.empty()) return absl::InvalidArgumentError("tokenizer.bin: no tokens");
  return vocab;
}

absl::StatusOr<std::unique_ptr<SentencePieceBpeTokenizer>> LoadLlama2cTokenizer(
    absl::string_view bytes) {
  absl::StatusOr<SentencePieceVocab> vocab = ParseLlama2cVocab(bytes);
  if (!vocab.ok()) return vocab.status();
  SentencePieceOptions options;  // Llama 2 defaults.
  return SentencePieceBpeTokenizer::Create(std::move(*vocab), options);
}

}  // namespace tessera::tokenizer

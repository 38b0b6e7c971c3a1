#include "engine/tokenizer/sentencepiece_model.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <climits>
#include <cstring>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace tessera::tokenizer {
namespace {

using google::protobuf::io::CodedInputStream;
using google::protobuf::internal::WireFormatLite;

constexpr int kVarint = WireFormatLite::WIRETYPE_VARINT;
constexpr int kFixed32 = WireFormatLite::WIRETYPE_FIXED32;
constexpr int kLengthDelimited = WireFormatLite::WIRETYPE_LENGTH_DELIMITED;

// The fields we read, and the protobuf defaults of those that have one.
struct TrainerSpec {
  int32_t model_type = 1;
  bool byte_fallback = false;
  bool treat_whitespace_as_suffix = false;
  int32_t unk_id = 0;
  int32_t bos_id = 1;
  int32_t eos_id = 2;
  int32_t pad_id = -1;
};

struct NormalizerSpec {
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = true;
  bool escape_whitespaces = true;
};

absl::Status Malformed(absl::string_view what, int position) {
  return absl::InvalidArgumentError(
      absl::StrCat("tokenizer.model: malformed ", what, " near byte ", position));
}

// Wraps CodedInputStream over a memory buffer; every length-delimited read is
// checked against the bytes that remain before anything is allocated.
class WireReader {
 public:
  explicit WireReader(absl::string_view bytes)
      : input_(reinterpret_cast<const uint8_t*>(bytes.data()), static_cast<int>(bytes.size())),
        size_(static_cast<int>(bytes.size())) {
    input_.SetTotalBytesLimit(INT_MAX);
  }

  int position() const { return input_.CurrentPosition(); }
  int remaining() const { return size_ - input_.CurrentPosition(); }
  bool AtEnd() { return input_.BytesUntilLimit() == 0 || (input_.BytesUntilLimit() < 0 && remaining() == 0); }

  // 0 at the end of the current message.
  absl::StatusOr<uint32_t> ReadTag() {
    if (AtEnd()) return 0u;
    const uint32_t tag = input_.ReadTag();
    if (tag == 0) return Malformed("tag", position());
    return tag;
  }

  absl::StatusOr<uint32_t> ReadLength() {
    uint32_t length = 0;
    if (!input_.ReadVarint32(&length)) return Malformed("length", position());
    const int limit = input_.BytesUntilLimit();
    const int available = limit >= 0 ? limit : remaining();
    if (length > static_cast<uint32_t>(available)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tokenizer.model: field of ", length, " bytes at byte ", position(), " but only ",
          available, " remain (truncated file?)"));
    }
    return length;
  }

  absl::StatusOr<std::string> ReadString() {
    absl::StatusOr<uint32_t> length = ReadLength();
    if (!length.ok()) return length.status();
    std::string value;
    if (!input_.ReadString(&value, static_cast<int>(*length))) {
      return Malformed("string", position());
    }
    return value;
  }

  absl::StatusOr<int64_t> ReadVarint() {
    uint64_t value = 0;
    if (!input_.ReadVarint64(&value)) return Malformed("varint", position());
    return static_cast<int64_t>(value);
  }

  absl::StatusOr<float> ReadFloat() {
    uint32_t bits = 0;
    if (!input_.ReadLittleEndian32(&bits)) return Malformed("float", position());
    float value;
    std::memcpy(&value, &bits, sizeof(value));
    return value;
  }

  absl::Status Skip(uint32_t tag) {
    if (WireFormatLite::GetTagWireType(tag) == kLengthDelimited) {
      absl::StatusOr<uint32_t> length = ReadLength();
      if (!length.ok()) return length.status();
      if (!input_.Skip(static_cast<int>(*length))) return Malformed("field", position());
      return absl::OkStatus();
    }
    if (!WireFormatLite::SkipField(&input_, tag)) return Malformed("field", position());
    return absl::OkStatus();
  }

  // Runs `parse_fields` inside a length-delimited sub-message.
  template <typename ParseFields>
  absl::Status ReadMessage(ParseFields parse_fields) {
    absl::StatusOr<uint32_t> length = ReadLength();
    if (!length.ok()) return length.status();
    const CodedInputStream::Limit limit = input_.PushLimit(static_cast<int>(*length));
    absl::Status status = parse_fields();
    if (status.ok() && input_.BytesUntilLimit() != 0) status = Malformed("message", position());
    input_.PopLimit(limit);
    return status;
  }

 private:
  CodedInputStream input_;
  int size_;
};

absl::Status ExpectWireType(uint32_t tag, int wire_type, absl::string_view field, int position) {
  if (static_cast<int>(WireFormatLite::GetTagWireType(tag)) != wire_type) {
    return Malformed(absl::StrCat(field, " (wrong wire type)"), position);
  }
  return absl::OkStatus();
}

// Reads a varint field of the expected wire type into `out` via `assign`.
template <typename T>
absl::Status ReadVarintField(WireReader& reader, uint32_t tag, absl::string_view field, T* out) {
  if (absl::Status s = ExpectWireType(tag, kVarint, field, reader.position()); !s.ok()) return s;
  absl::StatusOr<int64_t> value = reader.ReadVarint();
  if (!value.ok()) return value.status();
  *out = static_cast<T>(*value);
  return absl::OkStatus();
}

absl::Status ParsePiece(WireReader& reader, SentencePieceVocab* vocab) {
  std::string piece;
  float score = 0.0f;
  int32_t type = static_cast<int32_t>(PieceType::kNormal);
  while (true) {
    absl::StatusOr<uint32_t> tag = reader.ReadTag();
    if (!tag.ok()) return tag.status();
    if (*tag == 0) break;
    switch (WireFormatLite::GetTagFieldNumber(*tag)) {
      case 1: {
        if (absl::Status s = ExpectWireType(*tag, kLengthDelimited, "piece", reader.position());
            !s.ok()) {
          return s;
        }
        absl::StatusOr<std::string> value = reader.ReadString();
        if (!value.ok()) return value.status();
        piece = std::move(*value);
        break;
      }
      case 2: {
        if (absl::Status s = ExpectWireType(*tag, kFixed32, "score", reader.position()); !s.ok()) {
          return s;
        }
        absl::StatusOr<float> value = reader.ReadFloat();
        if (!value.ok()) return value.status();
        score = *value;
        break;
      }
      case 3:
        if (absl::Status s = ReadVarintField(reader, *tag, "type", &type); !s.ok()) return s;
        break;
      default:
        if (absl::Status s = reader.Skip(*tag); !s.ok()) return s;
    }
  }
  if (type < 1 || type > 6) {
    return absl::InvalidArgumentError(absl::StrCat("tokenizer.model: piece ",
                                                   vocab->pieces.size(), " has type ", type));
  }
  vocab->pieces.push_back(std::move(piece));
  vocab->scores.push_back(score);
  vocab->types.push_back(static_cast<PieceType>(type));
  return absl::OkStatus();
}

absl::Status ParseTrainerSpec(WireReader& reader, TrainerSpec* spec) {
  while (true) {
    absl::StatusOr<uint32_t> tag = reader.ReadTag();
    if (!tag.ok()) return tag.status();
    if (*tag == 0) return absl::OkStatus();
    absl::Status status;
    switch (WireFormatLite::GetTagFieldNumber(*tag)) {
      case 3: status = ReadVarintField(reader, *tag, "model_type", &spec->model_type); break;
      case 24:
        status = ReadVarintField(reader, *tag, "treat_whitespace_as_suffix",
                                 &spec->treat_whitespace_as_suffix);
        break;
      case 35: status = ReadVarintField(reader, *tag, "byte_fallback", &spec->byte_fallback); break;
      case 40: status = ReadVarintField(reader, *tag, "unk_id", &spec->unk_id); break;
      case 41: status = ReadVarintField(reader, *tag, "bos_id", &spec->bos_id); break;
      case 42: status = ReadVarintField(reader, *tag, "eos_id", &spec->eos_id); break;
      case 43: status = ReadVarintField(reader, *tag, "pad_id", &spec->pad_id); break;
      default: status = reader.Skip(*tag);
    }
    if (!status.ok()) return status;
  }
}

absl::Status ParseNormalizerSpec(WireReader& reader, NormalizerSpec* spec) {
  while (true) {
    absl::StatusOr<uint32_t> tag = reader.ReadTag();
    if (!tag.ok()) return tag.status();
    if (*tag == 0) return absl::OkStatus();
    absl::Status status;
    switch (WireFormatLite::GetTagFieldNumber(*tag)) {
      case 3:
        status = ReadVarintField(reader, *tag, "add_dummy_prefix", &spec->add_dummy_prefix);
        break;
      case 4:
        status = ReadVarintField(reader, *tag, "remove_extra_whitespaces",
                                 &spec->remove_extra_whitespaces);
        break;
      case 5:
        status = ReadVarintField(reader, *tag, "escape_whitespaces", &spec->escape_whitespaces);
        break;
      default: status = reader.Skip(*tag);
    }
    if (!status.ok()) return status;
  }
}

}  // namespace

absl::StatusOr<SentencePieceModel> ParseSentencePieceModel(absl::string_view bytes) {
  if (bytes.size() > static_cast<size_t>(INT_MAX)) {
    return absl::InvalidArgumentError("tokenizer.model: file larger than 2 GiB");
  }
  WireReader reader(bytes);
  SentencePieceModel model;
  TrainerSpec trainer;
  NormalizerSpec normalizer;
  while (true) {
    absl::StatusOr<uint32_t> tag = reader.ReadTag();
    if (!tag.ok()) return tag.status();
    if (*tag == 0) break;
    const int field = WireFormatLite::GetTagFieldNumber(*tag);
    absl::Status status;
    if (field >= 1 && field <= 3) {
      status = ExpectWireType(*tag, kLengthDelimited, "ModelProto field", reader.position());
      if (!status.ok()) return status;
    }
    switch (field) {
      case 1: status = reader.ReadMessage([&] { return ParsePiece(reader, &model.vocab); }); break;
      case 2: status = reader.ReadMessage([&] { return ParseTrainerSpec(reader, &trainer); }); break;
      case 3:
        status = reader.ReadMessage([&] { return ParseNormalizerSpec(reader, &normalizer); });
        break;
      default: status = reader.Skip(*tag);
    }
    if (!status.ok()) return status;
  }
  if (model.vocab.pieces.empty()) {
    return absl::InvalidArgumentError("tokenizer.model: no pieces (not a SentencePiece model?)");
  }
  model.model_type = trainer.model_type;
  SentencePieceOptions& options = model.options;
  options.add_dummy_prefix = normalizer.add_dummy_prefix && !trainer.treat_whitespace_as_suffix;
  options.remove_extra_whitespaces = normalizer.remove_extra_whitespaces;
  options.escape_whitespaces = normalizer.escape_whitespaces;
  options.byte_fallback = trainer.byte_fallback;
  const int32_t size = static_cast<int32_t>(model.vocab.pieces.size());
  auto in_range = [size](int32_t id) { return id >= 0 && id < size ? id : -1; };
  options.unk_id = in_range(trainer.unk_id);
  options.bos_id = in_range(trainer.bos_id);
  options.eos_id = in_range(trainer.eos_id);
  options.pad_id = in_range(trainer.pad_id);
  if (trainer.treat_whitespace_as_suffix) {
    return absl::UnimplementedError("tokenizer.model: treat_whitespace_as_suffix is not supported");
  }
  return model;
}

absl::StatusOr<std::unique_ptr<SentencePieceBpeTokenizer>> LoadSentencePieceModel(
    absl::string_view bytes) {
  absl::StatusOr<SentencePieceModel> model = ParseSentencePieceModel(bytes);
  if (!model.ok()) return model.status();
  if (model->model_type != 2) {
    return absl::UnimplementedError(absl::StrCat(
        "tokenizer.model: model_type ", model->model_type,
        " is not supported (only BPE = 2; 1 is UNIGRAM)"));
  }
  return SentencePieceBpeTokenizer::Create(std::move(model->vocab), model->options);
}

}  // namespace tessera::tokenizer

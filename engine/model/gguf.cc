#include "engine/model/gguf.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "engine/model/output_file.h"

namespace tessera::model {
namespace {

constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" read as little-endian.
constexpr int kMaxDims = 4;                  // GGML_MAX_DIMS.
constexpr int kMaxArrayDepth = 8;            // Nested arrays: stop hostile recursion.

// Minimum encoded size of a value of `type`, used to bound counts before
// reserving memory for them.
uint64_t MinEncodedSize(GgufType type) {
  switch (type) {
    case GgufType::kUint8:
    case GgufType::kInt8:
    case GgufType::kBool:
      return 1;
    case GgufType::kUint16:
    case GgufType::kInt16:
      return 2;
    case GgufType::kUint32:
    case GgufType::kInt32:
    case GgufType::kFloat32:
      return 4;
    case GgufType::kString:
    case GgufType::kUint64:
    case GgufType::kInt64:
    case GgufType::kFloat64:
      return 8;
    case GgufType::kArray:
      return 12;
  }
  return 1;
}

bool IsKnownType(uint32_t type) { return type <= static_cast<uint32_t>(GgufType::kFloat64); }

bool IsUnsigned(GgufType type) {
  return type == GgufType::kUint8 || type == GgufType::kUint16 || type == GgufType::kUint32 ||
         type == GgufType::kUint64;
}
bool IsSigned(GgufType type) {
  return type == GgufType::kInt8 || type == GgufType::kInt16 || type == GgufType::kInt32 ||
         type == GgufType::kInt64;
}
bool IsFloat(GgufType type) { return type == GgufType::kFloat32 || type == GgufType::kFloat64; }

// Bounds-checked little-endian reader over the mapped bytes.
class Reader {
 public:
  Reader(const uint8_t* data, uint64_t size) : data_(data), size_(size) {}

  uint64_t position() const { return position_; }
  uint64_t remaining() const { return size_ - position_; }

  template <typename T>
  absl::Status Read(T* value, absl::string_view what) {
    if (remaining() < sizeof(T)) return Truncated(what);
    std::memcpy(value, data_ + position_, sizeof(T));
    position_ += sizeof(T);
    return absl::OkStatus();
  }

  absl::Status ReadString(std::string* value, absl::string_view what) {
    uint64_t length = 0;
    absl::Status status = Read(&length, what);
    if (!status.ok()) return status;
    if (length > remaining()) {
      return absl::DataLossError(absl::StrCat(what, ": string length ", length, " at offset ",
                                              position_ - 8, " runs past the end of the file"));
    }
    value->assign(reinterpret_cast<const char*>(data_ + position_), length);
    position_ += length;
    return absl::OkStatus();
  }

  absl::Status Truncated(absl::string_view what) const {
    return absl::DataLossError(
        absl::StrCat("file ends at offset ", size_, " while reading ", what));
  }

 private:
  const uint8_t* data_;
  uint64_t size_;
  uint64_t position_ = 0;
};

absl::Status ReadValue(Reader& reader, GgufType type, int depth, GgufValue* value,
                       absl::string_view key) {
  value->type = type;
  switch (type) {
    case GgufType::kUint8: {
      uint8_t v = 0;
      absl::Status s = reader.Read(&v, key);
      value->uint_value = v;
      return s;
    }
    case GgufType::kUint16: {
      uint16_t v = 0;
      absl::Status s = reader.Read(&v, key);
      value->uint_value = v;
      return s;
    }
    case GgufType::kUint32: {
      uint32_t v = 0;
      absl::Status s = reader.Read(&v, key);
      value->uint_value = v;
      return s;
    }
    case GgufType::kUint64:
      return reader.Read(&value->uint_value, key);
    case GgufType::kInt8: {
      int8_t v = 0;
      absl::Status s = reader.Read(&v, key);
      value->int_value = v;
      return s;
    }
    case GgufType::kInt16: {
      int16_t v = 0;
      absl::Status s = reader.Read(&v, key);
      value->int_value = v;
      return s;
    }
    case GgufType::kInt32: {
      int32_t v = 0;
      absl::Status s = reader.Read(&v, key);
      value->int_value = v;
      return s;
    }
    case GgufType::kInt64:
      return reader.Read(&value->int_value, key);
    case GgufType::kFloat32: {
      float v = 0;
      absl::Status s = reader.Read(&v, key);
      value->float_value = v;
      return s;
    }
    case GgufType::kFloat64:
      return reader.Read(&value->float_value, key);
    case GgufType::kBool: {
      uint8_t v = 0;
      absl::Status s = reader.Read(&v, key);
      if (s.ok() && v > 1) {
        return absl::InvalidArgumentError(absl::StrCat(key, ": bool value ", int{v}));
      }
      value->bool_value = v != 0;
      return s;
    }
    case GgufType::kString:
      return reader.ReadString(&value->string_value, key);
    case GgufType::kArray: {
      if (depth >= kMaxArrayDepth) {
        return absl::InvalidArgumentError(absl::StrCat(key, ": arrays nested too deeply"));
      }
      uint32_t element_type = 0;
      uint64_t count = 0;
      absl::Status s = reader.Read(&element_type, key);
      if (s.ok()) s = reader.Read(&count, key);
      if (!s.ok()) return s;
      if (!IsKnownType(element_type)) {
        return absl::InvalidArgumentError(
            absl::StrCat(key, ": unknown array element type ", element_type));
      }
      value->element_type = static_cast<GgufType>(element_type);
      if (count > reader.remaining() / MinEncodedSize(value->element_type)) {
        return absl::DataLossError(absl::StrCat(key, ": array of ", count,
                                                " elements cannot fit in the ",
                                                reader.remaining(), " bytes left"));
      }
      value->array.resize(count);
      for (uint64_t i = 0; i < count; ++i) {
        s = ReadValue(reader, value->element_type, depth + 1, &value->array[i], key);
        if (!s.ok()) return s;
      }
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(key, ": unknown value type"));
}

void WriteValue(const GgufValue& value, std::string* out, bool with_type) {
  auto append = [out](const void* data, size_t size) {
    out->append(static_cast<const char*>(data), size);
  };
  if (with_type) {
    const uint32_t type = static_cast<uint32_t>(value.type);
    append(&type, 4);
  }
  switch (value.type) {
    case GgufType::kUint8: {
      const uint8_t v = static_cast<uint8_t>(value.uint_value);
      append(&v, 1);
      break;
    }
    case GgufType::kUint16: {
      const uint16_t v = static_cast<uint16_t>(value.uint_value);
      append(&v, 2);
      break;
    }
    case GgufType::kUint32: {
      const uint32_t v = static_cast<uint32_t>(value.uint_value);
      append(&v, 4);
      break;
    }
    case GgufType::kUint64:
      append(&value.uint_value, 8);
      break;
    case GgufType::kInt8: {
      const int8_t v = static_cast<int8_t>(value.int_value);
      append(&v, 1);
      break;
    }
    case GgufType::kInt16: {
      const int16_t v = static_cast<int16_t>(value.int_value);
      append(&v, 2);
      break;
    }
    case GgufType::kInt32: {
      const int32_t v = static_cast<int32_t>(value.int_value);
      append(&v, 4);
      break;
    }
    case GgufType::kInt64:
      append(&value.int_value, 8);
      break;
    case GgufType::kFloat32: {
      const float v = static_cast<float>(value.float_value);
      append(&v, 4);
      break;
    }
    case GgufType::kFloat64:
      append(&value.float_value, 8);
      break;
    case GgufType::kBool: {
      const uint8_t v = value.bool_value ? 1 : 0;
      append(&v, 1);
      break;
    }
    case GgufType::kString: {
      const uint64_t length = value.string_value.size();
      append(&length, 8);
      out->append(value.string_value);
      break;
    }
    case GgufType::kArray: {
      const uint32_t element_type = static_cast<uint32_t>(value.element_type);
      const uint64_t count = value.array.size();
      append(&element_type, 4);
      append(&count, 8);
      for (const GgufValue& element : value.array) WriteValue(element, out, false);
      break;
    }
  }
}

void AppendString(const std::string& text, std::string* out) {
  const uint64_t length = text.size();
  out->append(reinterpret_cast<const char*>(&length), 8);
  out->append(text);
}

uint64_t AlignUp(uint64_t value, uint64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

}  // namespace

GgufValue GgufValue::Uint(GgufType type, uint64_t value) {
  GgufValue v;
  v.type = type;
  v.uint_value = value;
  return v;
}
GgufValue GgufValue::Int(GgufType type, int64_t value) {
  GgufValue v;
  v.type = type;
  v.int_value = value;
  return v;
}
GgufValue GgufValue::Float(GgufType type, double value) {
  GgufValue v;
  v.type = type;
  v.float_value = value;
  return v;
}
GgufValue GgufValue::Bool(bool value) {
  GgufValue v;
  v.type = GgufType::kBool;
  v.bool_value = value;
  return v;
}
GgufValue GgufValue::String(std::string value) {
  GgufValue v;
  v.type = GgufType::kString;
  v.string_value = std::move(value);
  return v;
}
GgufValue GgufValue::Array(GgufType element_type, std::vector<GgufValue> elements) {
  GgufValue v;
  v.type = GgufType::kArray;
  v.element_type = element_type;
  v.array = std::move(elements);
  return v;
}

absl::StatusOr<DType> DTypeFromGgml(uint32_t ggml_type) {
  switch (ggml_type) {
    case 0: return DType::kF32;
    case 1: return DType::kF16;
    case 2: return DType::kQ4_0;
    case 3: return DType::kQ4_1;
    case 6: return DType::kQ5_0;
    case 7: return DType::kQ5_1;
    case 8: return DType::kQ8_0;
    case 9: return DType::kQ8_1;
    case 10: return DType::kQ2_K;
    case 11: return DType::kQ3_K;
    case 12: return DType::kQ4_K;
    case 13: return DType::kQ5_K;
    case 14: return DType::kQ6_K;
    case 15: return DType::kQ8_K;
    case 24: return DType::kI8;
    case 25: return DType::kI16;
    case 26: return DType::kI32;
    case 27: return DType::kI64;
    case 28: return DType::kF64;
    case 30: return DType::kBF16;
    default:
      return absl::InvalidArgumentError(absl::StrCat("unknown or unsupported ggml type ", ggml_type));
  }
}

absl::StatusOr<uint32_t> GgmlTypeFromDType(DType dtype) {
  for (uint32_t type = 0; type <= 30; ++type) {
    absl::StatusOr<DType> candidate = DTypeFromGgml(type);
    if (candidate.ok() && *candidate == dtype) return type;
  }
  return absl::InvalidArgumentError(absl::StrCat("GGUF cannot hold ", DTypeName(dtype)));
}

absl::StatusOr<std::unique_ptr<GgufFile>> GgufFile::Open(const std::string& path) {
  absl::StatusOr<std::unique_ptr<MappedFile>> mapped = MappedFile::Open(path);
  if (!mapped.ok()) return mapped.status();
  std::unique_ptr<GgufFile> file(new GgufFile());
  file->file_ = std::move(*mapped);
  absl::Status status = file->Parse();
  if (!status.ok()) {
    return absl::Status(status.code(), absl::StrCat(path, ": ", status.message()));
  }
  return file;
}

absl::Status GgufFile::Parse() {
  Reader reader(file_->data(), file_->size());
  uint32_t magic = 0;
  absl::Status status = reader.Read(&magic, "the magic");
  if (!status.ok()) return status;
  if (magic != kGgufMagic) return absl::InvalidArgumentError("not a GGUF file (bad magic)");
  status = reader.Read(&version_, "the version");
  if (!status.ok()) return status;
  if (version_ == 1) return absl::UnimplementedError("GGUF version 1 is not supported");
  if ((version_ & 0xffff) == 0 && version_ != 0) {
    return absl::UnimplementedError("big-endian GGUF files are not supported");
  }
  if (version_ != 2 && version_ != 3) {
    return absl::InvalidArgumentError(absl::StrCat("unknown GGUF version ", version_));
  }
  uint64_t tensor_count = 0, kv_count = 0;
  status = reader.Read(&tensor_count, "the tensor count");
  if (status.ok()) status = reader.Read(&kv_count, "the metadata count");
  if (!status.ok()) return status;
  // A key/value takes at least 13 bytes and a tensor info at least 24.
  if (kv_count > reader.remaining() / 13) {
    return absl::DataLossError(absl::StrCat("metadata count ", kv_count, " cannot fit in the file"));
  }
  if (tensor_count > reader.remaining() / 24) {
    return absl::DataLossError(absl::StrCat("tensor count ", tensor_count, " cannot fit in the file"));
  }

  metadata_.reserve(kv_count);
  for (uint64_t i = 0; i < kv_count; ++i) {
    std::string key;
    status = reader.ReadString(&key, absl::StrCat("metadata key ", i));
    if (!status.ok()) return status;
    uint32_t type = 0;
    status = reader.Read(&type, key);
    if (!status.ok()) return status;
    if (!IsKnownType(type)) {
      return absl::InvalidArgumentError(absl::StrCat(key, ": unknown value type ", type));
    }
    GgufValue value;
    status = ReadValue(reader, static_cast<GgufType>(type), 0, &value, key);
    if (!status.ok()) return status;
    if (!metadata_index_.emplace(key, metadata_.size()).second) {
      return absl::InvalidArgumentError(absl::StrCat("duplicate metadata key ", key));
    }
    metadata_.emplace_back(std::move(key), std::move(value));
  }

  if (const GgufValue* alignment = FindValue("general.alignment"); alignment != nullptr) {
    if (alignment->type != GgufType::kUint32 || alignment->uint_value == 0 ||
        (alignment->uint_value & (alignment->uint_value - 1)) != 0) {
      return absl::InvalidArgumentError("general.alignment must be a power-of-two uint32");
    }
    alignment_ = alignment->uint_value;
  }

  std::vector<uint64_t> offsets;
  tensors_.reserve(tensor_count);
  offsets.reserve(tensor_count);
  for (uint64_t i = 0; i < tensor_count; ++i) {
    TensorView view;
    status = reader.ReadString(&view.name, absl::StrCat("tensor name ", i));
    if (!status.ok()) return status;
    uint32_t n_dims = 0;
    status = reader.Read(&n_dims, view.name);
    if (!status.ok()) return status;
    if (n_dims > kMaxDims) {
      return absl::InvalidArgumentError(
          absl::StrCat("tensor ", view.name, " has ", n_dims, " dimensions (at most 4)"));
    }
    std::vector<int64_t> ne(n_dims);
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t dim = 0;
      status = reader.Read(&dim, view.name);
      if (!status.ok()) return status;
      if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return absl::InvalidArgumentError(absl::StrCat("tensor ", view.name, " dimension too large"));
      }
      ne[d] = static_cast<int64_t>(dim);
    }
    view.shape.assign(ne.rbegin(), ne.rend());
    uint32_t ggml_type = 0;
    uint64_t offset = 0;
    status = reader.Read(&ggml_type, view.name);
    if (status.ok()) status = reader.Read(&offset, view.name);
    if (!status.ok()) return status;
    absl::StatusOr<DType> dtype = DTypeFromGgml(ggml_type);
    if (!dtype.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("tensor ", view.name, ": ", dtype.status().message()));
    }
    view.dtype = *dtype;
    absl::StatusOr<uint64_t> size = TensorByteSize(view.dtype, view.shape);
    if (!size.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("tensor ", view.name, ": ", size.status().message()));
    }
    if (offset % alignment_ != 0) {
      return absl::InvalidArgumentError(absl::StrCat("tensor ", view.name, " offset ", offset,
                                                     " is not aligned to ", alignment_));
    }
    view.num_bytes = *size;
    if (!tensor_index_.emplace(view.name, tensors_.size()).second) {
      return absl::InvalidArgumentError(absl::StrCat("duplicate tensor name ", view.name));
    }
    tensors_.push_back(std::move(view));
    offsets.push_back(offset);
  }

  data_offset_ = AlignUp(reader.position(), alignment_);
  if (tensor_count > 0 && data_offset_ > file_->size()) {
    return absl::DataLossError("file ends before the tensor data section");
  }
  const uint64_t data_size = file_->size() > data_offset_ ? file_->size() - data_offset_ : 0;
  std::vector<size_t> order(tensors_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    TensorView& view = tensors_[i];
    if (offsets[i] > data_size || view.num_bytes > data_size - offsets[i]) {
      return absl::DataLossError(absl::StrCat("tensor ", view.name, " (", view.num_bytes,
                                              " bytes at data offset ", offsets[i],
                                              ") runs past the end of the file"));
    }
    view.data = file_->data() + data_offset_ + offsets[i];
  }
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return offsets[a] < offsets[b]; });
  for (size_t k = 1; k < order.size(); ++k) {
    const size_t previous = order[k - 1];
    if (offsets[order[k]] < offsets[previous] + tensors_[previous].num_bytes) {
      return absl::InvalidArgumentError(absl::StrCat("tensors ", tensors_[previous].name, " and ",
                                                     tensors_[order[k]].name, " overlap"));
    }
  }
  return absl::OkStatus();
}

const GgufValue* GgufFile::FindValue(absl::string_view key) const {
  auto it = metadata_index_.find(key);
  return it == metadata_index_.end() ? nullptr : &metadata_[it->second].second;
}

const TensorView* GgufFile::Find(absl::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

namespace {

absl::StatusOr<const GgufValue*> Lookup(const GgufFile& file, absl::string_view key) {
  const GgufValue* value = file.FindValue(key);
  if (value == nullptr) return absl::NotFoundError(absl::StrCat("GGUF metadata lacks ", key));
  return value;
}

absl::Status WrongType(absl::string_view key, absl::string_view wanted) {
  return absl::InvalidArgumentError(absl::StrCat("GGUF metadata ", key, " is not ", wanted));
}

absl::StatusOr<int64_t> AsInt(const GgufValue& value, absl::string_view key) {
  if (IsSigned(value.type)) return value.int_value;
  if (IsUnsigned(value.type) &&
      value.uint_value <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return static_cast<int64_t>(value.uint_value);
  }
  return WrongType(key, "an integer in range");
}

absl::StatusOr<double> AsFloat(const GgufValue& value, absl::string_view key) {
  if (IsFloat(value.type)) return value.float_value;
  if (IsSigned(value.type)) return static_cast<double>(value.int_value);
  if (IsUnsigned(value.type)) return static_cast<double>(value.uint_value);
  return WrongType(key, "a number");
}

}  // namespace

absl::StatusOr<uint64_t> GgufFile::GetUint(absl::string_view key) const {
  absl::StatusOr<const GgufValue*> value = Lookup(*this, key);
  if (!value.ok()) return value.status();
  if (IsUnsigned((*value)->type)) return (*value)->uint_value;
  if (IsSigned((*value)->type) && (*value)->int_value >= 0) {
    return static_cast<uint64_t>((*value)->int_value);
  }
  return WrongType(key, "a non-negative integer");
}

absl::StatusOr<int64_t> GgufFile::GetInt(absl::string_view key) const {
  absl::StatusOr<const GgufValue*> value = Lookup(*this, key);
  if (!value.ok()) return value.status();
  return AsInt(**value, key);
}

absl::StatusOr<double> GgufFile::GetFloat(absl::string_view key) const {
  absl::StatusOr<const GgufValue*> value = Lookup(*this, key);
  if (!value.ok()) return value.status();
  return AsFloat(**value, key);
}

absl::StatusOr<bool> GgufFile::GetBool(absl::string_view key) const {
  absl::StatusOr<const GgufValue*> value = Lookup(*this, key);
  if (!value.ok()) return value.status();
  if ((*value)->type != GgufType::kBool) return WrongType(key, "a bool");
  return (*value)->bool_value;
}

absl::StatusOr<std::string> GgufFile::GetString(absl::string_view key) const {
  absl::StatusOr<const GgufValue*> value = Lookup(*this, key);
  if (!value.ok()) return value.status();
  if ((*value)->type != GgufType::kString) return WrongType(key, "a string");
  return (*value)->string_value;
}

absl::StatusOr<std::vector<std::string>> GgufFile::GetStringArray(absl::string_view key) const {
  absl::StatusOr<const GgufValue*> value = Lookup(*this, key);
  if (!value.ok()) return value.status();
  if ((*value)->type != GgufType::kArray || (*value)->element_type != GgufType::kString) {
    return WrongType(key, "an array of strings");
  }
  std::vector<std::string> strings;
  strings.reserve((*value)->array.size());
  for (const GgufValue& element : (*value)->array) strings.push_back(element.string_value);
  return strings;
}

absl::StatusOr<std::vector<float>> GgufFile::GetFloatArray(absl::string_view key) const {
  absl::StatusOr<const GgufValue*> value = Lookup(*this, key);
  if (!value.ok()) return value.status();
  if ((*value)->type != GgufType::kArray) return WrongType(key, "an array");
  std::vector<float> numbers;
  numbers.reserve((*value)->array.size());
  for (const GgufValue& element : (*value)->array) {
    absl::StatusOr<double> number = AsFloat(element, key);
    if (!number.ok()) return number.status();
    numbers.push_back(static_cast<float>(*number));
  }
  return numbers;
}

absl::StatusOr<std::vector<int64_t>> GgufFile::GetIntArray(absl::string_view key) const {
  absl::StatusOr<const GgufValue*> value = Lookup(*this, key);
  if (!value.ok()) return value.status();
  if ((*value)->type != GgufType::kArray) return WrongType(key, "an array");
  std::vector<int64_t> numbers;
  numbers.reserve((*value)->array.size());
  for (const GgufValue& element : (*value)->array) {
    absl::StatusOr<int64_t> number = AsInt(element, key);
    if (!number.ok()) return number.status();
    numbers.push_back(*number);
  }
  return numbers;
}

absl::StatusOr<LlamaHyperParams> ReadLlamaHyperParams(const GgufFile& file) {
  LlamaHyperParams params;
  absl::StatusOr<std::string> architecture = file.GetString("general.architecture");
  if (!architecture.ok()) return architecture.status();
  params.architecture = *architecture;
  const std::string prefix = *architecture + ".";
  struct Required {
    const char* key;
    uint64_t* target;
  };
  for (const Required& field : {Required{"context_length", &params.context_length},
                                Required{"embedding_length", &params.embedding_length},
                                Required{"block_count", &params.block_count},
                                Required{"feed_forward_length", &params.feed_forward_length},
                                Required{"attention.head_count", &params.head_count}}) {
    absl::StatusOr<uint64_t> value = file.GetUint(prefix + field.key);
    if (!value.ok()) return value.status();
    *field.target = *value;
  }
  if (params.head_count == 0 || params.embedding_length % params.head_count != 0) {
    return absl::InvalidArgumentError("embedding_length is not a multiple of head_count");
  }
  absl::StatusOr<uint64_t> kv_heads = file.GetUint(prefix + "attention.head_count_kv");
  params.head_count_kv = kv_heads.ok() ? *kv_heads : params.head_count;
  if (params.head_count_kv == 0 || params.head_count % params.head_count_kv != 0) {
    return absl::InvalidArgumentError("head_count is not a multiple of head_count_kv");
  }
  absl::StatusOr<uint64_t> rope_dims = file.GetUint(prefix + "rope.dimension_count");
  params.rope_dimension_count =
      rope_dims.ok() ? *rope_dims : params.embedding_length / params.head_count;
  absl::StatusOr<double> freq_base = file.GetFloat(prefix + "rope.freq_base");
  if (freq_base.ok()) params.rope_freq_base = *freq_base;
  absl::StatusOr<double> eps = file.GetFloat(prefix + "attention.layer_norm_rms_epsilon");
  if (eps.ok()) params.rms_norm_eps = *eps;
  absl::StatusOr<uint64_t> vocab_size = file.GetUint(prefix + "vocab_size");
  if (vocab_size.ok()) {
    params.vocab_size = *vocab_size;
  } else if (const GgufValue* tokens = file.FindValue("tokenizer.ggml.tokens"); tokens != nullptr) {
    params.vocab_size = tokens->array.size();
  }
  return params;
}

absl::StatusOr<GgufVocab> ReadGgufVocab(const GgufFile& file) {
  GgufVocab vocab;
  absl::StatusOr<std::string> model = file.GetString("tokenizer.ggml.model");
  if (!model.ok()) return model.status();
  vocab.model = *model;
  absl::StatusOr<std::vector<std::string>> tokens = file.GetStringArray("tokenizer.ggml.tokens");
  if (!tokens.ok()) return tokens.status();
  vocab.tokens = std::move(*tokens);
  const size_t n = vocab.tokens.size();
  if (file.FindValue("tokenizer.ggml.scores") != nullptr) {
    absl::StatusOr<std::vector<float>> scores = file.GetFloatArray("tokenizer.ggml.scores");
    if (!scores.ok()) return scores.status();
    if (scores->size() != n) {
      return absl::InvalidArgumentError("tokenizer.ggml.scores and tokens differ in length");
    }
    vocab.scores = std::move(*scores);
  }
  if (file.FindValue("tokenizer.ggml.token_type") != nullptr) {
    absl::StatusOr<std::vector<int64_t>> types = file.GetIntArray("tokenizer.ggml.token_type");
    if (!types.ok()) return types.status();
    if (types->size() != n) {
      return absl::InvalidArgumentError("tokenizer.ggml.token_type and tokens differ in length");
    }
    for (int64_t type : *types) vocab.token_types.push_back(static_cast<int32_t>(type));
  }
  if (file.FindValue("tokenizer.ggml.merges") != nullptr) {
    absl::StatusOr<std::vector<std::string>> merges = file.GetStringArray("tokenizer.ggml.merges");
    if (!merges.ok()) return merges.status();
    vocab.merges = std::move(*merges);
  }
  struct Special {
    const char* key;
    int64_t* target;
  };
  for (const Special& special : {Special{"tokenizer.ggml.bos_token_id", &vocab.bos_id},
                                 Special{"tokenizer.ggml.eos_token_id", &vocab.eos_id},
                                 Special{"tokenizer.ggml.unknown_token_id", &vocab.unk_id},
                                 Special{"tokenizer.ggml.padding_token_id", &vocab.pad_id}}) {
    absl::StatusOr<int64_t> id = file.GetInt(special.key);
    if (!id.ok()) continue;
    if (*id < 0 || static_cast<uint64_t>(*id) >= n) {
      return absl::InvalidArgumentError(absl::StrCat(special.key, " = ", *id, " is out of range"));
    }
    *special.target = *id;
  }
  return vocab;
}

absl::Status GgufWriter::SetAlignment(uint32_t alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("alignment ", alignment, " is not a power of two"));
  }
  alignment_ = alignment;
  if (alignment != kGgufDefaultAlignment) {
    Set("general.alignment", GgufValue::Uint(GgufType::kUint32, alignment));
  }
  return absl::OkStatus();
}

void GgufWriter::Set(const std::string& key, GgufValue value) {
  for (auto& [existing, old_value] : metadata_) {
    if (existing == key) {
      old_value = std::move(value);
      return;
    }
  }
  metadata_.emplace_back(key, std::move(value));
}

void GgufWriter::SetString(const std::string& key, std::string value) {
  Set(key, GgufValue::String(std::move(value)));
}
void GgufWriter::SetUint32(const std::string& key, uint32_t value) {
  Set(key, GgufValue::Uint(GgufType::kUint32, value));
}
void GgufWriter::SetFloat32(const std::string& key, float value) {
  Set(key, GgufValue::Float(GgufType::kFloat32, value));
}
void GgufWriter::SetBool(const std::string& key, bool value) { Set(key, GgufValue::Bool(value)); }
void GgufWriter::SetStringArray(const std::string& key, const std::vector<std::string>& values) {
  std::vector<GgufValue> elements;
  elements.reserve(values.size());
  for (const std::string& value : values) elements.push_back(GgufValue::String(value));
  Set(key, GgufValue::Array(GgufType::kString, std::move(elements)));
}
void GgufWriter::SetFloat32Array(const std::string& key, absl::Span<const float> values) {
  std::vector<GgufValue> elements;
  elements.reserve(values.size());
  for (float value : values) elements.push_back(GgufValue::Float(GgufType::kFloat32, value));
  Set(key, GgufValue::Array(GgufType::kFloat32, std::move(elements)));
}
void GgufWriter::SetInt32Array(const std::string& key, absl::Span<const int32_t> values) {
  std::vector<GgufValue> elements;
  elements.reserve(values.size());
  for (int32_t value : values) elements.push_back(GgufValue::Int(GgufType::kInt32, value));
  Set(key, GgufValue::Array(GgufType::kInt32, std::move(elements)));
}

absl::Status GgufWriter::AddTensor(TensorToWrite tensor) {
  for (const TensorToWrite& existing : tensors_) {
    if (existing.name == tensor.name) {
      return absl::InvalidArgumentError(absl::StrCat("duplicate tensor name ", tensor.name));
    }
  }
  absl::StatusOr<uint32_t> ggml_type = GgmlTypeFromDType(tensor.dtype);
  if (!ggml_type.ok()) return ggml_type.status();
  if (tensor.shape.size() > kMaxDims) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", tensor.name, " has more than 4 dimensions"));
  }
  absl::StatusOr<uint64_t> size = TensorByteSize(tensor.dtype, tensor.shape);
  if (!size.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", tensor.name, ": ", size.status().message()));
  }
  if (!tensor.fill && tensor.bytes.size() != *size) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", tensor.name, " has ",
                                                   tensor.bytes.size(), " bytes; needs ", *size));
  }
  sizes_.push_back(*size);
  tensors_.push_back(std::move(tensor));
  return absl::OkStatus();
}

absl::Status GgufWriter::Write(const std::string& path) const {
  std::string header;
  const uint32_t magic = kGgufMagic, version = 3;
  const uint64_t tensor_count = tensors_.size(), kv_count = metadata_.size();
  header.append(reinterpret_cast<const char*>(&magic), 4);
  header.append(reinterpret_cast<const char*>(&version), 4);
  header.append(reinterpret_cast<const char*>(&tensor_count), 8);
  header.append(reinterpret_cast<const char*>(&kv_count), 8);
  for (const auto& [key, value] : metadata_) {
    AppendString(key, &header);
    WriteValue(value, &header, /*with_type=*/true);
  }
  std::vector<uint64_t> offsets;
  uint64_t offset = 0;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const TensorToWrite& tensor = tensors_[i];
    AppendString(tensor.name, &header);
    const uint32_t n_dims = static_cast<uint32_t>(tensor.shape.size());
    header.append(reinterpret_cast<const char*>(&n_dims), 4);
    for (auto dim = tensor.shape.rbegin(); dim != tensor.shape.rend(); ++dim) {
      const uint64_t value = static_cast<uint64_t>(*dim);
      header.append(reinterpret_cast<const char*>(&value), 8);
    }
    const uint32_t ggml_type = *GgmlTypeFromDType(tensor.dtype);
    header.append(reinterpret_cast<const char*>(&ggml_type), 4);
    header.append(reinterpret_cast<const char*>(&offset), 8);
    offsets.push_back(offset);
    offset = AlignUp(offset + sizes_[i], alignment_);
  }
  absl::StatusOr<std::unique_ptr<OutputFile>> out = OutputFile::Create(path);
  if (!out.ok()) return out.status();
  absl::Status status = (*out)->Write(header);
  if (status.ok()) status = (*out)->WriteZeros(AlignUp(header.size(), alignment_) - header.size());
  const uint64_t data_start = (*out)->position();
  for (size_t i = 0; status.ok() && i < tensors_.size(); ++i) {
    status = (*out)->WriteZeros(data_start + offsets[i] - (*out)->position());
    if (status.ok()) status = (*out)->WriteTensor(tensors_[i], sizes_[i]);
  }
  if (!status.ok()) return status;
  return (*out)->Commit();
}

}  // namespace tessera::model

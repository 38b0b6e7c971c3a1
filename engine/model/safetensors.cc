#include "engine/model/safetensors.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <limits>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/model/output_file.h"
#include "nlohmann/json.hpp"

namespace tessera::model {
namespace {

using Json = nlohmann::json;

bool IsDirectory(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

bool FileExists(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0;
}

std::string DirName(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool WritableAsSafetensors(DType dtype) { return DTypeBlockElements(dtype) == 1; }

}  // namespace

absl::StatusOr<DType> ParseSafetensorsDType(absl::string_view name) {
  static const std::pair<absl::string_view, DType> kTypes[] = {
      {"F32", DType::kF32},   {"F16", DType::kF16}, {"BF16", DType::kBF16},
      {"F64", DType::kF64},   {"I8", DType::kI8},   {"U8", DType::kU8},
      {"I16", DType::kI16},   {"U16", DType::kU16}, {"I32", DType::kI32},
      {"U32", DType::kU32},   {"I64", DType::kI64}, {"U64", DType::kU64},
      {"BOOL", DType::kBool},
  };
  for (const auto& [type_name, dtype] : kTypes) {
    if (type_name == name) return dtype;
  }
  return absl::InvalidArgumentError(absl::StrCat("unsupported safetensors dtype \"", name, "\""));
}

absl::StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Open(const std::string& path) {
  absl::StatusOr<std::unique_ptr<MappedFile>> mapped = MappedFile::Open(path);
  if (!mapped.ok()) return mapped.status();
  std::unique_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->file_ = std::move(*mapped);
  absl::Status status = file->Parse();
  if (!status.ok()) {
    return absl::Status(status.code(), absl::StrCat(path, ": ", status.message()));
  }
  return file;
}

absl::Status SafetensorsFile::Parse() {
  const uint8_t* bytes = file_->data();
  const uint64_t size = file_->size();
  if (size < 8) return absl::DataLossError("file too short for a safetensors header length");
  uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | bytes[i];
  if (header_length > kMaxSafetensorsHeaderBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("header length ", header_length, " exceeds the limit of ",
                     kMaxSafetensorsHeaderBytes));
  }
  if (header_length > size - 8) {
    return absl::DataLossError(absl::StrCat("header length ", header_length,
                                            " runs past the end of the file (", size, " bytes)"));
  }
  const char* header_begin = reinterpret_cast<const char*>(bytes + 8);
  Json header = Json::parse(header_begin, header_begin + header_length, nullptr,
                            /*allow_exceptions=*/false);
  if (header.is_discarded()) return absl::InvalidArgumentError("header is not valid JSON");
  if (!header.is_object()) return absl::InvalidArgumentError("header is not a JSON object");

  const uint8_t* data = bytes + 8 + header_length;
  const uint64_t data_size = size - 8 - header_length;
  struct Range {
    uint64_t begin, end;
    size_t tensor;
  };
  std::vector<Range> ranges;
  try {
    for (const auto& [name, entry] : header.items()) {
      if (name == "__metadata__") {
        if (!entry.is_object()) return absl::InvalidArgumentError("__metadata__ is not an object");
        for (const auto& [key, value] : entry.items()) {
          if (!value.is_string()) {
            return absl::InvalidArgumentError(
                absl::StrCat("__metadata__ value of \"", key, "\" is not a string"));
          }
          metadata_[key] = value.get<std::string>();
        }
        continue;
      }
      if (!entry.is_object()) {
        return absl::InvalidArgumentError(absl::StrCat("entry \"", name, "\" is not an object"));
      }
      const auto dtype_it = entry.find("dtype");
      const auto shape_it = entry.find("shape");
      const auto offsets_it = entry.find("data_offsets");
      if (dtype_it == entry.end() || !dtype_it->is_string() || shape_it == entry.end() ||
          !shape_it->is_array() || offsets_it == entry.end() || !offsets_it->is_array() ||
          offsets_it->size() != 2) {
        return absl::InvalidArgumentError(absl::StrCat(
            "tensor \"", name, "\" needs a string dtype, a shape array and two data_offsets"));
      }
      absl::StatusOr<DType> dtype = ParseSafetensorsDType(dtype_it->get<std::string>());
      if (!dtype.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("tensor \"", name, "\": ", dtype.status().message()));
      }
      TensorView view;
      view.name = name;
      view.dtype = *dtype;
      for (const Json& dim : *shape_it) {
        if (!dim.is_number_unsigned()) {
          return absl::InvalidArgumentError(
              absl::StrCat("tensor \"", name, "\" has a shape entry that is not a non-negative integer"));
        }
        const uint64_t value = dim.get<uint64_t>();
        if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          return absl::InvalidArgumentError(absl::StrCat("tensor \"", name, "\" dimension too large"));
        }
        view.shape.push_back(static_cast<int64_t>(value));
      }
      const Json& begin_json = (*offsets_it)[0];
      const Json& end_json = (*offsets_it)[1];
      if (!begin_json.is_number_unsigned() || !end_json.is_number_unsigned()) {
        return absl::InvalidArgumentError(
            absl::StrCat("tensor \"", name, "\" has data_offsets that are not non-negative integers"));
      }
      const uint64_t begin = begin_json.get<uint64_t>();
      const uint64_t end = end_json.get<uint64_t>();
      if (begin > end) {
        return absl::InvalidArgumentError(
            absl::StrCat("tensor \"", name, "\" has data_offsets [", begin, ", ", end, "] reversed"));
      }
      if (end > data_size) {
        return absl::DataLossError(absl::StrCat("tensor \"", name, "\" ends at byte ", end,
                                                " of a data section of ", data_size, " bytes"));
      }
      absl::StatusOr<uint64_t> expected = TensorByteSize(view.dtype, view.shape);
      if (!expected.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("tensor \"", name, "\": ", expected.status().message()));
      }
      if (*expected != end - begin) {
        return absl::InvalidArgumentError(absl::StrCat("tensor \"", name, "\" has ", end - begin,
                                                       " bytes; its dtype and shape need ",
                                                       *expected));
      }
      view.data = data + begin;
      view.num_bytes = end - begin;
      ranges.push_back({begin, end, tensors_.size()});
      tensors_.push_back(std::move(view));
    }
  } catch (const std::exception& error) {
    return absl::InvalidArgumentError(absl::StrCat("malformed header: ", error.what()));
  }

  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  for (size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i].begin < ranges[i - 1].end) {
      return absl::InvalidArgumentError(
          absl::StrCat("tensors \"", tensors_[ranges[i - 1].tensor].name, "\" and \"",
                       tensors_[ranges[i].tensor].name, "\" overlap"));
    }
  }
  std::vector<TensorView> ordered;
  ordered.reserve(tensors_.size());
  for (const Range& range : ranges) ordered.push_back(std::move(tensors_[range.tensor]));
  tensors_ = std::move(ordered);
  for (size_t i = 0; i < tensors_.size(); ++i) index_[tensors_[i].name] = i;
  return absl::OkStatus();
}

const TensorView* SafetensorsFile::Find(absl::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

absl::StatusOr<std::unique_ptr<SafetensorsCheckpoint>> SafetensorsCheckpoint::Open(
    const std::string& path) {
  std::string target = path;
  if (IsDirectory(path)) {
    if (FileExists(path + "/model.safetensors")) {
      target = path + "/model.safetensors";
    } else if (FileExists(path + "/model.safetensors.index.json")) {
      target = path + "/model.safetensors.index.json";
    } else {
      return absl::NotFoundError(absl::StrCat(
          path, " has neither model.safetensors nor model.safetensors.index.json"));
    }
  }
  auto checkpoint = std::make_unique<SafetensorsCheckpoint>();
  std::vector<std::string> shard_paths;
  std::map<std::string, std::string> weight_map;
  if (absl::EndsWith(target, ".json")) {
    absl::StatusOr<std::unique_ptr<MappedFile>> index_file = MappedFile::Open(target);
    if (!index_file.ok()) return index_file.status();
    const char* begin = reinterpret_cast<const char*>((*index_file)->data());
    Json index = Json::parse(begin, begin + (*index_file)->size(), nullptr, false);
    if (index.is_discarded() || !index.is_object() || !index.contains("weight_map") ||
        !index["weight_map"].is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat(target, ": not a safetensors index (no weight_map object)"));
    }
    std::set<std::string> shards;
    for (const auto& [tensor, shard] : index["weight_map"].items()) {
      if (!shard.is_string()) {
        return absl::InvalidArgumentError(absl::StrCat(target, ": shard of ", tensor, " is not a string"));
      }
      const std::string shard_name = shard.get<std::string>();
      if (shard_name.empty() || shard_name.find('/') != std::string::npos ||
          shard_name.find("..") != std::string::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat(target, ": shard name \"", shard_name, "\" is not a plain file name"));
      }
      weight_map[tensor] = shard_name;
      shards.insert(shard_name);
    }
    for (const std::string& shard : shards) shard_paths.push_back(DirName(target) + "/" + shard);
  } else {
    shard_paths.push_back(target);
  }
  for (const std::string& shard_path : shard_paths) {
    absl::StatusOr<std::unique_ptr<SafetensorsFile>> file = SafetensorsFile::Open(shard_path);
    if (!file.ok()) return file.status();
    for (const TensorView& tensor : (*file)->tensors()) {
      if (!checkpoint->index_.emplace(tensor.name, &tensor).second) {
        return absl::InvalidArgumentError(
            absl::StrCat("tensor \"", tensor.name, "\" appears in more than one shard"));
      }
    }
    checkpoint->files_.push_back(std::move(*file));
  }
  for (const auto& [tensor, shard] : weight_map) {
    if (!checkpoint->index_.contains(tensor)) {
      return absl::DataLossError(
          absl::StrCat("index lists tensor \"", tensor, "\" but shard ", shard, " lacks it"));
    }
  }
  return checkpoint;
}

const TensorView* SafetensorsCheckpoint::Find(absl::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : it->second;
}

std::vector<const TensorView*> SafetensorsCheckpoint::tensors() const {
  std::vector<const TensorView*> all;
  for (const auto& file : files_) {
    for (const TensorView& tensor : file->tensors()) all.push_back(&tensor);
  }
  return all;
}

absl::Status WriteSafetensors(const std::string& path, absl::Span<const TensorToWrite> tensors,
                              const std::map<std::string, std::string>& metadata) {
  Json header = Json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<uint64_t> sizes;
  uint64_t offset = 0;
  std::set<std::string> names;
  for (const TensorToWrite& tensor : tensors) {
    if (tensor.name.empty() || tensor.name == "__metadata__" || !names.insert(tensor.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("tensor name \"", tensor.name, "\" is empty, reserved or repeated"));
    }
    if (!WritableAsSafetensors(tensor.dtype)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "safetensors cannot hold ", DTypeName(tensor.dtype), " (tensor ", tensor.name, ")"));
    }
    absl::StatusOr<uint64_t> size = TensorByteSize(tensor.dtype, tensor.shape);
    if (!size.ok()) return size.status();
    header[tensor.name] = {{"dtype", std::string(DTypeName(tensor.dtype))},
                           {"shape", tensor.shape},
                           {"data_offsets", {offset, offset + *size}}};
    sizes.push_back(*size);
    offset += *size;
  }
  std::string header_text = header.dump();
  header_text.append((8 - header_text.size() % 8) % 8, ' ');
  absl::StatusOr<std::unique_ptr<OutputFile>> out = OutputFile::Create(path);
  if (!out.ok()) return out.status();
  uint8_t length_bytes[8];
  uint64_t length = header_text.size();
  for (int i = 0; i < 8; ++i) length_bytes[i] = static_cast<uint8_t>(length >> (8 * i));
  absl::Status status = (*out)->Write(length_bytes, 8);
  if (status.ok()) status = (*out)->Write(header_text);
  for (size_t i = 0; status.ok() && i < tensors.size(); ++i) {
    status = (*out)->WriteTensor(tensors[i], sizes[i]);
  }
  if (!status.ok()) return status;
  return (*out)->Commit();
}

}  // namespace tessera::model

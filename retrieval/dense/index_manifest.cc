#include "retrieval/dense/index_manifest.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <system_error>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace tessera::dense {
namespace {

constexpr char kFormatName[] = "tessera-dense-index";
constexpr int kFormatVersion = 1;

struct FileDigest {
  uint64_t size = 0;
  std::string sha256_hex;
};

// Streams the file through SHA-256 so that large indexes are never held in
// memory twice.
absl::StatusOr<FileDigest> DigestFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) {
    return absl::NotFoundError(absl::StrCat("cannot open ", path));
  }
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(
      EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (context == nullptr ||
      EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1) {
    return absl::InternalError("cannot initialise SHA-256");
  }
  FileDigest digest;
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), buffer.size());
    const std::streamsize got = in.gcount();
    if (got <= 0) break;
    digest.size += static_cast<uint64_t>(got);
    if (EVP_DigestUpdate(context.get(), buffer.data(), got) != 1) {
      return absl::InternalError("SHA-256 update failed");
    }
  }
  if (in.bad()) return absl::DataLossError(absl::StrCat("error reading ", path));
  unsigned char raw[EVP_MAX_MD_SIZE];
  unsigned int raw_size = 0;
  if (EVP_DigestFinal_ex(context.get(), raw, &raw_size) != 1) {
    return absl::InternalError("SHA-256 finalisation failed");
  }
  digest.sha256_hex = absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(raw), raw_size));
  return digest;
}

// Data files are plain names inside the index directory; anything else in a
// manifest would let it point outside the directory.
bool IsPlainFileName(absl::string_view name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find('/') == absl::string_view::npos &&
         name.find('\0') == absl::string_view::npos;
}

// nlohmann parses non-negative numbers as unsigned; accept both signednesses.
std::optional<int64_t> AsInteger(const nlohmann::json& value) {
  if (value.is_number_unsigned()) {
    const uint64_t unsigned_value = value.get<uint64_t>();
    if (unsigned_value > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<int64_t>(unsigned_value);
  }
  if (value.is_number_integer()) return value.get<int64_t>();
  return std::nullopt;
}

std::optional<int64_t> IntegerField(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end()) return std::nullopt;
  return AsInteger(*it);
}

const std::string* StringField(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get_ptr<const std::string*>()
                                               : nullptr;
}

std::string JoinPath(const std::string& dir, absl::string_view name) {
  return (std::filesystem::path(dir) / std::string(name)).string();
}

}  // namespace

absl::Status EnsureDirectory(const std::string& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("cannot create directory ", dir, ": ", error.message()));
  }
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view contents) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out.is_open()) {
      return absl::InternalError(absl::StrCat("cannot write ", temporary));
    }
    out.write(contents.data(), contents.size());
    out.flush();
    if (!out) {
      return absl::InternalError(absl::StrCat("error writing ", temporary));
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot rename ", temporary, " to ",
                                            path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFileToString(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::string contents((std::istreambuf_iterator<char>(in)),
                       std::istreambuf_iterator<char>());
  if (in.bad()) return absl::DataLossError(absl::StrCat("error reading ", path));
  return contents;
}

absl::Status WriteManifest(const std::string& dir, const IndexManifest& manifest) {
  nlohmann::json json;
  json["format"] = kFormatName;
  json["version"] = kFormatVersion;
  json["backend"] = manifest.backend;
  json["dimension"] = manifest.dimension;
  json["metric"] = std::string(MetricName(manifest.metric));
  json["values"] = nlohmann::json::object();
  for (const auto& [key, value] : manifest.values) json["values"][key] = value;
  json["files"] = nlohmann::json::array();
  for (const std::string& name : manifest.files) {
    if (!IsPlainFileName(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad data file name '", name, "'"));
    }
    absl::StatusOr<FileDigest> digest = DigestFile(JoinPath(dir, name));
    if (!digest.ok()) return digest.status();
    json["files"].push_back({{"name", name},
                             {"size", digest->size},
                             {"sha256", digest->sha256_hex}});
  }
  return WriteFileAtomically(JoinPath(dir, kManifestFileName), json.dump(2));
}

absl::StatusOr<IndexManifest> ReadManifest(const std::string& dir) {
  const std::string path = JoinPath(dir, kManifestFileName);
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (!text.ok()) return text.status();
  const nlohmann::json json =
      nlohmann::json::parse(*text, /*cb=*/nullptr, /*allow_exceptions=*/false);
  auto corrupt = [&path](absl::string_view why) {
    return absl::DataLossError(absl::StrCat("corrupt index manifest ", path, ": ", why));
  };
  if (json.is_discarded() || !json.is_object()) return corrupt("not a JSON object");
  const std::string* format = StringField(json, "format");
  const std::optional<int64_t> version = IntegerField(json, "version");
  if (format == nullptr || *format != kFormatName) return corrupt("wrong format name");
  if (version != kFormatVersion) return corrupt("unsupported format version");
  IndexManifest manifest;
  const std::string* backend = StringField(json, "backend");
  const std::string* metric = StringField(json, "metric");
  const std::optional<int64_t> dimension = IntegerField(json, "dimension");
  if (backend == nullptr || metric == nullptr || !dimension.has_value() ||
      *dimension <= 0 || *dimension > 65536) {
    return corrupt("missing or invalid backend, metric or dimension");
  }
  manifest.backend = *backend;
  manifest.dimension = static_cast<int>(*dimension);
  absl::StatusOr<Metric> parsed_metric = ParseMetric(*metric);
  if (!parsed_metric.ok()) return corrupt(parsed_metric.status().message());
  manifest.metric = *parsed_metric;

  auto values = json.find("values");
  if (values == json.end() || !values->is_object()) return corrupt("missing values");
  for (const auto& item : values->items()) {
    const std::optional<int64_t> value = AsInteger(item.value());
    if (!value.has_value()) return corrupt("non-integer value");
    manifest.values[item.key()] = *value;
  }

  auto files = json.find("files");
  if (files == json.end() || !files->is_array()) return corrupt("missing files");
  for (const nlohmann::json& entry : *files) {
    if (!entry.is_object()) return corrupt("bad file entry");
    auto name = entry.find("name");
    auto size = entry.find("size");
    auto sha = entry.find("sha256");
    if (name == entry.end() || !name->is_string() || size == entry.end() ||
        !size->is_number_unsigned() || sha == entry.end() || !sha->is_string()) {
      return corrupt("bad file entry");
    }
    const std::string file_name = name->get<std::string>();
    if (!IsPlainFileName(file_name)) return corrupt("bad data file name");
    absl::StatusOr<FileDigest> digest = DigestFile(JoinPath(dir, file_name));
    if (!digest.ok()) {
      return absl::DataLossError(absl::StrCat("index file ", file_name,
                                              " is missing: ", digest.status().message()));
    }
    if (digest->size != size->get<uint64_t>()) {
      return absl::DataLossError(absl::StrCat(
          "index file ", file_name, " has ", digest->size, " bytes, manifest says ",
          size->get<uint64_t>(), " (truncated or overwritten)"));
    }
    if (digest->sha256_hex != sha->get<std::string>()) {
      return absl::DataLossError(
          absl::StrCat("index file ", file_name, " fails its SHA-256 check (corrupt)"));
    }
    manifest.files.push_back(file_name);
  }
  return manifest;
}

absl::Status CheckManifestMatches(const IndexManifest& manifest,
                                  absl::string_view backend, int dimension,
                                  Metric metric) {
  if (manifest.backend != backend || manifest.dimension != dimension ||
      manifest.metric != metric) {
    return absl::FailedPreconditionError(absl::StrCat(
        "saved index is ", manifest.backend, "/", manifest.dimension, "-d/",
        MetricName(manifest.metric), " but this index is ", backend, "/",
        dimension, "-d/", MetricName(metric)));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> GetManifestValue(const IndexManifest& manifest,
                                         const std::string& key, int64_t min,
                                         int64_t max) {
  auto it = manifest.values.find(key);
  if (it == manifest.values.end()) {
    return absl::DataLossError(absl::StrCat("index manifest lacks '", key, "'"));
  }
  if (it->second < min || it->second > max) {
    return absl::DataLossError(absl::StrCat("index manifest value '", key, "' = ",
                                            it->second, " is outside [", min, ", ",
                                            max, "]"));
  }
  return it->second;
}

}  // namespace tessera::dense

#include "engine/tokenizer/load_tokenizer.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/tokenizer/llama2c_vocab.h"
#include "engine/tokenizer/sentencepiece_model.h"
#include "engine/tokenizer/tokenizer_json.h"
#include "engine/tokenizer/wordpiece.h"

namespace tessera::tokenizer {
namespace {

constexpr size_t kMaxTokenizerFileBytes = size_t{1} << 30;

bool IsDirectory(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

bool FileExists(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

std::string Directory(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

// BERT's do_lower_case lives in tokenizer_config.json next to vocab.txt.
WordPieceOptions WordPieceOptionsBeside(const std::string& vocab_path) {
  WordPieceOptions options;
  const std::string config_path = Directory(vocab_path) + "/tokenizer_config.json";
  if (!FileExists(config_path)) return options;
  absl::StatusOr<std::string> text = ReadFileToString(config_path, 16 << 20);
  if (!text.ok()) return options;
  try {
    const nlohmann::json config = nlohmann::json::parse(*text, nullptr, false);
    if (config.is_object()) {
      auto lower = config.find("do_lower_case");
      if (lower != config.end() && lower->is_boolean()) options.do_lower_case = lower->get<bool>();
      auto strip = config.find("strip_accents");
      if (strip != config.end() && strip->is_boolean()) options.strip_accents = strip->get<bool>();
      auto chinese = config.find("tokenize_chinese_chars");
      if (chinese != config.end() && chinese->is_boolean()) {
        options.tokenize_chinese_chars = chinese->get<bool>();
      }
    }
  } catch (const std::exception&) {
    // A broken side file leaves BERT-uncased defaults.
  }
  return options;
}

template <typename T>
absl::StatusOr<std::unique_ptr<Tokenizer>> Upcast(absl::StatusOr<std::unique_ptr<T>> tokenizer) {
  if (!tokenizer.ok()) return tokenizer.status();
  return std::unique_ptr<Tokenizer>(std::move(*tokenizer));
}

}  // namespace

absl::StatusOr<std::string> ReadFileToString(const std::string& path, size_t max_bytes) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    const int error = errno;
    const std::string message = absl::StrCat("cannot open ", path, ": ", std::strerror(error));
    return error == ENOENT ? absl::NotFoundError(message) : absl::PermissionDeniedError(message);
  }
  std::string contents;
  char buffer[1 << 16];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file)) > 0) {
    if (contents.size() + n > max_bytes) {
      std::fclose(file);
      return absl::InvalidArgumentError(
          absl::StrCat(path, " is larger than ", max_bytes, " bytes"));
    }
    contents.append(buffer, n);
  }
  const bool failed = std::ferror(file) != 0;
  std::fclose(file);
  if (failed) return absl::DataLossError(absl::StrCat("error reading ", path));
  return contents;
}

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizer(const std::string& path) {
  if (IsDirectory(path)) {
    for (const char* name : {"tokenizer.json", "tokenizer.model", "vocab.txt"}) {
      const std::string candidate = absl::StrCat(path, "/", name);
      if (FileExists(candidate)) return LoadTokenizer(candidate);
    }
    return absl::NotFoundError(absl::StrCat(
        path, " has no tokenizer.json, tokenizer.model or vocab.txt"));
  }
  absl::StatusOr<std::string> bytes = ReadFileToString(path, kMaxTokenizerFileBytes);
  if (!bytes.ok()) return bytes.status();
  const auto with_path = [&path](absl::Status status) {
    return absl::Status(status.code(), absl::StrCat(path, ": ", status.message()));
  };
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer;
  if (absl::StartsWith(*bytes, "GGUF") || absl::EndsWith(path, ".gguf")) {
    return absl::UnimplementedError(absl::StrCat(
        path, ": GGUF tokenizers are built by the GGUF model loader, not LoadTokenizer"));
  } else if (absl::EndsWith(path, ".json") || absl::StartsWith(*bytes, "{")) {
    tokenizer = LoadTokenizerJson(*bytes);
  } else if (absl::EndsWith(path, ".txt")) {
    tokenizer = Upcast(WordPieceTokenizer::FromVocabText(*bytes, WordPieceOptionsBeside(path)));
  } else if (absl::EndsWith(path, ".bin")) {
    tokenizer = Upcast(LoadLlama2cTokenizer(*bytes));
  } else if (absl::EndsWith(path, ".model") || (!bytes->empty() && (*bytes)[0] == 0x0A)) {
    // 0x0A is the tag of ModelProto field 1 (pieces), how every model file starts.
    tokenizer = Upcast(LoadSentencePieceModel(*bytes));
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": unrecognised tokenizer file (expected tokenizer.json, vocab.txt, "
              "tokenizer.model or tokenizer.bin)"));
  }
  if (!tokenizer.ok()) return with_path(tokenizer.status());
  return tokenizer;
}

absl::StatusOr<std::string> TokenizeToString(const std::string& path, absl::string_view text) {
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer = LoadTokenizer(path);
  if (!tokenizer.ok()) return tokenizer.status();
  absl::StatusOr<std::vector<int32_t>> ids = (*tokenizer)->Encode(text, false);
  if (!ids.ok()) return ids.status();
  return absl::StrJoin(*ids, " ");
}

}  // namespace tessera::tokenizer

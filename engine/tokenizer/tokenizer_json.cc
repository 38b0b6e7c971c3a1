#include "engine/tokenizer/tokenizer_json.h"

#include <exception>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/tokenizer/byte_level_bpe.h"
#include "engine/tokenizer/sentencepiece_bpe.h"
#include "engine/tokenizer/wordpiece.h"

namespace tessera::tokenizer {
namespace {

using nlohmann::json;

// Ids beyond this are treated as corrupt rather than allocated.
constexpr int64_t kMaxVocabularySize = 16 * 1024 * 1024;

absl::Status Invalid(absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("tokenizer.json: ", message));
}

const json* Member(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string StringOr(const json& object, const char* key, std::string fallback) {
  const json* value = Member(object, key);
  return value != nullptr && value->is_string() ? value->get<std::string>() : fallback;
}

bool BoolOr(const json& object, const char* key, bool fallback) {
  const json* value = Member(object, key);
  return value != nullptr && value->is_boolean() ? value->get<bool>() : fallback;
}

// model.vocab ({"piece": id}) as an id-indexed vector; unused ids stay empty.
absl::StatusOr<std::vector<std::string>> ReadVocab(const json& model) {
  const json* vocab = Member(model, "vocab");
  if (vocab == nullptr || !vocab->is_object()) return Invalid("model.vocab is not an object");
  std::vector<std::string> pieces;
  std::vector<bool> taken;
  for (auto it = vocab->begin(); it != vocab->end(); ++it) {
    if (!it.value().is_number_integer()) return Invalid(absl::StrCat("id of '", it.key(), "' is not an integer"));
    const int64_t id = it.value().get<int64_t>();
    if (id < 0 || id >= kMaxVocabularySize) return Invalid(absl::StrCat("id ", id, " out of range"));
    if (static_cast<size_t>(id) >= pieces.size()) {
      pieces.resize(id + 1);
      taken.resize(id + 1, false);
    }
    if (taken[id]) return Invalid(absl::StrCat("id ", id, " used twice"));
    taken[id] = true;
    pieces[id] = it.key();
  }
  if (pieces.empty()) return Invalid("model.vocab is empty");
  return pieces;
}

struct ParsedAddedToken {
  std::string content;
  int64_t id;
  bool special;
};

absl::StatusOr<std::vector<ParsedAddedToken>> ReadAddedTokens(const json& root) {
  std::vector<ParsedAddedToken> tokens;
  const json* added = Member(root, "added_tokens");
  if (added == nullptr) return tokens;
  if (!added->is_array()) return Invalid("added_tokens is not an array");
  for (const json& token : *added) {
    const json* id = Member(token, "id");
    const json* content = Member(token, "content");
    if (id == nullptr || !id->is_number_integer() || content == nullptr || !content->is_string()) {
      return Invalid("added token without integer id and string content");
    }
    const int64_t value = id->get<int64_t>();
    if (value < 0 || value >= kMaxVocabularySize) return Invalid("added token id out of range");
    tokens.push_back({content->get<std::string>(), value, BoolOr(token, "special", false)});
  }
  return tokens;
}

// Finds a sub-object of `type` in a component that may be a "Sequence".
const json* FindComponent(const json* component, absl::string_view type, const char* list_key) {
  if (component == nullptr || !component->is_object()) return nullptr;
  const std::string own_type = StringOr(*component, "type", "");
  if (own_type == type) return component;
  if (own_type == "Sequence") {
    const json* items = Member(*component, list_key);
    if (items == nullptr || !items->is_array()) return nullptr;
    for (const json& item : *items) {
      if (const json* found = FindComponent(&item, type, list_key)) return found;
    }
  }
  return nullptr;
}

// The special-token ids TemplateProcessing puts before and after a single sequence.
absl::Status ReadTemplate(const json& root, std::vector<int32_t>* prefix,
                          std::vector<int32_t>* suffix) {
  const json* processor =
      FindComponent(Member(root, "post_processor"), "TemplateProcessing", "processors");
  if (processor == nullptr) return absl::OkStatus();
  const json* single = Member(*processor, "single");
  const json* specials = Member(*processor, "special_tokens");
  if (single == nullptr || !single->is_array()) return absl::OkStatus();
  bool after_sequence = false;
  for (const json& item : *single) {
    if (Member(item, "Sequence") != nullptr) {
      after_sequence = true;
      continue;
    }
    const json* special = Member(item, "SpecialToken");
    if (special == nullptr) continue;
    const std::string name = StringOr(*special, "id", "");
    const json* entry = specials != nullptr ? Member(*specials, name.c_str()) : nullptr;
    const json* ids = entry != nullptr ? Member(*entry, "ids") : nullptr;
    if (ids == nullptr || !ids->is_array()) {
      return Invalid(absl::StrCat("post_processor special token '", name, "' has no ids"));
    }
    for (const json& id : *ids) {
      if (!id.is_number_integer()) return Invalid("post_processor id is not an integer");
      (after_sequence ? suffix : prefix)->push_back(static_cast<int32_t>(id.get<int64_t>()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ReadMerges(const json& model) {
  std::vector<std::pair<std::string, std::string>> merges;
  const json* list = Member(model, "merges");
  if (list == nullptr) return merges;
  if (!list->is_array()) return Invalid("model.merges is not an array");
  merges.reserve(list->size());
  for (const json& merge : *list) {
    if (merge.is_string()) {  // "left right"
      const std::string text = merge.get<std::string>();
      const size_t space = text.find(' ', 1);
      if (space == std::string::npos) return Invalid(absl::StrCat("bad merge '", text, "'"));
      merges.emplace_back(text.substr(0, space), text.substr(space + 1));
    } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() &&
               merge[1].is_string()) {  // ["left", "right"] (newer files)
      merges.emplace_back(merge[0].get<std::string>(), merge[1].get<std::string>());
    } else {
      return Invalid("merge is neither \"a b\" nor [a, b]");
    }
  }
  return merges;
}

int32_t IdOf(const std::vector<std::string>& vocab, absl::string_view piece) {
  for (size_t i = 0; i < vocab.size(); ++i) {
    if (vocab[i] == piece) return static_cast<int32_t>(i);
  }
  return -1;
}

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadWordPiece(const json& root, const json& model) {
  absl::StatusOr<std::vector<std::string>> vocab = ReadVocab(model);
  if (!vocab.ok()) return vocab.status();
  WordPieceOptions options;
  options.unk_token = StringOr(model, "unk_token", options.unk_token);
  options.continuing_subword_prefix =
      StringOr(model, "continuing_subword_prefix", options.continuing_subword_prefix);
  if (const json* max_chars = Member(model, "max_input_chars_per_word");
      max_chars != nullptr && max_chars->is_number_integer()) {
    options.max_input_chars_per_word = static_cast<int>(max_chars->get<int64_t>());
  }
  const json* normalizer = FindComponent(Member(root, "normalizer"), "BertNormalizer", "normalizers");
  if (normalizer != nullptr) {
    options.do_lower_case = BoolOr(*normalizer, "lowercase", true);
    options.clean_text = BoolOr(*normalizer, "clean_text", true);
    options.tokenize_chinese_chars = BoolOr(*normalizer, "handle_chinese_chars", true);
    if (const json* strip = Member(*normalizer, "strip_accents"); strip != nullptr && strip->is_boolean()) {
      options.strip_accents = strip->get<bool>();
    }
  } else {
    options.do_lower_case = false;
  }
  absl::StatusOr<std::vector<ParsedAddedToken>> added = ReadAddedTokens(root);
  if (!added.ok()) return added.status();
  options.added_tokens.emplace();
  for (const ParsedAddedToken& token : *added) options.added_tokens->push_back(token.content);
  absl::StatusOr<std::unique_ptr<WordPieceTokenizer>> tokenizer =
      WordPieceTokenizer::Create(std::move(*vocab), options);
  if (!tokenizer.ok()) return tokenizer.status();
  return std::unique_ptr<Tokenizer>(std::move(*tokenizer));
}

// Names commonly used for BOS/EOS/PAD in byte-level and Llama-style vocabularies.
void GuessSpecialIds(const std::vector<std::string>& vocab, SpecialTokenIds* special) {
  for (const char* name : {"<s>", "<|begin_of_text|>", "<|endoftext|>"}) {
    if (special->bos < 0) special->bos = IdOf(vocab, name);
  }
  for (const char* name : {"</s>", "<|end_of_text|>", "<|endoftext|>", "<|im_end|>"}) {
    if (special->eos < 0) special->eos = IdOf(vocab, name);
  }
  for (const char* name : {"<pad>", "<|pad|>"}) {
    if (special->pad < 0) special->pad = IdOf(vocab, name);
  }
}

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadBpe(const json& root, const json& model) {
  absl::StatusOr<std::vector<std::string>> vocab = ReadVocab(model);
  if (!vocab.ok()) return vocab.status();
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> merges = ReadMerges(model);
  if (!merges.ok()) return merges.status();
  absl::StatusOr<std::vector<ParsedAddedToken>> added = ReadAddedTokens(root);
  if (!added.ok()) return added.status();
  for (const ParsedAddedToken& token : *added) {
    if (static_cast<size_t>(token.id) >= vocab->size()) vocab->resize(token.id + 1);
    if ((*vocab)[token.id].empty()) (*vocab)[token.id] = token.content;
  }
  std::vector<int32_t> prefix;
  std::vector<int32_t> suffix;
  if (absl::Status s = ReadTemplate(root, &prefix, &suffix); !s.ok()) return s;
  const std::string unk_token = StringOr(model, "unk_token", "");

  const json* byte_level = FindComponent(Member(root, "pre_tokenizer"), "ByteLevel", "pretokenizers");
  if (byte_level != nullptr) {
    ByteLevelBpeConfig config;
    config.add_prefix_space = BoolOr(*byte_level, "add_prefix_space", false);
    for (const ParsedAddedToken& token : *added) {
      config.added_tokens.push_back({token.content, static_cast<int32_t>(token.id), token.special});
    }
    config.prefix_ids = std::move(prefix);
    config.suffix_ids = std::move(suffix);
    if (!unk_token.empty()) config.special.unk = IdOf(*vocab, unk_token);
    GuessSpecialIds(*vocab, &config.special);
    config.vocab = std::move(*vocab);
    config.merges = std::move(*merges);
    absl::StatusOr<std::unique_ptr<ByteLevelBpeTokenizer>> tokenizer =
        ByteLevelBpeTokenizer::Create(std::move(config));
    if (!tokenizer.ok()) return tokenizer.status();
    return std::unique_ptr<Tokenizer>(std::move(*tokenizer));
  }

  // Llama-style BPE: the SentencePiece algorithm, a merge's rank as its score.
  SentencePieceVocab sp;
  const size_t size = vocab->size();
  sp.scores.assign(size, 0.0f);
  sp.types.assign(size, PieceType::kNormal);
  absl::flat_hash_map<std::string, int32_t> ids;
  for (size_t i = 0; i < size; ++i) {
    if ((*vocab)[i].empty()) {
      (*vocab)[i] = absl::StrCat("<unused_", i, ">");
      sp.types[i] = PieceType::kUnused;
    }
    ids.emplace((*vocab)[i], static_cast<int32_t>(i));
    const std::string& piece = (*vocab)[i];
    if (piece.size() == 6 && piece.rfind("<0x", 0) == 0 && piece[5] == '>') {
      sp.types[i] = PieceType::kByte;
    }
  }
  std::vector<bool> scored(size, false);
  for (size_t rank = 0; rank < merges->size(); ++rank) {
    auto it = ids.find(absl::StrCat((*merges)[rank].first, (*merges)[rank].second));
    if (it == ids.end() || scored[it->second]) continue;
    scored[it->second] = true;
    sp.scores[it->second] = -static_cast<float>(rank);
  }
  for (const ParsedAddedToken& token : *added) {
    if (token.special) sp.types[token.id] = PieceType::kControl;
  }
  SentencePieceOptions options;
  if (!unk_token.empty()) {
    const int32_t unk = IdOf(*vocab, unk_token);
    if (unk >= 0) {
      sp.types[unk] = PieceType::kUnknown;
      options.unk_id = unk;
    }
  }
  options.byte_fallback = BoolOr(model, "byte_fallback", false);
  const json* metaspace = FindComponent(Member(root, "pre_tokenizer"), "Metaspace", "pretokenizers");
  const json* prepend = FindComponent(Member(root, "normalizer"), "Prepend", "normalizers");
  const json* replace = FindComponent(Member(root, "normalizer"), "Replace", "normalizers");
  options.escape_whitespaces = metaspace != nullptr || replace != nullptr;
  options.add_dummy_prefix =
      prepend != nullptr ||
      (metaspace != nullptr && (BoolOr(*metaspace, "add_prefix_space", false) ||
                                StringOr(*metaspace, "prepend_scheme", "never") != "never"));
  options.remove_extra_whitespaces = false;
  options.bos_id = prefix.empty() ? -1 : prefix.front();
  sp.pieces = std::move(*vocab);
  absl::StatusOr<std::unique_ptr<SentencePieceBpeTokenizer>> tokenizer =
      SentencePieceBpeTokenizer::Create(std::move(sp), options);
  if (!tokenizer.ok()) return tokenizer.status();
  return std::unique_ptr<Tokenizer>(std::move(*tokenizer));
}

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadFromJson(const json& root) {
  const json* model = Member(root, "model");
  if (model == nullptr || !model->is_object()) return Invalid("no \"model\" object");
  const std::string type = StringOr(*model, "type", "");
  if (type == "WordPiece") return LoadWordPiece(root, *model);
  if (type == "BPE" || (type.empty() && Member(*model, "merges") != nullptr)) {
    return LoadBpe(root, *model);
  }
  return absl::UnimplementedError(
      absl::StrCat("tokenizer.json: model type '", type, "' is not supported (WordPiece, BPE)"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizerJson(absl::string_view json_text) {
  // nlohmann::json throws on type errors; none may cross this boundary.
  try {
    const json root = json::parse(json_text.begin(), json_text.end(), nullptr,
                                  /*allow_exceptions=*/false);
    if (root.is_discarded()) return Invalid("not valid JSON");
    return LoadFromJson(root);
  } catch (const std::exception& e) {
    return Invalid(e.what());
  }
}

}  // namespace tessera::tokenizer

// Fuzzed text through the three tokenizer kinds (WordPiece, SentencePiece BPE
// with byte fallback, byte-level BPE), each over a small fixed vocabulary, and
// fuzzed id sequences through Decode.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "engine/tokenizer/byte_level_bpe.h"
#include "engine/tokenizer/sentencepiece_bpe.h"
#include "engine/tokenizer/unicode_text.h"
#include "engine/tokenizer/wordpiece.h"
#include "fuzz/fuzz_util.h"
#include "fuzz/tokenizer_checks.h"

namespace {

using namespace tessera::tokenizer;  // NOLINT: many types of one namespace.

std::unique_ptr<Tokenizer> MakeWordPiece() {
  std::vector<std::string> vocab = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "##s",
                                    "a",     "##ing", "test", "hello", "world", ",", ".", "中",
                                    "##e",   "cafe",  "##t",  "t",     "##h"};
  auto created = WordPieceTokenizer::Create(std::move(vocab), WordPieceOptions());
  if (!created.ok()) tessera::fuzz::Fail(created.status().ToString());
  return std::move(*created);
}

std::unique_ptr<Tokenizer> MakeSentencePiece() {
  SentencePieceVocab vocab;
  auto add = [&vocab](std::string piece, float score, PieceType type) {
    vocab.pieces.push_back(std::move(piece));
    vocab.scores.push_back(score);
    vocab.types.push_back(type);
  };
  add("<unk>", 0, PieceType::kUnknown);
  add("<s>", 0, PieceType::kControl);
  add("</s>", 0, PieceType::kControl);
  for (int byte = 0; byte < 256; ++byte) {
    add(absl::StrFormat("<0x%02X>", byte), 0, PieceType::kByte);
  }
  const char* const pieces[] = {"▁", "t", "h", "e", "▁t", "he", "▁the", "s", "▁a", "a", "中", "文"};
  float score = -1;
  for (const char* piece : pieces) add(piece, score--, PieceType::kNormal);
  auto created = SentencePieceBpeTokenizer::Create(std::move(vocab), SentencePieceOptions());
  if (!created.ok()) tessera::fuzz::Fail(created.status().ToString());
  return std::move(*created);
}

std::unique_ptr<Tokenizer> MakeByteLevel() {
  ByteLevelBpeConfig config;
  for (int byte = 0; byte < 256; ++byte) {
    std::string piece;
    AppendUtf8(ByteToUnicode(static_cast<uint8_t>(byte)), &piece);
    config.vocab.push_back(piece);
  }
  const std::pair<std::string, std::string> merges[] = {
      {"Ġ", "t"}, {"h", "e"}, {"Ġt", "he"}, {"i", "n"}, {"in", "g"}};
  for (const auto& [left, right] : merges) {
    config.merges.emplace_back(left, right);
    config.vocab.push_back(left + right);
  }
  config.added_tokens.push_back({"<|endoftext|>", static_cast<int32_t>(config.vocab.size()), true});
  config.vocab.push_back("<|endoftext|>");
  config.special.eos = config.added_tokens.back().id;
  config.suffix_ids = {config.special.eos};
  auto created = ByteLevelBpeTokenizer::Create(std::move(config));
  if (!created.ok()) tessera::fuzz::Fail(created.status().ToString());
  return std::move(*created);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<std::unique_ptr<Tokenizer>>* const tokenizers = [] {
    auto* made = new std::vector<std::unique_ptr<Tokenizer>>();
    made->push_back(MakeWordPiece());
    made->push_back(MakeSentencePiece());
    made->push_back(MakeByteLevel());
    return made;
  }();
  const absl::string_view text = tessera::fuzz::AsStringView(data, size);
  std::vector<int32_t> ids(size / sizeof(int32_t));
  if (!ids.empty()) std::memcpy(ids.data(), data, ids.size() * sizeof(int32_t));
  for (const auto& tokenizer : *tokenizers) {
    // The vocabularies are fixed: probing them once per input would only slow this down.
    tessera::fuzz::ExerciseTokenizer(*tokenizer, text, /*probe_vocabulary=*/false);
    bool in_range = true;
    for (int32_t id : ids) in_range = in_range && id >= 0 && id < tokenizer->vocab_size();
    TESSERA_FUZZ_CHECK(tokenizer->Decode(ids).ok() == in_range);
  }
  return 0;
}

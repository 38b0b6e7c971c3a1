#include "fuzz/tokenizer_checks.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/utf8.h"
#include "fuzz/fuzz_util.h"

namespace tessera::fuzz {
namespace {

// Probing every id of a large vocabulary would dominate the time per input.
constexpr int32_t kMaxIdsProbed = 512;

void CheckIds(const tokenizer::Tokenizer& tokenizer, const std::vector<int32_t>& ids) {
  for (int32_t id : ids) TESSERA_FUZZ_CHECK(id >= 0 && id < tokenizer.vocab_size());
}

}  // namespace

void ExerciseTokenizer(const tokenizer::Tokenizer& tokenizer, absl::string_view text,
                       bool probe_vocabulary) {
  const bool valid_utf8 = ValidateUtf8(text, "text").ok();
  for (bool add_special : {false, true}) {
    absl::StatusOr<std::vector<int32_t>> ids = tokenizer.Encode(text, add_special);
    if (!valid_utf8) {
      TESSERA_FUZZ_CHECK(!ids.ok());
      continue;
    }
    if (!ids.ok()) continue;
    CheckIds(tokenizer, *ids);
    absl::StatusOr<std::string> decoded = tokenizer.Decode(*ids);
    TESSERA_FUZZ_CHECK(decoded.ok());
  }
  const size_t half = text.size() / 2;
  absl::StatusOr<tokenizer::PairEncoding> pair =
      tokenizer.EncodePair(text.substr(0, half), text.substr(half), 32);
  if (pair.ok()) {
    CheckIds(tokenizer, pair->ids);
    TESSERA_FUZZ_CHECK(pair->ids.size() == pair->token_type_ids.size());
  }

  if (!probe_vocabulary) return;
  const int32_t vocab_size = tokenizer.vocab_size();
  TESSERA_FUZZ_CHECK(vocab_size >= 0);
  TESSERA_FUZZ_CHECK(!tokenizer.IdToPiece(-1).ok());
  TESSERA_FUZZ_CHECK(!tokenizer.IdToPiece(vocab_size).ok());
  TESSERA_FUZZ_CHECK(!tokenizer.Decode({vocab_size}).ok());
  for (int32_t id = 0; id < vocab_size && id < kMaxIdsProbed; ++id) {
    absl::StatusOr<std::string> piece = tokenizer.IdToPiece(id);
    TESSERA_FUZZ_CHECK(piece.ok());
    // Repeated pieces keep their first id, so the id found may be smaller.
    std::optional<int32_t> found = tokenizer.PieceToId(*piece);
    if (found.has_value()) TESSERA_FUZZ_CHECK(*found >= 0 && *found < vocab_size);
    tokenizer.IsSpecial(id);
  }
  std::vector<int32_t> all_ids;
  for (int32_t id = 0; id < vocab_size && id < kMaxIdsProbed; ++id) all_ids.push_back(id);
  (void)tokenizer.Decode(all_ids);
}

void ExerciseTokenizerWithSamples(const tokenizer::Tokenizer& tokenizer) {
  static const char* const kSamples[] = {
      "Hello world, this is a test.",
      "  leading and  double  spaces\tand\ttabs\n\nnew lines ",
      "Ünïcödé ÀÉÎÕÜ naïve café résumé",
      "中文分词测试 日本語のテキスト 한국어",
      "emoji 😀🚀 and ZWJ 👩‍👩‍👧 sequence",
      "[CLS] [SEP] <s> </s> <unk> <|endoftext|> ##ing ▁the <0x0A>",
      "\x01\x02 control \x7f chars",
      "",
  };
  for (const char* sample : kSamples) ExerciseTokenizer(tokenizer, sample);
}

}  // namespace tessera::fuzz

#include "engine/tokenizer/tokenizer.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace tessera::tokenizer {
namespace {

// Hugging Face tokenizers' LongestFirst rule (the fast tokenizers that
// sentence-transformers cross-encoders use): keep the shorter sequence whole when
// it fits in half the budget, otherwise split the budget evenly, the odd token
// going to the second sequence.
std::pair<size_t, size_t> LongestFirstLengths(size_t first, size_t second, size_t budget) {
  if (first + second <= budget) return {first, second};
  size_t shorter = std::min(first, second);
  size_t longer;
  if (shorter > budget) {
    longer = shorter;
  } else {
    longer = std::max(shorter, budget - shorter);
  }
  if (shorter + longer > budget) {
    shorter = budget / 2;
    longer = shorter + budget % 2;
  }
  if (first > second) return {longer, shorter};
  return {shorter, longer};
}

}  // namespace

absl::StatusOr<PairEncoding> Tokenizer::EncodePair(absl::string_view first,
                                                   absl::string_view second,
                                                   int max_length) const {
  const SpecialTokenIds& special = special_ids();
  if (special.cls < 0 || special.sep < 0) {
    return absl::UnimplementedError(
        "EncodePair needs a vocabulary with [CLS] and [SEP] tokens");
  }
  constexpr int kSpecialTokens = 3;  // [CLS] a [SEP] b [SEP]
  if (max_length < kSpecialTokens) {
    return absl::InvalidArgumentError(
        absl::StrCat("EncodePair: max_length ", max_length, " is below ", kSpecialTokens));
  }
  absl::StatusOr<std::vector<int32_t>> first_ids = Encode(first, false);
  if (!first_ids.ok()) return first_ids.status();
  absl::StatusOr<std::vector<int32_t>> second_ids = Encode(second, false);
  if (!second_ids.ok()) return second_ids.status();
  const auto [keep_first, keep_second] = LongestFirstLengths(
      first_ids->size(), second_ids->size(), static_cast<size_t>(max_length - kSpecialTokens));
  PairEncoding encoding;
  encoding.ids.reserve(keep_first + keep_second + kSpecialTokens);
  encoding.ids.push_back(special.cls);
  encoding.ids.insert(encoding.ids.end(), first_ids->begin(), first_ids->begin() + keep_first);
  encoding.ids.push_back(special.sep);
  encoding.token_type_ids.assign(encoding.ids.size(), 0);
  encoding.ids.insert(encoding.ids.end(), second_ids->begin(),
                      second_ids->begin() + keep_second);
  encoding.ids.push_back(special.sep);
  encoding.token_type_ids.resize(encoding.ids.size(), 1);
  return encoding;
}

std::string TokenDisplayText(const Tokenizer& tokenizer, int32_t id) {
  std::string piece = tokenizer.IdToPiece(id).value_or("");
  absl::StrReplaceAll({{"\xE2\x96\x81", " "}, {"\xC4\xA0", " "}}, &piece);
  return piece;
}

}  // namespace tessera::tokenizer

#include "eval/score_parsing.h"

#include <re2/re2.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace tessera::eval {
namespace {

constexpr char kNumber[] = "([0-9]+(?:\\.[0-9]+)?)";
// "Score", optional quotes/markdown, optional "is"/"of", optional ':' or '=';
// the text before a score. Used both to find the score and its token.
constexpr char kScoreLead[] = "(?i)score[\"'*_\\s]*(?:is|of)?[\\s*]*[:=]?[\\s*\"'_]*\\(?";

std::string Quote(absl::string_view reply) {
  std::string text(reply.substr(0, 200));
  if (reply.size() > 200) text += "...";
  return absl::StrCat("\"", text, "\"");
}

re2::StringPiece Piece(absl::string_view text) { return re2::StringPiece(text.data(), text.size()); }

// The last capture of `pattern` in `text`, if any.
std::optional<std::string> LastMatch(const RE2& pattern, absl::string_view text) {
  re2::StringPiece input = Piece(text);
  std::string capture;
  std::optional<std::string> last;
  while (RE2::FindAndConsume(&input, pattern, &capture)) last = capture;
  return last;
}

std::optional<double> InRange(const std::optional<std::string>& text, int low, int high) {
  double value;
  if (!text.has_value() || !absl::SimpleAtod(*text, &value)) return std::nullopt;
  if (value < low || value > high) return std::nullopt;
  return value;
}

// A token's text as bytes: byte-fallback pieces ("<0x0A>") become the byte.
std::string TokenText(absl::string_view token) {
  int byte;
  if (token.size() == 6 && absl::StartsWith(token, "<0x") && token.back() == '>' &&
      absl::SimpleHexAtoi(token.substr(3, 2), &byte)) {
    return std::string(1, static_cast<char>(byte));
  }
  return std::string(token);
}

// The score digit a token stands for, if it is exactly one (spaces aside).
std::optional<int> ScoreDigit(absl::string_view piece, int low, int high) {
  const std::string text = TokenText(piece);
  absl::string_view token = absl::StripAsciiWhitespace(text);
  int value;
  if (token.empty() || token.size() > 2 || !absl::SimpleAtoi(token, &value)) return std::nullopt;
  if (value < low || value > high) return std::nullopt;
  return value;
}

// The number at `offset` of `text` ("4", "4.5"), if one starts there.
std::optional<std::string> NumberAt(absl::string_view text, size_t offset) {
  static const RE2* const kLeading = new RE2(absl::StrCat("^", kNumber));
  std::string capture;
  if (!RE2::PartialMatch(Piece(text.substr(offset)), *kLeading, &capture)) return std::nullopt;
  return capture;
}

}  // namespace

std::optional<size_t> JsonValueOffset(absl::string_view text, absl::string_view key) {
  size_t i = 0;
  auto skip_blanks = [&] {
    while (i < text.size() && absl::ascii_isspace(static_cast<unsigned char>(text[i]))) ++i;
  };
  skip_blanks();
  if (absl::StartsWith(text.substr(i), "```")) {  // A fenced block: ```json
    const size_t line_end = text.find('\n', i);
    if (line_end == absl::string_view::npos) return std::nullopt;
    i = line_end + 1;
    skip_blanks();
  }
  if (i >= text.size() || text[i] != '{') return std::nullopt;
  int depth = 0;
  absl::string_view last_string;  // At depth 1 ...
  bool only_blanks_since = false;  // ... and nothing but blanks after it.
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      // Skip the string, escapes included; remember it in case it is a key.
      size_t close = i + 1;
      while (close < text.size() && text[close] != '"') close += text[close] == '\\' ? 2 : 1;
      if (close >= text.size()) return std::nullopt;  // Unfinished string.
      last_string = text.substr(i + 1, close - i - 1);
      only_blanks_since = depth == 1;
      i = close;
      continue;
    }
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) continue;
    if (c == ':' && only_blanks_since && last_string == key) {
      ++i;
      skip_blanks();
      if (i >= text.size()) return std::nullopt;
      return i;
    }
    only_blanks_since = false;
    if (c == '{' || c == '[') {
      ++depth;
    } else if ((c == '}' || c == ']') && --depth <= 0) {
      return std::nullopt;  // The object ended without the key.
    }
  }
  return std::nullopt;
}

absl::StatusOr<double> ParseScore(absl::string_view reply, int low, int high) {
  static const RE2* const kLabelled = new RE2(absl::StrCat(kScoreLead, kNumber));
  static const RE2* const kBrackets = new RE2(absl::StrCat("\\[\\[\\s*", kNumber, "\\s*\\]\\]"));
  const RE2 out_of(absl::StrCat(kNumber, "\\s*(?:/|out of)\\s*", high, "\\b"));
  // Structured output: the top-level "score" decides, whatever the reason says.
  if (std::optional<size_t> offset = JsonValueOffset(reply, "score")) {
    if (auto score = InRange(NumberAt(reply, *offset), low, high)) return *score;
  }
  for (const RE2* pattern : {kLabelled, kBrackets, &out_of}) {
    if (auto score = InRange(LastMatch(*pattern, reply), low, high)) return *score;
  }
  absl::string_view trimmed = absl::StripAsciiWhitespace(reply);
  if (absl::ConsumeSuffix(&trimmed, ".")) trimmed = absl::StripAsciiWhitespace(trimmed);
  if (auto score = InRange(std::string(trimmed), low, high)) return *score;
  // "4 - mostly correct" on the last line.
  std::vector<absl::string_view> lines = absl::StrSplit(reply, '\n', absl::SkipWhitespace());
  if (!lines.empty()) {
    static const RE2* const kLeading = new RE2(absl::StrCat("^\\s*", kNumber, "\\b"));
    std::string capture;
    if (RE2::PartialMatch(Piece(lines.back()), *kLeading, &capture)) {
      if (auto score = InRange(capture, low, high)) return *score;
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("no score from ", low, " to ", high, " in the judge's reply ", Quote(reply)));
}

const char* PreferenceName(Preference preference) {
  switch (preference) {
    case Preference::kA:
      return "A";
    case Preference::kB:
      return "B";
    case Preference::kTie:
      return "TIE";
  }
  return "TIE";
}

absl::StatusOr<Preference> ParsePreference(absl::string_view reply) {
  auto from = [](std::string word) -> std::optional<Preference> {
    absl::AsciiStrToLower(&word);
    if (word == "a") return Preference::kA;
    if (word == "b") return Preference::kB;
    if (word == "tie" || word == "c" || word == "equal" || word == "neither") return Preference::kTie;
    return std::nullopt;
  };
  static const RE2* const kLabelled = new RE2(
      "(?i)(?:preference|preferred|winner|verdict|better response|choice)[\"'*_\\s]*(?:is)?[\\s*]*"
      "[:=]?[\\s*\"'_\\[]*(A|B|tie)\\b");
  static const RE2* const kBrackets = new RE2("\\[\\[\\s*(A|B|C|tie|TIE|Tie)\\s*\\]\\]");
  static const RE2* const kSentence = new RE2("(?i)\\b(?:response|output|answer)\\s+(A|B)\\s+is\\s+better");
  if (std::optional<size_t> offset = JsonValueOffset(reply, "preference")) {
    static const RE2* const kQuoted = new RE2("^\"([A-Za-z]+)\"");
    std::string word;
    if (RE2::PartialMatch(Piece(reply.substr(*offset)), *kQuoted, &word)) {
      if (auto preference = from(word)) return *preference;
    }
  }
  for (const RE2* pattern : {kLabelled, kBrackets, kSentence}) {
    if (auto found = LastMatch(*pattern, reply); found.has_value()) {
      if (auto preference = from(*found)) return *preference;
    }
  }
  std::string trimmed(absl::StripAsciiWhitespace(reply));
  while (!trimmed.empty() && (trimmed.back() == '.' || trimmed.back() == '*')) trimmed.pop_back();
  if (auto preference = from(trimmed)) return *preference;
  return absl::InvalidArgumentError(
      absl::StrCat("no preference (A, B or TIE) in the judge's reply ", Quote(reply)));
}

absl::StatusOr<bool> ParseVerdict(absl::string_view reply) {
  static const RE2* const kLabelled =
      new RE2("(?i)(?:verdict|answer|supported)[\"'*_\\s]*[:=][\\s*\"'_]*(yes|no|true|false)\\b");
  static const RE2* const kWord = new RE2("(?i)\\b(yes|no)\\b");
  std::optional<std::string> found = LastMatch(*kLabelled, reply);
  if (!found.has_value()) {
    re2::StringPiece input = Piece(reply);
    std::string word;
    if (RE2::FindAndConsume(&input, *kWord, &word)) found = word;
  }
  if (found.has_value()) {
    std::string word = absl::AsciiStrToLower(*found);
    return word == "yes" || word == "true";
  }
  return absl::InvalidArgumentError(
      absl::StrCat("no YES/NO verdict in the judge's reply ", Quote(reply)));
}

absl::StatusOr<WeightedScore> LogprobWeightedScore(const std::vector<agents::TokenLogprob>& tokens,
                                                   int low, int high) {
  if (tokens.empty()) return absl::NotFoundError("the backend returned no logprobs");
  static const RE2* const kLeadAtEnd = new RE2(absl::StrCat(kScoreLead, "$"));
  static const RE2* const kBracketsAtEnd = new RE2("\\[\\[\\s*$");
  std::string text;  // The reply as the tokens spell it.
  std::vector<size_t> starts;
  for (const agents::TokenLogprob& token : tokens) {
    starts.push_back(text.size());
    text += TokenText(token.token);
  }
  int position = -1;
  // Structured output: the token where the top-level "score" value starts.
  if (std::optional<size_t> offset = JsonValueOffset(text, "score")) {
    const size_t i = std::upper_bound(starts.begin(), starts.end(), *offset) - starts.begin() - 1;
    if (ScoreDigit(tokens[i].token, low, high).has_value()) position = static_cast<int>(i);
  }
  if (position < 0) {
    // "Score: N" (the last labelled one wins, as in ParseScore), else a reply that is only N.
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (!ScoreDigit(tokens[i].token, low, high).has_value()) continue;
      const absl::string_view before = absl::string_view(text).substr(0, starts[i]);
      const absl::string_view tail = before.substr(before.size() > 40 ? before.size() - 40 : 0);
      const bool labelled = RE2::PartialMatch(Piece(tail), *kLeadAtEnd) ||
                            RE2::PartialMatch(Piece(tail), *kBracketsAtEnd);
      const bool alone = absl::StripAsciiWhitespace(before).empty();
      if (labelled || (alone && position < 0)) position = static_cast<int>(i);
    }
  }
  if (position < 0) return absl::NotFoundError("no score token among the logprobs");
  const agents::TokenLogprob& chosen = tokens[position];
  std::map<int, double> probability;
  for (const agents::TokenAlternative& alternative : chosen.top) {
    if (auto digit = ScoreDigit(alternative.token, low, high)) {
      probability[*digit] += std::exp(alternative.logprob);
    }
  }
  if (probability.empty()) {
    return absl::NotFoundError(absl::StrCat(
        chosen.top.empty() ? "the backend listed no alternatives"
                           : absl::StrCat("no score token among the ", chosen.top.size(), " alternatives"),
        " at the score position"));
  }
  // The sampled token counts even when the backend listed fewer alternatives.
  const int sampled = *ScoreDigit(chosen.token, low, high);
  if (probability.count(sampled) == 0) probability[sampled] = std::exp(chosen.logprob);
  WeightedScore result;
  double weighted = 0;
  for (const auto& [digit, p] : probability) {
    result.mass += p;
    weighted += digit * p;
  }
  if (result.mass <= 0) return absl::NotFoundError("no probability on the score tokens");
  result.score = weighted / result.mass;
  return result;
}

}  // namespace tessera::eval

#include "gateway/guardrails.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tessera::gateway {
namespace {

std::string DigitsOf(absl::string_view text) {
  std::string digits;
  for (char c : text) {
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) digits.push_back(c);
  }
  return digits;
}

bool LuhnValid(absl::string_view digits) {
  int sum = 0;
  bool double_it = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (double_it) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double_it = !double_it;
  }
  return sum % 10 == 0;
}

bool CreditCardValid(absl::string_view match) {
  std::string digits = DigitsOf(match);
  return digits.size() >= 13 && digits.size() <= 19 && LuhnValid(digits);
}

// ISO 13616: move the first four characters to the end, letters to 10..35,
// and the number mod 97 must be 1.
bool IbanValid(absl::string_view match) {
  std::string compact;
  for (char c : match) {
    if (c != ' ') compact.push_back(c);
  }
  if (compact.size() < 15 || compact.size() > 34) return false;
  std::string rearranged = compact.substr(4) + compact.substr(0, 4);
  int remainder = 0;
  for (char c : rearranged) {
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      remainder = (remainder * 10 + (c - '0')) % 97;
    } else if (c >= 'A' && c <= 'Z') {
      int value = c - 'A' + 10;
      remainder = (remainder * 100 + value) % 97;
    } else {
      return false;
    }
  }
  return remainder == 1;
}

// Area 000, 666 and 900-999, group 00 and serial 0000 are never issued.
bool SsnValid(absl::string_view match) {
  std::string digits = DigitsOf(match);
  if (digits.size() != 9) return false;
  absl::string_view area = absl::string_view(digits).substr(0, 3);
  if (area == "000" || area == "666" || area[0] == '9') return false;
  if (digits.substr(3, 2) == "00" || digits.substr(5, 4) == "0000") return false;
  return true;
}

bool PhoneValid(absl::string_view match) {
  size_t digits = DigitsOf(match).size();
  return digits >= 10 && digits <= 15;
}

bool AlwaysValid(absl::string_view) { return true; }

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// A digit group glued to the match by one separator ("1234 5678" around a
// 4-4-4-4 match) means the match is a piece of some longer number.
bool PartOfLongerNumber(absl::string_view text, size_t begin, size_t end) {
  auto separator = [](char c) { return c == ' ' || c == '-' || c == '.'; };
  if (begin >= 2 && separator(text[begin - 1]) && IsDigit(text[begin - 2])) return true;
  if (end + 1 < text.size() && separator(text[end]) && IsDigit(text[end + 1])) return true;
  return false;
}

}  // namespace

const char* PiiTypeTag(PiiType type) {
  switch (type) {
    case PiiType::kEmail:
      return "EMAIL";
    case PiiType::kPhone:
      return "PHONE";
    case PiiType::kCreditCard:
      return "CREDIT_CARD";
    case PiiType::kIban:
      return "IBAN";
    case PiiType::kSsn:
      return "SSN";
    case PiiType::kIpv4:
      return "IPV4";
  }
  return "PII";
}

std::string PiiVault::PlaceholderFor(PiiType type, absl::string_view value) {
  std::string lookup = absl::StrCat(PiiTypeTag(type), std::string(1, '\0'), value);
  auto it = placeholders_.find(lookup);
  if (it != placeholders_.end()) return it->second;
  int index = ++next_index_[type];
  std::string placeholder = absl::StrCat("[", PiiTypeTag(type), "_", index, "]");
  placeholders_[lookup] = placeholder;
  originals_[placeholder] = std::string(value);
  return placeholder;
}

std::string PiiVault::Unmask(absl::string_view text) const {
  // Placeholders are "[TAG_n]": look up each bracketed span.
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find('[', pos);
    if (open == absl::string_view::npos) break;
    size_t close = text.find(']', open);
    if (close == absl::string_view::npos) break;
    absl::string_view candidate = text.substr(open, close - open + 1);
    auto it = originals_.find(std::string(candidate));
    if (it != originals_.end()) {
      absl::StrAppend(&out, text.substr(pos, open - pos), it->second);
      pos = close + 1;
    } else {
      absl::StrAppend(&out, text.substr(pos, open + 1 - pos));
      pos = open + 1;
    }
  }
  absl::StrAppend(&out, text.substr(std::min(pos, text.size())));
  return out;
}

std::map<PiiType, int> PiiVault::CountsByType() const { return next_index_; }

std::string StreamUnmasker::Feed(absl::string_view chunk) {
  pending_.append(chunk.data(), chunk.size());
  // Hold back from the last '[' when it could still become a placeholder.
  constexpr size_t kLongestPlaceholder = 24;  // "[CREDIT_CARD_" + digits + "]"
  size_t open = pending_.rfind('[');
  size_t emit_up_to = pending_.size();
  if (open != std::string::npos && pending_.find(']', open) == std::string::npos &&
      pending_.size() - open < kLongestPlaceholder) {
    emit_up_to = open;
  }
  std::string ready = vault_->Unmask(absl::string_view(pending_).substr(0, emit_up_to));
  pending_.erase(0, emit_up_to);
  return ready;
}

std::string StreamUnmasker::Finish() {
  std::string rest = vault_->Unmask(pending_);
  pending_.clear();
  return rest;
}

struct PiiMasker::Detector {
  PiiType type;
  std::unique_ptr<RE2> pattern;
  bool (*valid)(absl::string_view match);
};

PiiMasker::PiiMasker()
    : PiiMasker({PiiType::kEmail, PiiType::kPhone, PiiType::kCreditCard, PiiType::kIban,
                 PiiType::kSsn, PiiType::kIpv4}) {}

PiiMasker::~PiiMasker() = default;

PiiMasker::PiiMasker(std::set<PiiType> types) {
  // Priority order: earlier detectors claim text first, so an IBAN's digits are
  // not also taken for a phone number, and a card number not for a phone.
  struct Spec {
    PiiType type;
    const char* pattern;
    bool (*valid)(absl::string_view);
  };
  const Spec specs[] = {
      {PiiType::kEmail,
       R"([A-Za-z0-9._%+\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,})",
       &AlwaysValid},
      {PiiType::kIban, R"(\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b)",
       &IbanValid},
      // Unbroken, or grouped 4-4-4-4(-3) with one kind of separator, or 4-6-5 / 4-6-4.
      {PiiType::kCreditCard,
       R"(\b(?:[0-9]{13,19}|[0-9]{4}(?: [0-9]{4}){2} [0-9]{1,4}(?: [0-9]{3})?|[0-9]{4}(?:-[0-9]{4}){2}-[0-9]{1,4}(?:-[0-9]{3})?|[0-9]{4}[ \-][0-9]{6}[ \-][0-9]{4,5})\b)",
       &CreditCardValid},
      {PiiType::kSsn, R"(\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b)", &SsnValid},
      {PiiType::kIpv4,
       R"(\b(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\b)",
       &AlwaysValid},
      // International (+CC ...) first, then North American (NXX) NXX-XXXX.
      {PiiType::kPhone, R"(\+[0-9]{1,3}(?:[ .\-]?\(?[0-9]{1,4}\)?){2,5}\b)", &PhoneValid},
      {PiiType::kPhone, R"((?:\([0-9]{3}\)|\b[0-9]{3})[ .\-]?[0-9]{3}[ .\-][0-9]{4}\b)",
       &PhoneValid},
  };
  for (const Spec& spec : specs) {
    if (types.count(spec.type) == 0) continue;
    auto detector = std::make_unique<Detector>();
    detector->type = spec.type;
    detector->pattern = std::make_unique<RE2>(spec.pattern);
    detector->valid = spec.valid;
    detectors_.push_back(std::move(detector));
  }
}

std::string PiiMasker::Mask(absl::string_view text, PiiVault* vault) const {
  struct Span {
    size_t begin, end;
    PiiType type;
  };
  std::vector<Span> taken;
  auto overlaps = [&taken](size_t begin, size_t end) {
    for (const Span& span : taken) {
      if (begin < span.end && span.begin < end) return true;
    }
    return false;
  };
  const re2::StringPiece whole(text.data(), text.size());
  for (const auto& detector : detectors_) {
    if (!detector->pattern->ok()) continue;
    size_t from = 0;
    re2::StringPiece match;
    while (from < text.size() &&
           detector->pattern->Match(whole, from, text.size(), RE2::UNANCHORED, &match, 1)) {
      size_t begin = match.data() - text.data();
      size_t end = begin + match.size();
      if (match.empty()) {
        from = begin + 1;
        continue;
      }
      bool numeric = detector->type == PiiType::kCreditCard || detector->type == PiiType::kSsn ||
                     detector->type == PiiType::kPhone;
      if (!overlaps(begin, end) && !(numeric && PartOfLongerNumber(text, begin, end)) &&
          detector->valid(absl::string_view(match.data(), match.size()))) {
        taken.push_back({begin, end, detector->type});
      }
      from = end;
    }
  }
  std::sort(taken.begin(), taken.end(),
            [](const Span& a, const Span& b) { return a.begin < b.begin; });
  std::string out;
  size_t pos = 0;
  for (const Span& span : taken) {
    absl::StrAppend(&out, text.substr(pos, span.begin - pos),
                    vault->PlaceholderFor(span.type, text.substr(span.begin, span.end - span.begin)));
    pos = span.end;
  }
  absl::StrAppend(&out, text.substr(pos));
  return out;
}

absl::StatusOr<std::unique_ptr<Denylist>> Denylist::Create(const std::vector<std::string>& terms) {
  if (terms.empty()) return absl::InvalidArgumentError("denylist has no terms");
  std::vector<std::string> alternatives;
  std::map<std::string, std::string> by_lower;
  for (const std::string& term : terms) {
    std::string trimmed(absl::StripAsciiWhitespace(term));
    if (trimmed.empty()) return absl::InvalidArgumentError("denylist has an empty term");
    alternatives.push_back(RE2::QuoteMeta(trimmed));
    by_lower.emplace(absl::AsciiStrToLower(trimmed), trimmed);
  }
  // Longest first, so "foo bar" wins over "foo" when both are listed.
  std::sort(alternatives.begin(), alternatives.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  RE2::Options options;
  options.set_case_sensitive(false);
  options.set_log_errors(false);
  auto pattern = std::make_unique<RE2>(
      absl::StrCat(R"((?:^|[^\pL\pN_])()", absl::StrJoin(alternatives, "|"), R"()(?:$|[^\pL\pN_]))"),
      options);
  if (!pattern->ok()) {
    return absl::InvalidArgumentError(absl::StrCat("bad denylist: ", pattern->error()));
  }
  return std::unique_ptr<Denylist>(new Denylist(std::move(pattern), std::move(by_lower)));
}

std::optional<std::string> Denylist::FindDenied(absl::string_view text) const {
  std::string term;
  if (!RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *pattern_, &term)) return std::nullopt;
  auto it = by_lower_.find(absl::AsciiStrToLower(term));
  return it != by_lower_.end() ? it->second : term;
}

std::vector<std::string> DetectPromptInjection(absl::string_view text) {
  struct Heuristic {
    const char* name;
    const char* pattern;
  };
  static const auto* heuristics = [] {
    const Heuristic specs[] = {
        {"ignore_instructions",
         R"((?i)\b(?:ignore|disregard|forget|override)\b.{0,40}\b(?:previous|prior|above|earlier|all|system|your)\b.{0,20}\b(?:instructions?|prompts?|rules|directions|guidelines)\b)"},
        {"reveal_system_prompt",
         R"((?i)\b(?:reveal|show|print|repeat|output|tell me)\b.{0,30}\b(?:system prompt|hidden (?:prompt|instructions)|initial instructions|your instructions)\b)"},
        {"role_override",
         R"((?i)\b(?:you are now|from now on,? you are|act as|pretend to be)\b.{0,40}\b(?:dan|jailbroken|unrestricted|unfiltered|developer mode|without (?:any )?(?:restrictions|rules|filters))\b)"},
        {"delimiter_injection",
         R"((?i)(?:<\|im_start\|>|<\|system\|>|\[/?INST\]|<</?SYS>>|^\s*(?:system|assistant)\s*:))"},
    };
    auto* compiled = new std::vector<std::pair<std::string, std::unique_ptr<RE2>>>();
    for (const Heuristic& spec : specs) {
      RE2::Options options;
      options.set_dot_nl(false);
      options.set_log_errors(false);
      compiled->emplace_back(spec.name, std::make_unique<RE2>(spec.pattern, options));
    }
    return compiled;
  }();
  std::vector<std::string> found;
  for (const auto& [name, pattern] : *heuristics) {
    if (pattern->ok() && RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *pattern)) found.push_back(name);
  }
  return found;
}

}  // namespace tessera::gateway

// Content guardrails for prompts and responses:
//  - PII masking (emails, phone numbers, credit cards with a Luhn check, IBANs
//    with the mod-97 check, US SSNs, IPv4 addresses) to typed placeholders such
//    as "[EMAIL_1]", with a reversible vault so the caller's response can be
//    unmasked (also across streamed chunks);
//  - a denylist of terms (whole words, case-insensitive);
//  - prompt-injection heuristics (phrases that try to override instructions).
#ifndef TESSERA_GATEWAY_GUARDRAILS_H_
#define TESSERA_GATEWAY_GUARDRAILS_H_

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "re2/re2.h"

namespace tessera::gateway {

enum class PiiType { kEmail, kPhone, kCreditCard, kIban, kSsn, kIpv4 };

// "EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "SSN", "IPV4": the placeholder tags.
const char* PiiTypeTag(PiiType type);

// Placeholder <-> original value for one request (or conversation). The same
// value always gets the same placeholder, so the model sees consistent
// references. Not thread-safe; one vault per request.
class PiiVault {
 public:
  // The placeholder for `value`, allocating "[TAG_n]" on first sight.
  std::string PlaceholderFor(PiiType type, absl::string_view value);

  // Replaces every known placeholder in `text` with its original value; unknown
  // placeholder-like text is left as is.
  std::string Unmask(absl::string_view text) const;

  // Masked values by type (for guardrail_actions / audit, without the values).
  std::map<PiiType, int> CountsByType() const;
  size_t size() const { return originals_.size(); }
  // Placeholder -> original value.
  const std::map<std::string, std::string>& originals() const { return originals_; }

 private:
  std::map<std::string, std::string> originals_;     // placeholder -> value
  std::map<std::string, std::string> placeholders_;  // tag + '\0' + value -> placeholder
  std::map<PiiType, int> next_index_;
};

// Unmasks a response that arrives in pieces: a placeholder split across two
// chunks ("[EMA" + "IL_1]") is held back until it is complete.
class StreamUnmasker {
 public:
  explicit StreamUnmasker(const PiiVault* vault) : vault_(vault) {}
  // Text that can be emitted now.
  std::string Feed(absl::string_view chunk);
  // Whatever was held back, at the end of the stream.
  std::string Finish();

 private:
  const PiiVault* vault_;
  std::string pending_;
};

class PiiMasker {
 public:
  // Masks every type by default.
  PiiMasker();
  explicit PiiMasker(std::set<PiiType> types);
  ~PiiMasker();

  // Replaces the PII in `text` with placeholders recorded in `vault`.
  std::string Mask(absl::string_view text, PiiVault* vault) const;

 private:
  struct Detector;
  std::vector<std::unique_ptr<Detector>> detectors_;  // in priority order
};

// Whole-word, case-insensitive term matching (a term may contain spaces).
class Denylist {
 public:
  // InvalidArgument for an empty list or empty terms.
  static absl::StatusOr<std::unique_ptr<Denylist>> Create(const std::vector<std::string>& terms);

  // The first denied term found in `text` (as written in the list), if any.
  std::optional<std::string> FindDenied(absl::string_view text) const;

 private:
  explicit Denylist(std::unique_ptr<RE2> pattern, std::map<std::string, std::string> by_lower)
      : pattern_(std::move(pattern)), by_lower_(std::move(by_lower)) {}
  std::unique_ptr<RE2> pattern_;
  std::map<std::string, std::string> by_lower_;
};

// Names of prompt-injection heuristics that match `text` ("ignore_instructions",
// "reveal_system_prompt", "role_override", "delimiter_injection"); empty when
// none. Heuristics, not a classifier: use to flag or log, not as the only gate.
std::vector<std::string> DetectPromptInjection(absl::string_view text);

}  // namespace tessera::gateway

#endif  // TESSERA_GATEWAY_GUARDRAILS_H_

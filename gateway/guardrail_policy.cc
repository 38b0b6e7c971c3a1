#include "gateway/guardrail_policy.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace tessera::gateway {
namespace {

constexpr char kGuardrailActions[] = "tessera_gateway_guardrail_actions_total";

std::string Counts(const std::map<PiiType, int>& counts) {
  std::vector<std::string> parts;
  for (const auto& [type, count] : counts) parts.push_back(absl::StrCat(PiiTypeTag(type), "=", count));
  return absl::StrJoin(parts, ",");
}

// "[CREDIT_CARD_2]" -> "CREDIT_CARD".
std::string TagOf(absl::string_view placeholder) {
  absl::string_view inner = placeholder.substr(1, placeholder.size() - 2);
  return std::string(inner.substr(0, inner.rfind('_')));
}

std::map<PiiType, int> TypesOf(const std::map<std::string, int>& by_tag) {
  std::map<PiiType, int> out;
  for (PiiType type : {PiiType::kEmail, PiiType::kPhone, PiiType::kCreditCard, PiiType::kIban,
                       PiiType::kSsn, PiiType::kIpv4}) {
    auto it = by_tag.find(PiiTypeTag(type));
    if (it != by_tag.end()) out[type] = it->second;
  }
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<GuardrailPolicy>> GuardrailPolicy::Create(
    const GuardrailConfig& config, MetricsRegistry* metrics) {
  auto policy = std::unique_ptr<GuardrailPolicy>(new GuardrailPolicy(config, metrics));
  if (!config.blocked_terms.empty()) {
    auto denylist = Denylist::Create(config.blocked_terms);
    if (!denylist.ok()) return denylist.status();
    policy->denylist_ = std::move(*denylist);
  }
  return policy;
}

GuardrailPolicy::GuardrailPolicy(const GuardrailConfig& config, MetricsRegistry* metrics)
    : config_(config), metrics_(metrics), masker_(config.pii_types) {
  active_ = config.input_pii != GuardrailAction::kOff ||
            config.output_pii != GuardrailAction::kOff || !config.blocked_terms.empty() ||
            config.prompt_injection != GuardrailAction::kOff;
  if (metrics_ != nullptr) {
    metrics_->Describe(kGuardrailActions, "Guardrail actions taken, by guardrail and action.");
  }
}

void GuardrailPolicy::SetInjectionEmbedder(std::shared_ptr<Embedder> embedder) {
  if (!config_.injection_similarity.has_value() || embedder == nullptr) return;
  known_attacks_ =
      std::make_unique<KnownAttackMatcher>(*config_.injection_similarity, std::move(embedder));
}

void GuardrailPolicy::Count(const std::string& guardrail, const std::string& action) const {
  if (metrics_ != nullptr) {
    metrics_->IncrementCounter(kGuardrailActions, {{"action", action}, {"guardrail", guardrail}});
  }
}

absl::Status GuardrailPolicy::ApplyToInput(const std::vector<std::string*>& texts,
                                           GuardrailReport* report) const {
  if (!active_) return absl::OkStatus();
  std::set<std::string> flagged_injections;
  std::set<std::string> flagged_terms;
  PiiVault detected;  // every PII value the caller sent, whatever the action
  if (known_attacks_ != nullptr && config_.prompt_injection != GuardrailAction::kOff) {
    // Before PII masking changes the texts.
    std::vector<std::string> caller_texts;
    for (const std::string* text : texts) {
      if (!text->empty()) caller_texts.push_back(*text);
    }
    auto match = known_attacks_->Check(caller_texts);
    if (!match.ok()) {
      // No embedder (yet): the heuristics below still run.
      Count("prompt_injection_similarity", "unavailable");
    } else if (match->has_value()) {
      const std::string similarity = absl::StrFormat("%.2f", (*match)->similarity);
      if (config_.prompt_injection == GuardrailAction::kBlock) {
        Count("prompt_injection", "block");
        return absl::PermissionDeniedError(absl::StrCat(
            "blocked by the gateway's content policy: prompt injection (similar to a known "
            "attack, cosine ", similarity, ")"));
      }
      flagged_injections.insert("similar_to_known_attack");
    }
  }
  for (std::string* text : texts) {
    if (text->empty()) continue;
    if (denylist_ != nullptr) {
      if (auto term = denylist_->FindDenied(*text)) {
        if (config_.blocked_terms_action == GuardrailAction::kBlock) {
          Count("blocked_terms", "block");
          return absl::PermissionDeniedError(absl::StrCat(
              "blocked by the gateway's content policy: the request contains \"", *term, "\""));
        }
        flagged_terms.insert(*term);
      }
    }
    if (config_.prompt_injection != GuardrailAction::kOff) {
      std::vector<std::string> found = DetectPromptInjection(*text);
      if (!found.empty() && config_.prompt_injection == GuardrailAction::kBlock) {
        Count("prompt_injection", "block");
        return absl::PermissionDeniedError(absl::StrCat(
            "blocked by the gateway's content policy: prompt injection (",
            absl::StrJoin(found, ", "), ")"));
      }
      flagged_injections.insert(found.begin(), found.end());
    }
    if (config_.input_pii != GuardrailAction::kOff || config_.output_pii != GuardrailAction::kOff) {
      masker_.Mask(*text, &detected);
      if (config_.input_pii == GuardrailAction::kMask) {
        // Same vault for every text, so a value keeps its placeholder throughout.
        *text = masker_.Mask(*text, &report->vault);
      }
    }
  }
  for (const auto& [placeholder, value] : detected.originals()) report->caller_values.insert(value);
  if (!flagged_terms.empty()) {
    Count("blocked_terms", "flag");
    report->actions.push_back(
        absl::StrCat("blocked_term_flagged:", absl::StrJoin(flagged_terms, ",")));
  }
  if (!flagged_injections.empty()) {
    Count("prompt_injection", "flag");
    report->actions.push_back(
        absl::StrCat("prompt_injection_flagged:", absl::StrJoin(flagged_injections, ",")));
  }
  if (detected.size() > 0) {
    switch (config_.input_pii) {
      case GuardrailAction::kBlock:
        Count("input_pii", "block");
        return absl::PermissionDeniedError(
            absl::StrCat("blocked by the gateway's content policy: the request contains PII (",
                         Counts(detected.CountsByType()), ")"));
      case GuardrailAction::kMask:
        Count("input_pii", "mask");
        report->actions.push_back(
            absl::StrCat("input_pii_masked:", Counts(report->vault.CountsByType())));
        break;
      case GuardrailAction::kFlag:
        Count("input_pii", "flag");
        report->actions.push_back(
            absl::StrCat("input_pii_flagged:", Counts(detected.CountsByType())));
        break;
      case GuardrailAction::kOff:
        break;
    }
  }
  return absl::OkStatus();
}

absl::Status GuardrailPolicy::ApplyToRequest(tessera::generation::v1::GenerateRequest* request,
                                             GuardrailReport* report) const {
  if (!active_) return absl::OkStatus();
  std::vector<std::string*> texts = {request->mutable_prompt()};
  for (auto& message : *request->mutable_messages()) texts.push_back(message.mutable_content());
  return ApplyToInput(texts, report);
}

void GuardrailPolicy::MaskContext(const std::vector<std::string*>& texts,
                                  GuardrailReport* report) const {
  if (config_.input_pii != GuardrailAction::kMask && config_.output_pii == GuardrailAction::kOff) {
    return;
  }
  PiiVault detected;
  for (std::string* text : texts) {
    masker_.Mask(*text, &detected);
    if (config_.input_pii == GuardrailAction::kMask) *text = masker_.Mask(*text, &report->vault);
  }
  for (const auto& [placeholder, value] : detected.originals()) report->caller_values.insert(value);
}

std::string GuardrailPolicy::RedactForeignPii(absl::string_view text, const GuardrailReport& report,
                                              std::map<PiiType, int>* foreign) const {
  PiiVault found;
  std::string masked = masker_.Mask(text, &found);
  if (found.size() == 0) return std::string(text);
  std::vector<std::pair<std::string, std::string>> replacements;
  std::map<std::string, int> by_tag;
  for (const auto& [placeholder, value] : found.originals()) {
    if (report.caller_values.count(value) > 0) {
      replacements.emplace_back(placeholder, value);
    } else {
      const std::string tag = TagOf(placeholder);
      ++by_tag[tag];
      replacements.emplace_back(placeholder, absl::StrCat("[REDACTED_", tag, "]"));
    }
  }
  *foreign = TypesOf(by_tag);
  return absl::StrReplaceAll(masked, replacements);
}

std::string GuardrailPolicy::ApplyToOutput(absl::string_view text, GuardrailReport* report) const {
  std::string restored = report->vault.size() > 0 ? report->vault.Unmask(text) : std::string(text);
  if (config_.output_pii == GuardrailAction::kOff) return restored;
  std::map<PiiType, int> foreign;
  std::string redacted = RedactForeignPii(restored, *report, &foreign);
  if (foreign.empty()) return restored;
  if (config_.output_pii == GuardrailAction::kMask) {
    Count("output_pii", "mask");
    report->actions.push_back(absl::StrCat("output_pii_masked:", Counts(foreign)));
    return redacted;
  }
  Count("output_pii", "flag");
  report->actions.push_back(absl::StrCat("output_pii_flagged:", Counts(foreign)));
  return restored;
}

void GuardrailPolicy::CheckStreamedOutput(absl::string_view text, GuardrailReport* report) const {
  if (config_.output_pii == GuardrailAction::kOff) return;
  std::map<PiiType, int> foreign;
  RedactForeignPii(text, *report, &foreign);
  if (foreign.empty()) return;
  Count("output_pii", "flag");
  report->actions.push_back(absl::StrCat("output_pii_flagged:", Counts(foreign)));
}

}  // namespace tessera::gateway

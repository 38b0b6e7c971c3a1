// The configured guardrails applied to one request and its response:
//  - input: blocked terms and prompt injection (heuristics, and similarity to
//    known attacks once an embedder is set; block or flag), PII (mask to
//    placeholders, flag, or block);
//  - output: the caller's own masked values restored; PII the caller did not
//    send masked ("[REDACTED_EMAIL]") or flagged.
// Every action taken is reported (for AskResponse.guardrail_actions and the
// x-tessera-guardrails trailer) and counted in metrics. Thread-safe; the
// per-request state lives in a GuardrailReport.
#ifndef TESSERA_GATEWAY_GUARDRAIL_POLICY_H_
#define TESSERA_GATEWAY_GUARDRAIL_POLICY_H_

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/metrics.h"
#include "gateway/guardrails.h"
#include "gateway/known_attacks.h"
#include "gateway/router_config.h"
#include "tessera/generation/v1/generation.pb.h"

namespace tessera::gateway {

// One request's guardrail state.
struct GuardrailReport {
  // Placeholders sent to the model instead of the caller's values.
  PiiVault vault;
  // PII values the caller sent (masked or not): theirs to see in the answer.
  std::set<std::string> caller_values;
  // "input_pii_masked:EMAIL=1", "prompt_injection_flagged:ignore_instructions", ...
  std::vector<std::string> actions;
};

class GuardrailPolicy {
 public:
  static absl::StatusOr<std::unique_ptr<GuardrailPolicy>> Create(
      const GuardrailConfig& config, MetricsRegistry* metrics = &MetricsRegistry::Global());

  // Turns on the injection_similarity check of the config (without one the
  // check is off). Set before serving.
  void SetInjectionEmbedder(std::shared_ptr<Embedder> embedder);

  // Whether any guardrail is on (otherwise the methods below change nothing).
  bool active() const { return active_; }

  // Checks and (per config) masks the caller's texts in place. PermissionDenied
  // when a rule blocks the request.
  absl::Status ApplyToInput(const std::vector<std::string*>& texts, GuardrailReport* report) const;
  // The prompt and every message of a generation request.
  absl::Status ApplyToRequest(tessera::generation::v1::GenerateRequest* request,
                              GuardrailReport* report) const;

  // Context the gateway adds to a prompt (retrieved passages): PII is masked
  // into the same vault when input PII is masked; no blocking or flagging, as
  // the caller did not write it. The values are the tenant's own data, so the
  // answer may show them.
  void MaskContext(const std::vector<std::string*>& texts, GuardrailReport* report) const;

  // The caller's view of a whole response text.
  std::string ApplyToOutput(absl::string_view text, GuardrailReport* report) const;
  // After a stream whose pieces were unmasked with a StreamUnmasker on
  // report->vault: streamed text cannot be taken back, so PII the caller did
  // not send is flagged (never masked) here.
  void CheckStreamedOutput(absl::string_view text, GuardrailReport* report) const;

 private:
  GuardrailPolicy(const GuardrailConfig& config, MetricsRegistry* metrics);
  void Count(const std::string& guardrail, const std::string& action) const;
  // Replaces PII in `text` that the caller did not send; returns counts by type.
  std::string RedactForeignPii(absl::string_view text, const GuardrailReport& report,
                               std::map<PiiType, int>* foreign) const;

  const GuardrailConfig config_;
  MetricsRegistry* metrics_;
  PiiMasker masker_;
  std::unique_ptr<Denylist> denylist_;
  std::unique_ptr<KnownAttackMatcher> known_attacks_;
  bool active_ = false;
};

}  // namespace tessera::gateway

#endif  // TESSERA_GATEWAY_GUARDRAIL_POLICY_H_

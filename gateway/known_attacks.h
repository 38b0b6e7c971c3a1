// The embedding half of prompt-injection detection: a caller's text whose
// embedding is close (cosine >= threshold) to one of a list of known attacks
// is treated like a heuristic match (flag or block, per the guardrail's
// action). Catches paraphrases that the phrase heuristics of guardrails.h miss.
// Configured under the router's guardrails:
//
//   "guardrails": {"prompt_injection": "block",
//                  "injection_similarity": {"threshold": 0.85,
//                                           "attacks": ["..."],   // default: built in
//                                           "embedding_model": ""}}
//
// The attacks are embedded on first use (the in-process engine may not serve
// yet at start-up); while the embedder fails, texts are not checked, a warning
// is logged and embedding is retried at most every 10 s. Thread-safe.
#ifndef TESSERA_GATEWAY_KNOWN_ATTACKS_H_
#define TESSERA_GATEWAY_KNOWN_ATTACKS_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/embedder.h"

namespace tessera::gateway {

struct KnownAttackOptions {
  double threshold = 0.85;
  // Empty: DefaultKnownAttacks().
  std::vector<std::string> attacks;
  // Sent in EmbedRequest.model; empty: the engine's loaded embedder.
  std::string embedding_model;
};

// Well-known injection and jailbreak prompts (instruction overrides, system
// prompt extraction, role-play jailbreaks), paraphrased.
const std::vector<std::string>& DefaultKnownAttacks();

absl::Status ValidateKnownAttackOptions(const KnownAttackOptions& options, const std::string& path);

struct AttackMatch {
  size_t text_index = 0;    // which of the checked texts
  size_t attack_index = 0;  // which known attack
  double similarity = 0;
};

class KnownAttackMatcher {
 public:
  KnownAttackMatcher(KnownAttackOptions options, std::shared_ptr<Embedder> embedder);

  // The closest text/attack pair at or above the threshold, if any. An error
  // when the embedder fails (the caller decides; guardrails let the text pass).
  absl::StatusOr<std::optional<AttackMatch>> Check(const std::vector<std::string>& texts);

  const KnownAttackOptions& options() const { return options_; }

 private:
  // The attacks' unit embeddings, embedding them first if needed.
  absl::StatusOr<std::shared_ptr<const std::vector<std::vector<float>>>> Attacks();

  const KnownAttackOptions options_;
  const std::shared_ptr<Embedder> embedder_;
  absl::Mutex mu_;
  std::shared_ptr<const std::vector<std::vector<float>>> attacks_ ABSL_GUARDED_BY(mu_);
  absl::Time last_failure_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tessera::gateway

#endif  // TESSERA_GATEWAY_KNOWN_ATTACKS_H_

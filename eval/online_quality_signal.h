// The online evaluator as the router's canary QualitySignal: a variant's mean
// judge score mapped from 1-5 onto 0-1 ((mean - 1) / 4), so a route's
// max_quality_drop is a share of the scale (0.05 = a fifth of a point).
#ifndef TESSERA_EVAL_ONLINE_QUALITY_SIGNAL_H_
#define TESSERA_EVAL_ONLINE_QUALITY_SIGNAL_H_

#include <optional>
#include <string>

#include "eval/online_evaluator.h"
#include "gateway/routing_policy.h"

namespace tessera::eval {

class OnlineQualitySignal final : public gateway::QualitySignal {
 public:
  // `evaluator` must outlive the signal.
  explicit OnlineQualitySignal(const OnlineEvaluator* evaluator) : evaluator_(evaluator) {}

  std::optional<double> Score(absl::string_view route, absl::string_view variant) override {
    std::optional<double> mean = evaluator_->QualityScore(std::string(route), std::string(variant));
    if (!mean.has_value()) return std::nullopt;
    return (*mean - 1) / 4;
  }

 private:
  const OnlineEvaluator* evaluator_;
};

}  // namespace tessera::eval

#endif  // TESSERA_EVAL_ONLINE_QUALITY_SIGNAL_H_

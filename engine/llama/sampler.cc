#include "engine/llama/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tessera::llama {

absl::Status ValidateSamplingOptions(const SamplingOptions& options) {
  if (!std::isfinite(options.temperature) || options.temperature < 0) {
    return absl::InvalidArgumentError("temperature must be finite and >= 0");
  }
  if (options.top_k < 0) return absl::InvalidArgumentError("top_k must be >= 0");
  if (!(options.top_p > 0 && options.top_p <= 1)) {
    return absl::InvalidArgumentError("top_p must be in (0, 1]");
  }
  if (!std::isfinite(options.repetition_penalty) || options.repetition_penalty <= 0) {
    return absl::InvalidArgumentError("repetition_penalty must be > 0");
  }
  if (options.max_tokens < 0) return absl::InvalidArgumentError("max_tokens must be >= 0");
  if (options.top_logprobs < 0 || options.top_logprobs > 20) {
    return absl::InvalidArgumentError("top_logprobs must be in [0, 20]");
  }
  for (const std::string& stop : options.stop) {
    if (stop.empty()) return absl::InvalidArgumentError("stop sequences must not be empty");
  }
  return absl::OkStatus();
}

float LogSumExp(absl::Span<const float> values) {
  float max_value = -std::numeric_limits<float>::infinity();
  for (float v : values) max_value = std::max(max_value, v);
  if (!std::isfinite(max_value)) return max_value;
  double sum = 0;
  for (float v : values) sum += std::exp(static_cast<double>(v - max_value));
  return max_value + static_cast<float>(std::log(sum));
}

Sampler::Sampler(const SamplingOptions& options, int vocab_size)
    : options_(options),
      vocab_size_(vocab_size),
      rng_(options.seed),
      order_(vocab_size),
      probs_(vocab_size),
      seen_(vocab_size, 0) {}

float Sampler::LogProbs(absl::Span<const float> logits, int32_t token, int top_n,
                        std::vector<TokenLogprob>* top) {
  const float log_z = LogSumExp(logits);
  if (top != nullptr) {
    top->clear();
    top_n = std::min(top_n, vocab_size_);
    if (top_n > 0) {
      for (int i = 0; i < vocab_size_; ++i) order_[i] = i;
      // Ties go to the lower id, so the alternatives are deterministic.
      std::partial_sort(order_.begin(), order_.begin() + top_n, order_.end(),
                        [&](int32_t a, int32_t b) {
                          return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
                        });
      for (int i = 0; i < top_n; ++i) {
        // Masked-out tokens (-inf) are no alternatives; they sort last.
        if (std::isinf(logits[order_[i]])) break;
        top->push_back({order_[i], logits[order_[i]] - log_z});
      }
    }
  }
  return logits[token] - log_z;
}

int32_t Sampler::Sample(absl::Span<float> logits, absl::Span<const int32_t> history) {
  if (options_.repetition_penalty != 1.0f) {
    for (int32_t id : history) {
      if (id < 0 || id >= vocab_size_ || seen_[id]) continue;
      seen_[id] = 1;
      float& logit = logits[id];
      logit = logit > 0 ? logit / options_.repetition_penalty : logit * options_.repetition_penalty;
    }
    for (int32_t id : history) {
      if (id >= 0 && id < vocab_size_) seen_[id] = 0;
    }
  }
  if (options_.temperature == 0.0f || options_.top_k == 1) {
    int32_t best = 0;
    for (int i = 1; i < vocab_size_; ++i) {
      if (logits[i] > logits[best]) best = i;
    }
    return best;
  }
  for (int i = 0; i < vocab_size_; ++i) logits[i] /= options_.temperature;
  for (int i = 0; i < vocab_size_; ++i) order_[i] = i;
  auto by_logit = [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  };
  int candidates = vocab_size_;
  if (options_.top_k > 0 && options_.top_k < vocab_size_) {
    candidates = options_.top_k;
    std::partial_sort(order_.begin(), order_.begin() + candidates, order_.end(), by_logit);
  } else if (options_.top_p < 1.0f) {
    std::sort(order_.begin(), order_.end(), by_logit);
  }
  // Softmax over the candidates.
  float max_logit = -std::numeric_limits<float>::infinity();
  for (int i = 0; i < candidates; ++i) max_logit = std::max(max_logit, logits[order_[i]]);
  double total = 0;
  for (int i = 0; i < candidates; ++i) {
    probs_[i] = std::exp(logits[order_[i]] - max_logit);
    total += probs_[i];
  }
  for (int i = 0; i < candidates; ++i) probs_[i] = static_cast<float>(probs_[i] / total);
  if (options_.top_p < 1.0f) {
    // `order_` is sorted here (top-k sorted the first k).
    double cumulative = 0;
    int keep = 0;
    while (keep < candidates) {
      cumulative += probs_[keep++];
      if (cumulative >= options_.top_p) break;
    }
    candidates = keep;
    total = cumulative;
  } else {
    total = 1.0;
  }
  // 53 random bits -> [0, 1): the same on every platform, unlike the
  // distributions of <random>.
  const double u = static_cast<double>(rng_() >> 11) * (1.0 / 9007199254740992.0) * total;
  double cumulative = 0;
  for (int i = 0; i < candidates; ++i) {
    cumulative += probs_[i];
    if (u < cumulative) return order_[i];
  }
  return order_[candidates - 1];
}

}  // namespace tessera::llama

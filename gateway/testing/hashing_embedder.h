// A deterministic embedder for tests: a bag of lower-cased words, each hashed
// (FNV-1a) into one of `dimension` buckets. Texts sharing words are close.
#ifndef TESSERA_GATEWAY_TESTING_HASHING_EMBEDDER_H_
#define TESSERA_GATEWAY_TESTING_HASHING_EMBEDDER_H_

#include <atomic>
#include <cctype>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gateway/embedder.h"

namespace tessera::gateway::testing {

class HashingEmbedder : public Embedder {
 public:
  explicit HashingEmbedder(size_t dimension = 256) : dimension_(dimension) {}

  absl::StatusOr<std::vector<std::vector<float>>> Embed(
      const std::vector<std::string>& texts) override {
    calls_.fetch_add(1);
    if (fail_) return absl::UnavailableError("test embedder: no model loaded");
    std::vector<std::vector<float>> out;
    for (const std::string& text : texts) {
      std::vector<float> vector(dimension_, 0.0f);
      std::string word;
      for (size_t i = 0; i <= text.size(); ++i) {
        const unsigned char c = i < text.size() ? text[i] : ' ';
        if (std::isalnum(c)) {
          word.push_back(static_cast<char>(std::tolower(c)));
        } else if (!word.empty()) {
          vector[Fnv1a(word) % dimension_] += 1.0f;
          word.clear();
        }
      }
      out.push_back(std::move(vector));
    }
    return out;
  }

  void set_fail(bool fail) { fail_ = fail; }
  int calls() const { return calls_.load(); }

 private:
  static uint64_t Fnv1a(const std::string& word) {
    uint64_t hash = 1469598103934665603ull;
    for (unsigned char c : word) hash = (hash ^ c) * 1099511628211ull;
    return hash;
  }

  const size_t dimension_;
  std::atomic<bool> fail_{false};
  std::atomic<int> calls_{0};
};

}  // namespace tessera::gateway::testing

#endif  // TESSERA_GATEWAY_TESTING_HASHING_EMBEDDER_H_

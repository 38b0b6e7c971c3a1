// The model interfaces retrieval needs, implemented by the engine's encoders (and
// by anything else that can embed text or score pairs, e.g. a remote gateway).
#ifndef TESSERA_RETRIEVAL_TEXT_MODELS_H_
#define TESSERA_RETRIEVAL_TEXT_MODELS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace tessera::retrieval {

// Turns texts into fixed-dimension vectors (a collection's embedding model).
class Embedder {
 public:
  virtual ~Embedder() = default;
  virtual std::string name() const = 0;
  virtual int dimension() const = 0;
  // One vector per text, in order. Must be thread-safe.
  virtual absl::StatusOr<std::vector<std::vector<float>>> Embed(
      absl::Span<const std::string> texts) const = 0;
};

// Scores how relevant each passage is to a query (a cross-encoder); higher is
// more relevant. Must be thread-safe.
class Reranker {
 public:
  virtual ~Reranker() = default;
  virtual std::string name() const = 0;
  virtual absl::StatusOr<std::vector<float>> Score(absl::string_view query,
                                                   absl::Span<const std::string> passages) const = 0;
};

}  // namespace tessera::retrieval

#endif  // TESSERA_RETRIEVAL_TEXT_MODELS_H_

// Text embeddings for the router's own decisions (intent classes, the semantic
// cache, the prompt-injection similarity check): the Embedder interface, one
// over a generation backend's Embed call, and the vector helpers they share.
#ifndef TESSERA_GATEWAY_EMBEDDER_H_
#define TESSERA_GATEWAY_EMBEDDER_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "tessera/generation/v1/generation.pb.h"

namespace tessera::gateway {

// Turns texts into vectors of one dimension; one vector per text, in order.
class Embedder {
 public:
  virtual ~Embedder() = default;
  virtual absl::StatusOr<std::vector<std::vector<float>>> Embed(
      const std::vector<std::string>& texts) = 0;
};

// Embeds through a generation backend's Embed call (the local engine).
// `embed` is that call; kept as a function so callers do not depend on the
// backend types.
class FunctionEmbedder : public Embedder {
 public:
  using EmbedFn = std::function<absl::StatusOr<tessera::generation::v1::EmbedResponse>(
      const tessera::generation::v1::EmbedRequest&)>;
  FunctionEmbedder(std::string model, EmbedFn embed)
      : model_(std::move(model)), embed_(std::move(embed)) {}
  absl::StatusOr<std::vector<std::vector<float>>> Embed(
      const std::vector<std::string>& texts) override;

 private:
  std::string model_;
  EmbedFn embed_;
};

// Scales `vector` to unit length; false when it has none (all zeros, NaN).
bool NormalizeEmbedding(std::vector<float>& vector);

// The dot product (the cosine, for unit vectors); the sizes must be equal.
double Dot(absl::Span<const float> a, absl::Span<const float> b);

// Embeds `texts` and normalises every vector; an error when the embedder fails
// or returns the wrong count, mixed dimensions or a vector without direction.
absl::StatusOr<std::vector<std::vector<float>>> EmbedNormalized(Embedder& embedder,
                                                                const std::vector<std::string>& texts);

// The text a request is about: the last user message, else the prompt.
std::string QuestionText(const tessera::generation::v1::GenerateRequest& request);

}  // namespace tessera::gateway

#endif  // TESSERA_GATEWAY_EMBEDDER_H_

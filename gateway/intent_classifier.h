// The intent router's classifier: labelled example texts from a route's
// "intent" config are embedded once, one centroid per class (the mean of the
// L2-normalised embeddings, normalised again); a query goes to the class of the
// nearest centroid by cosine, or to the default target when no centroid
// reaches `min_similarity`.
#ifndef TESSERA_GATEWAY_INTENT_CLASSIFIER_H_
#define TESSERA_GATEWAY_INTENT_CLASSIFIER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gateway/embedder.h"
#include "tessera/generation/v1/generation.pb.h"

namespace tessera::gateway {

struct IntentExample {
  std::string text;
  std::string label;  // "class" in the config
};

// A route's "intent" object:
//   "intent": {"examples": [{"text": "refund my invoice", "class": "billing"}, ...],
//              "classes": {"billing": "vllm", "chitchat": "local"},
//              "default": "local", "min_similarity": 0.3,
//              "embedding_model": ""}
// Classes and the default name backends; the picked backend is tried first
// (with the model of the route's target on it, if any), then the route's usual
// attempts.
struct IntentOptions {
  std::vector<IntentExample> examples;
  std::map<std::string, std::string> class_backends;
  std::string default_backend;
  // Cosine below which the default backend is used.
  double min_similarity = 0;
  // Sent in EmbedRequest.model; empty: the engine's loaded embedder.
  std::string embedding_model;
};

// Checks the options on their own (not the backend names); `path` prefixes
// error messages.
absl::Status ValidateIntentOptions(const IntentOptions& options, const std::string& path);

struct IntentDecision {
  std::string label;  // "default" when below min_similarity
  std::string backend;
  double similarity = 0;  // with the nearest centroid
};

class IntentClassifier {
 public:
  // Embeds the examples and builds the centroids. Fails when the embedder does,
  // or returns vectors of the wrong count, mixed dimensions or zero length.
  static absl::StatusOr<IntentClassifier> Train(const IntentOptions& options, Embedder& embedder);

  // Embeds `text` and picks its class.
  absl::StatusOr<IntentDecision> Classify(absl::string_view text, Embedder& embedder) const;
  // Picks the class of an already computed embedding.
  absl::StatusOr<IntentDecision> Nearest(const std::vector<float>& embedding) const;

  size_t dimension() const { return dimension_; }

 private:
  IntentClassifier() = default;
  std::vector<std::string> labels_;
  std::vector<std::vector<float>> centroids_;  // unit length, one per label
  std::map<std::string, std::string> class_backends_;
  std::string default_backend_;
  double min_similarity_ = 0;
  size_t dimension_ = 0;
};

}  // namespace tessera::gateway

#endif  // TESSERA_GATEWAY_INTENT_CLASSIFIER_H_

#include "gateway/intent_classifier.h"

#include <cmath>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"

namespace tessera::gateway {
namespace {

constexpr char kDefaultLabel[] = "default";

absl::Status Error(const std::string& path, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", message));
}

}  // namespace

absl::Status ValidateIntentOptions(const IntentOptions& options, const std::string& path) {
  if (options.examples.empty()) return Error(path + ".examples", "must not be empty");
  if (options.class_backends.empty()) return Error(path + ".classes", "must not be empty");
  if (options.default_backend.empty()) return Error(path + ".default", "must name a backend");
  if (!(options.min_similarity >= -1 && options.min_similarity <= 1)) {
    return Error(path + ".min_similarity", "must be within [-1, 1]");
  }
  std::set<std::string> with_examples;
  for (size_t i = 0; i < options.examples.size(); ++i) {
    const IntentExample& example = options.examples[i];
    const std::string at = absl::StrCat(path, ".examples[", i, "]");
    if (example.text.empty()) return Error(at + ".text", "must not be empty");
    if (!options.class_backends.count(example.label)) {
      return Error(at + ".class", absl::StrCat("\"", example.label, "\" is not in classes"));
    }
    with_examples.insert(example.label);
  }
  for (const auto& [label, backend] : options.class_backends) {
    if (label == kDefaultLabel) {
      return Error(path + ".classes", "\"default\" is reserved for the default target");
    }
    if (backend.empty()) return Error(absl::StrCat(path, ".classes.", label), "must name a backend");
    if (!with_examples.count(label)) {
      return Error(absl::StrCat(path, ".classes.", label), "has no examples");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<IntentClassifier> IntentClassifier::Train(const IntentOptions& options,
                                                         Embedder& embedder) {
  absl::Status valid = ValidateIntentOptions(options, "intent");
  if (!valid.ok()) return valid;
  std::vector<std::string> texts;
  texts.reserve(options.examples.size());
  for (const IntentExample& example : options.examples) texts.push_back(example.text);
  // The texts are the examples in order, so errors name example i.
  auto embedded = EmbedNormalized(embedder, texts);
  if (!embedded.ok()) return embedded.status();
  IntentClassifier classifier;
  classifier.class_backends_ = options.class_backends;
  classifier.default_backend_ = options.default_backend;
  classifier.min_similarity_ = options.min_similarity;
  classifier.dimension_ = embedded->front().size();
  std::map<std::string, std::vector<double>> sums;
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::vector<float>& vector = (*embedded)[i];
    std::vector<double>& sum = sums[options.examples[i].label];
    sum.resize(classifier.dimension_, 0.0);
    for (size_t d = 0; d < vector.size(); ++d) sum[d] += vector[d];
  }
  for (const auto& [label, sum] : sums) {
    std::vector<float> centroid(sum.begin(), sum.end());
    // Opposite examples of one class can cancel out; such a class cannot be
    // told apart from anything, which is a config error worth naming.
    if (!NormalizeEmbedding(centroid)) {
      return absl::InvalidArgumentError(
          absl::StrCat("the examples of class \"", label, "\" cancel out (zero centroid)"));
    }
    classifier.labels_.push_back(label);
    classifier.centroids_.push_back(std::move(centroid));
  }
  return classifier;
}

absl::StatusOr<IntentDecision> IntentClassifier::Nearest(const std::vector<float>& embedding) const {
  std::vector<float> query = embedding;
  if (query.size() != dimension_) {
    return absl::InternalError(absl::StrCat("query embedding has dimension ", query.size(),
                                            ", the centroids ", dimension_));
  }
  IntentDecision decision;
  decision.label = kDefaultLabel;
  decision.backend = default_backend_;
  // A query with no direction (empty text embedded to zeros) is like no match.
  if (!NormalizeEmbedding(query)) return decision;
  double best = -2;
  size_t best_index = 0;
  for (size_t c = 0; c < centroids_.size(); ++c) {
    const double dot = Dot(query, centroids_[c]);
    if (dot > best) {
      best = dot;
      best_index = c;
    }
  }
  decision.similarity = best;
  if (best >= min_similarity_) {
    decision.label = labels_[best_index];
    decision.backend = class_backends_.at(decision.label);
  }
  return decision;
}

absl::StatusOr<IntentDecision> IntentClassifier::Classify(absl::string_view text,
                                                          Embedder& embedder) const {
  auto embedded = embedder.Embed({std::string(text)});
  if (!embedded.ok()) return embedded.status();
  if (embedded->size() != 1) {
    return absl::InternalError(
        absl::StrCat("the embedder returned ", embedded->size(), " vectors for one query"));
  }
  return Nearest(embedded->front());
}

}  // namespace tessera::gateway

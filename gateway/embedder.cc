#include "gateway/embedder.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace tessera::gateway {

absl::StatusOr<std::vector<std::vector<float>>> FunctionEmbedder::Embed(
    const std::vector<std::string>& texts) {
  tessera::generation::v1::EmbedRequest request;
  request.set_model(model_);
  for (const std::string& text : texts) request.add_inputs(text);
  auto response = embed_(request);
  if (!response.ok()) return response.status();
  std::vector<std::vector<float>> out;
  out.reserve(response->embeddings_size());
  for (const auto& embedding : response->embeddings()) {
    out.emplace_back(embedding.values().begin(), embedding.values().end());
  }
  return out;
}

bool NormalizeEmbedding(std::vector<float>& vector) {
  double norm_squared = 0;
  for (float value : vector) norm_squared += static_cast<double>(value) * value;
  if (!(norm_squared > 0) || !std::isfinite(norm_squared)) return false;
  const double inverse = 1.0 / std::sqrt(norm_squared);
  for (float& value : vector) value = static_cast<float>(value * inverse);
  return true;
}

double Dot(absl::Span<const float> a, absl::Span<const float> b) {
  double dot = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) dot += static_cast<double>(a[i]) * b[i];
  return dot;
}

absl::StatusOr<std::vector<std::vector<float>>> EmbedNormalized(
    Embedder& embedder, const std::vector<std::string>& texts) {
  auto embedded = embedder.Embed(texts);
  if (!embedded.ok()) return embedded.status();
  if (embedded->size() != texts.size()) {
    return absl::InternalError(absl::StrCat("the embedder returned ", embedded->size(),
                                            " vectors for ", texts.size(), " texts"));
  }
  const size_t dimension = embedded->empty() ? 0 : embedded->front().size();
  for (size_t i = 0; i < texts.size(); ++i) {
    std::vector<float>& vector = (*embedded)[i];
    if (vector.size() != dimension || !NormalizeEmbedding(vector)) {
      return absl::InternalError(absl::StrCat("the embedding of text ", i, " (\"", texts[i],
                                              "\") is empty, zero or of another dimension"));
    }
  }
  return embedded;
}

std::string QuestionText(const tessera::generation::v1::GenerateRequest& request) {
  for (int i = request.messages_size() - 1; i >= 0; --i) {
    if (request.messages(i).role() == "user") return request.messages(i).content();
  }
  return request.prompt();
}

}  // namespace tessera::gateway

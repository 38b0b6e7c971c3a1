#include "services/model_loader.h"

#include <filesystem>

#include <thread>

#include "absl/strings/str_cat.h"

namespace tessera::services {
namespace {

namespace fs = std::filesystem;

constexpr char kDefaultEmbedder[] = "all-MiniLM-L6-v2";

// Adapters: the registry owns the encoders, retrieval borrows them.
class BertEmbedder : public retrieval::Embedder {
 public:
  BertEmbedder(std::string name, const bert::BertEncoder* encoder)
      : name_(std::move(name)), encoder_(encoder) {}
  std::string name() const override { return name_; }
  int dimension() const override { return encoder_->embedding_dimension(); }
  absl::StatusOr<std::vector<std::vector<float>>> Embed(
      absl::Span<const std::string> texts) const override {
    return encoder_->Embed(texts);
  }

 private:
  std::string name_;
  const bert::BertEncoder* encoder_;
};

class BertReranker : public retrieval::Reranker {
 public:
  BertReranker(std::string name, const bert::BertEncoder* encoder)
      : name_(std::move(name)), encoder_(encoder) {}
  std::string name() const override { return name_; }
  absl::StatusOr<std::vector<float>> Score(absl::string_view query,
                                           absl::Span<const std::string> passages) const override {
    return encoder_->Score(query, passages);
  }

 private:
  std::string name_;
  const bert::BertEncoder* encoder_;
};

// A path as given, or a directory of that name inside models_dir.
std::string Resolve(const std::string& models_dir, const std::string& name) {
  if (fs::exists(name) || models_dir.empty()) return name;
  return (fs::path(models_dir) / name).string();
}

bool HasWeights(const fs::path& dir) {
  return fs::exists(dir / "model.safetensors") || fs::exists(dir / "model.safetensors.index.json");
}

}  // namespace

absl::StatusOr<LoadedModels> LoadModels(const ServerConfig& config) {
  LoadedModels models;
  std::string embedder_path;
  if (!config.embedder_model.empty()) {
    embedder_path = Resolve(config.models_dir, config.embedder_model);
  } else if (!config.models_dir.empty()) {
    const fs::path candidate = fs::path(config.models_dir) / kDefaultEmbedder;
    if (HasWeights(candidate)) {
      embedder_path = candidate.string();
    } else if (fs::exists(candidate)) {
      models.embedder_note = absl::StrCat(candidate.string(),
                                          " has a config and tokenizer but no weights "
                                          "(model.safetensors); dense search is off");
    }
  }
  if (embedder_path.empty() && models.embedder_note.empty()) {
    models.embedder_note = "no embedding model configured; dense search is off";
  }
  if (!embedder_path.empty()) {
    auto encoder = bert::BertEncoder::Load(embedder_path);
    if (!encoder.ok()) {
      return absl::Status(encoder.status().code(),
                          absl::StrCat("embedder ", embedder_path, ": ", encoder.status().message()));
    }
    models.embedder_encoder = std::move(*encoder);
    models.served.embedder = models.embedder_encoder.get();
    models.served.embedder_name = fs::path(embedder_path).filename().string();
    models.served.embedder_path = embedder_path;
    models.embedder = std::make_unique<BertEmbedder>(models.served.embedder_name,
                                                     models.embedder_encoder.get());
  }
  if (!config.reranker_model.empty()) {
    const std::string path = Resolve(config.models_dir, config.reranker_model);
    auto encoder = bert::BertEncoder::Load(path);
    if (!encoder.ok()) {
      return absl::Status(encoder.status().code(),
                          absl::StrCat("reranker ", path, ": ", encoder.status().message()));
    }
    if (!(*encoder)->has_classifier()) {
      return absl::InvalidArgumentError(
          absl::StrCat("reranker ", path, " has no classification head (not a cross-encoder)"));
    }
    models.reranker_encoder = std::move(*encoder);
    models.served.reranker = models.reranker_encoder.get();
    models.served.reranker_name = fs::path(path).filename().string();
    models.served.reranker_path = path;
    models.reranker = std::make_unique<BertReranker>(models.served.reranker_name,
                                                     models.reranker_encoder.get());
  } else {
    models.reranker_note = "no cross-encoder configured; reranking is off";
  }
  if (!config.generator_model.empty()) {
    const std::string path = Resolve(config.models_dir, config.generator_model);
    llama::LlamaLoadOptions options;
    options.num_threads = std::max(1u, std::thread::hardware_concurrency());
    auto generator = llama::LlamaModel::Load(path, options);
    if (!generator.ok()) {
      return absl::Status(generator.status().code(),
                          absl::StrCat("generator ", path, ": ", generator.status().message()));
    }
    models.generator = std::move(*generator);
    models.served.generator = models.generator.get();
    models.served.generator_name = fs::path(path).filename().string();
    models.served.generator_path = path;
    engine::GeneratorServingConfig& serving = models.served.generator_serving;
    serving.batching = config.generator_batching;
    serving.device = config.generator_device;
    serving.kv_cache_mb = config.kv_cache_mb;
    serving.kv_block_size = config.kv_block_size;
    serving.max_batch_tokens = config.max_batch_tokens;
    serving.max_running = config.max_running_sequences;
    serving.speculative_tokens = config.speculative_tokens;
  }
  return models;
}

}  // namespace tessera::services

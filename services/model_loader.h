// The model registry: loads the models named in the server configuration once
// (embedder, reranker, generator) and hands them to the generation service and,
// adapted, to retrieval. A model is named by a path, or by a directory name inside
// models_dir; with no embedder named, models_dir/all-MiniLM-L6-v2 is used when its
// weights are there.
#ifndef TESSERA_SERVICES_MODEL_LOADER_H_
#define TESSERA_SERVICES_MODEL_LOADER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/bert/bert_encoder.h"
#include "engine/generation_service.h"
#include "engine/llama/llama_model.h"
#include "retrieval/text_models.h"
#include "services/server_config.h"

namespace tessera::services {

struct LoadedModels {
  std::unique_ptr<bert::BertEncoder> embedder_encoder;
  std::unique_ptr<bert::BertEncoder> reranker_encoder;
  std::unique_ptr<llama::LlamaModel> generator;
  // What the generation service serves (pointers into the models above).
  engine::ServedModels served;
  // The encoders as retrieval sees them; null: none configured/available.
  std::unique_ptr<retrieval::Embedder> embedder;
  std::unique_ptr<retrieval::Reranker> reranker;
  // Why a role has no model, for logs and error messages.
  std::string embedder_note;
  std::string reranker_note;
};

// Errors only for a model that was named explicitly and cannot be loaded.
absl::StatusOr<LoadedModels> LoadModels(const ServerConfig& config);

}  // namespace tessera::services

#endif  // TESSERA_SERVICES_MODEL_LOADER_H_

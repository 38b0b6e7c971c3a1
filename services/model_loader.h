// Loads the encoder models named in the server configuration and adapts them to
// the interfaces retrieval uses. A model is named by a path, or by a directory
// name inside models_dir; with no embedder named, models_dir/all-MiniLM-L6-v2 is
// used when its weights are there.
#ifndef TESSERA_SERVICES_MODEL_LOADER_H_
#define TESSERA_SERVICES_MODEL_LOADER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "retrieval/text_models.h"
#include "services/server_config.h"

namespace tessera::services {

struct LoadedModels {
  std::unique_ptr<retrieval::Embedder> embedder;  // null: none configured/available
  std::unique_ptr<retrieval::Reranker> reranker;  // null: none configured
  // Why a role has no model, for logs and error messages.
  std::string embedder_note;
  std::string reranker_note;
};

// Errors only for a model that was named explicitly and cannot be loaded.
absl::StatusOr<LoadedModels> LoadEncoderModels(const ServerConfig& config);

}  // namespace tessera::services

#endif  // TESSERA_SERVICES_MODEL_LOADER_H_

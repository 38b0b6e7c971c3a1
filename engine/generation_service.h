// tessera.generation.v1.GenerationService over the loaded models: text generation
// (unary and streamed) with the LLaMA-family generator, embeddings with the BERT
// embedder, cross-encoder scores, tokenization and the model list.
#ifndef TESSERA_ENGINE_GENERATION_SERVICE_H_
#define TESSERA_ENGINE_GENERATION_SERVICE_H_

#include <string>

#include "absl/synchronization/mutex.h"
#include "engine/bert/bert_encoder.h"
#include "engine/llama/llama_model.h"
#include "tessera/generation/v1/generation.grpc.pb.h"

namespace tessera::engine {

// The models the service serves; any may be null (its RPCs then answer
// FAILED_PRECONDITION). Not owned; they must outlive the service.
struct ServedModels {
  const llama::LlamaModel* generator = nullptr;
  std::string generator_name;
  std::string generator_path;
  const bert::BertEncoder* embedder = nullptr;
  std::string embedder_name;
  std::string embedder_path;
  const bert::BertEncoder* reranker = nullptr;
  std::string reranker_name;
  std::string reranker_path;
};

class GenerationServiceImpl final : public generation::v1::GenerationService::Service {
 public:
  explicit GenerationServiceImpl(ServedModels models) : models_(std::move(models)) {}

  grpc::Status Generate(grpc::ServerContext* context, const generation::v1::GenerateRequest* request,
                        generation::v1::GenerateResponse* response) override;
  grpc::Status GenerateStream(grpc::ServerContext* context,
                              const generation::v1::GenerateRequest* request,
                              grpc::ServerWriter<generation::v1::GenerateStreamResponse>* writer)
      override;
  grpc::Status Embed(grpc::ServerContext* context, const generation::v1::EmbedRequest* request,
                     generation::v1::EmbedResponse* response) override;
  grpc::Status Score(grpc::ServerContext* context, const generation::v1::ScoreRequest* request,
                     generation::v1::ScoreResponse* response) override;
  grpc::Status Tokenize(grpc::ServerContext* context, const generation::v1::TokenizeRequest* request,
                        generation::v1::TokenizeResponse* response) override;
  grpc::Status ListModels(grpc::ServerContext* context,
                          const generation::v1::ListModelsRequest* request,
                          generation::v1::ListModelsResponse* response) override;

 private:
  ServedModels models_;
};

}  // namespace tessera::engine

#endif  // TESSERA_ENGINE_GENERATION_SERVICE_H_

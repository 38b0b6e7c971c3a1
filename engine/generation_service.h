// tessera.generation.v1.GenerationService over the loaded models: text generation
// (unary and streamed) with the LLaMA-family generator, embeddings with the BERT
// embedder, cross-encoder scores, tokenization and the model list.
#ifndef TESSERA_ENGINE_GENERATION_SERVICE_H_
#define TESSERA_ENGINE_GENERATION_SERVICE_H_

#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "engine/bert/bert_encoder.h"
#include "engine/llama/llama_model.h"
#include "engine/serving/serving_engine.h"
#include "tessera/generation/v1/generation.grpc.pb.h"

namespace tessera::engine {

// How generation requests reach the generator: through the continuous-batching
// serving engine (engine/serving), so concurrent requests share each step, or
// one at a time through LlamaModel::Generate.
struct GeneratorServingConfig {
  bool batching = true;
  std::string device = "auto";  // "auto", "cpu" or "cuda".
  // KV pool size in MiB (capped at what max_running full-context sequences
  // need), and positions per block.
  int kv_cache_mb = 256;
  int kv_block_size = 16;
  int max_batch_tokens = 256;
  int max_running = 32;
  // n-gram prompt-lookup speculative decoding: tokens proposed per step (0 = off).
  int speculative_tokens = 0;
};

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
  GeneratorServingConfig generator_serving;
};

class GenerationServiceImpl final : public generation::v1::GenerationService::Service {
 public:
  // Starts the serving engine when models.generator_serving.batching is set
  // (falling back to one-at-a-time generation, with a warning, if it cannot).
  explicit GenerationServiceImpl(ServedModels models);
  ~GenerationServiceImpl() override;

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
  // Runs a request on the serving engine, streaming tokens to `on_token` (on
  // the calling thread) and cancelling it when the client goes away or its
  // deadline passes. Not OK with RESOURCE_EXHAUSTED when it can never fit the
  // KV pool (the caller then generates directly).
  absl::StatusOr<serving::Completion> GenerateBatched(
      grpc::ServerContext* context, const std::vector<int32_t>& prompt,
      const llama::SamplingOptions& options,
      const std::function<bool(const serving::StreamedToken&)>& on_token);

  // The generation of both RPCs: through the serving engine when there is one,
  // else (or for a request larger than its KV pool) LlamaModel::Generate.
  grpc::Status RunGenerator(grpc::ServerContext* context, const std::vector<int32_t>& prompt,
                            const llama::SamplingOptions& options,
                            const llama::TokenCallback& on_token, double* queue_ms,
                            llama::GenerationResult* result);

  ServedModels models_;
  std::unique_ptr<serving::ServingEngine> serving_;
};

}  // namespace tessera::engine

#endif  // TESSERA_ENGINE_GENERATION_SERVICE_H_

#include "engine/generation_service.h"

#include <chrono>
#include <deque>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/grpc_status.h"
#include "common/logging.h"
#include "engine/chat_generation.h"
#include "engine/serving/executor_factory.h"

namespace tessera::engine {
namespace {

using generation::v1::FinishReason;

constexpr int kMaxEmbedInputs = 1024;
constexpr int kMaxScorePassages = 1024;

grpc::Status Unavailable(const std::string& role) {
  return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                      absl::StrCat("no ", role, " model is loaded; name one in the server "
                                   "config (", role, "_model) or in --models_dir"));
}

// The model a request names must be the loaded one (or unnamed).
grpc::Status CheckModelName(const std::string& requested, const std::string& loaded) {
  if (requested.empty() || requested == loaded) return grpc::Status::OK;
  return grpc::Status(grpc::StatusCode::NOT_FOUND,
                      absl::StrCat("model \"", requested, "\" is not served here (loaded: \"",
                                   loaded, "\")"));
}

FinishReason ToFinishReason(const std::string& reason) {
  if (reason == "eos" || reason == "stop") return generation::v1::STOP;
  if (reason == "length") return generation::v1::LENGTH;
  if (reason == "cancelled") return generation::v1::CANCELLED;
  return generation::v1::FINISH_REASON_UNSPECIFIED;
}

// The prompt's token ids: raw prompt text (with BOS) or chat messages rendered
// with the Llama-2 chat template.
absl::StatusOr<std::vector<int32_t>> PromptIds(const llama::LlamaModel& model,
                                               const generation::v1::GenerateRequest& request) {
  const tokenizer::Tokenizer* tok = model.tokenizer();
  if (tok == nullptr) {
    return absl::FailedPreconditionError("the generator's files hold no tokenizer");
  }
  if (!request.prompt().empty() && request.messages_size() > 0) {
    return absl::InvalidArgumentError("give either prompt or messages, not both");
  }
  if (request.messages_size() > 0) {
    return ChatPromptIds(model, std::vector<common::v1::Message>(request.messages().begin(),
                                                                 request.messages().end()));
  }
  if (request.prompt().empty()) return absl::InvalidArgumentError("prompt or messages is required");
  return tok->Encode(request.prompt(), /*add_special_tokens=*/true);
}

// The piece text of a token id ("" for an id the tokenizer does not know).
std::string PieceOf(const tokenizer::Tokenizer* tok, int32_t id) {
  if (tok == nullptr) return "";
  return tok->IdToPiece(id).value_or("");
}

void FillToken(const llama::LlamaModel& model, int32_t token, const std::string& text,
               float logprob, const std::vector<llama::TokenLogprob>& top, bool with_logprobs,
               generation::v1::GeneratedToken* out) {
  out->set_token_id(token);
  out->set_text(text);
  if (!with_logprobs) return;
  out->set_logprob(logprob);
  for (const llama::TokenLogprob& alternative : top) {
    auto* entry = out->add_top_logprobs();
    entry->set_token_id(alternative.token);
    entry->set_logprob(alternative.logprob);
    entry->set_token(PieceOf(model.tokenizer(), alternative.token));
  }
}

void FillUsageAndTimings(const llama::GenerationResult& result, double queue_ms, double total_ms,
                         common::v1::Usage* usage, generation::v1::Timings* timings) {
  usage->set_prompt_tokens(result.timings.prompt_tokens);
  usage->set_completion_tokens(result.timings.generated_tokens);
  usage->set_total_tokens(result.timings.prompt_tokens + result.timings.generated_tokens);
  timings->set_ttft_ms(result.timings.prefill_seconds * 1000);
  timings->set_tpot_ms(result.timings.decode_tokens_per_second > 0
                           ? 1000.0 / result.timings.decode_tokens_per_second
                           : 0.0);
  timings->set_total_ms(total_ms);
  timings->set_queue_ms(queue_ms);
}

double MillisSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

// The KV pool for `config`: kv_cache_mb of blocks, but no more than
// max_running sequences of the whole context need.
serving::KvCacheGeometry PoolGeometry(const llama::LlamaHParams& h,
                                      const GeneratorServingConfig& config) {
  serving::KvCacheGeometry geometry;
  geometry.block_size = std::max(1, config.kv_block_size);
  const int64_t block_bytes = int64_t{2} * h.num_layers * geometry.block_size * h.num_kv_heads *
                              h.head_dim * static_cast<int64_t>(sizeof(float));
  const int64_t by_memory = (int64_t{std::max(1, config.kv_cache_mb)} << 20) / block_bytes;
  const int64_t per_sequence = (h.context_length + geometry.block_size - 1) / geometry.block_size;
  const int64_t by_demand = per_sequence * std::max(1, config.max_running);
  geometry.num_blocks = static_cast<int>(std::max<int64_t>(4, std::min(by_memory, by_demand)));
  return geometry;
}

}  // namespace

GenerationServiceImpl::GenerationServiceImpl(ServedModels models) : models_(std::move(models)) {
  const GeneratorServingConfig& config = models_.generator_serving;
  if (models_.generator == nullptr || !config.batching) return;
  const serving::KvCacheGeometry geometry = PoolGeometry(models_.generator->hparams(), config);
  auto executor = serving::NewExecutor(*models_.generator, geometry, config.device);
  if (!executor.ok()) {
    spdlog::warn("generator batching off: {}", executor.status().ToString());
    return;
  }
  serving::ServingOptions options;
  options.max_batch_tokens = config.max_batch_tokens;
  options.max_running = config.max_running;
  options.speculative_tokens = config.speculative_tokens;
  const std::string device = (*executor)->device_name();
  auto engine = serving::ServingEngine::Create(*models_.generator, std::move(*executor), options);
  if (!engine.ok()) {
    spdlog::warn("generator batching off: {}", engine.status().ToString());
    return;
  }
  serving_ = std::move(*engine);
  spdlog::info("generator batching on {}: {} KV blocks of {} positions", device,
               geometry.num_blocks, geometry.block_size);
}

GenerationServiceImpl::~GenerationServiceImpl() = default;

absl::StatusOr<serving::Completion> GenerationServiceImpl::GenerateBatched(
    grpc::ServerContext* context, const std::vector<int32_t>& prompt,
    const llama::SamplingOptions& options,
    const std::function<bool(const serving::StreamedToken&)>& on_token) {
  // Tokens pass from the engine's thread to this one through a queue, so a
  // slow client never holds up the batch.
  struct Channel {
    absl::Mutex mu;
    std::deque<serving::StreamedToken> tokens ABSL_GUARDED_BY(mu);
  };
  auto channel = std::make_shared<Channel>();
  serving::SubmitOptions submit;
  const auto deadline = context->deadline();
  if (deadline < std::chrono::system_clock::now() + std::chrono::hours(24 * 365)) {
    submit.deadline = absl::FromChrono(deadline);
  }
  if (on_token) {
    submit.on_token = [channel](const serving::StreamedToken& token) {
      absl::MutexLock lock(&channel->mu);
      channel->tokens.push_back(token);
      return true;
    };
  }
  auto request = serving_->Submit(prompt, options, std::move(submit));
  if (!request.ok()) return request.status();
  bool cancelled = false;
  auto drain = [&] {
    std::deque<serving::StreamedToken> ready;
    {
      absl::MutexLock lock(&channel->mu);
      ready.swap(channel->tokens);
    }
    for (const serving::StreamedToken& token : ready) {
      if (!cancelled && on_token && !on_token(token)) {
        cancelled = true;
        (*request)->Cancel();
      }
    }
  };
  while (!(*request)->WaitFor(absl::Milliseconds(on_token ? 5 : 20))) {
    drain();
    if (!cancelled && context->IsCancelled()) {
      cancelled = true;
      (*request)->Cancel();
    }
  }
  drain();
  serving::Completion completion = (*request)->Wait();
  if (!completion.status.ok()) return completion.status;
  return completion;
}

grpc::Status GenerationServiceImpl::RunGenerator(grpc::ServerContext* context,
                                                 const std::vector<int32_t>& prompt,
                                                 const llama::SamplingOptions& options,
                                                 const llama::TokenCallback& on_token,
                                                 double* queue_ms,
                                                 llama::GenerationResult* result) {
  if (serving_ != nullptr) {
    std::function<bool(const serving::StreamedToken&)> stream;
    if (on_token) {
      stream = [&on_token](const serving::StreamedToken& streamed) {
        return on_token(streamed.token);
      };
    }
    auto completion = GenerateBatched(context, prompt, options, stream);
    if (completion.ok()) {
      *queue_ms += completion->queue_ms;
      if (completion->deadline_exceeded) {
        return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "deadline passed during generation");
      }
      *result = std::move(completion->result);
      return grpc::Status::OK;
    }
    if (completion.status().code() != absl::StatusCode::kResourceExhausted) {
      return ToGrpcStatus(completion.status());
    }
    // Larger than the KV pool: generate it on its own below.
  }
  auto generated = models_.generator->Generate(
      prompt, options,
      on_token ? on_token
               : [context](const llama::GeneratedToken&) { return !context->IsCancelled(); });
  if (!generated.ok()) return ToGrpcStatus(generated.status());
  *result = std::move(*generated);
  return grpc::Status::OK;
}

grpc::Status GenerationServiceImpl::Generate(grpc::ServerContext* context,
                                             const generation::v1::GenerateRequest* request,
                                             generation::v1::GenerateResponse* response) {
  const auto start = std::chrono::steady_clock::now();
  if (models_.generator == nullptr) return Unavailable("generator");
  grpc::Status named = CheckModelName(request->model(), models_.generator_name);
  if (!named.ok()) return named;
  if (request->tools_size() > 0) {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                        "tool calling in Generate is not supported yet");
  }
  auto options = ToSamplingOptions(request->sampling());
  if (!options.ok()) return ToGrpcStatus(options.status());
  auto prompt = PromptIds(*models_.generator, *request);
  if (!prompt.ok()) return ToGrpcStatus(prompt.status());
  double queue_ms = MillisSince(start);
  llama::GenerationResult generated;
  grpc::Status run = RunGenerator(context, *prompt, *options, nullptr, &queue_ms, &generated);
  if (!run.ok()) return run;
  const llama::GenerationResult* result = &generated;
  response->set_request_id(request->request_id());
  response->set_model(models_.generator_name);
  response->set_text(result->text);
  for (size_t i = 0; i < result->tokens.size(); ++i) {
    const bool with_logprobs = i < result->logprobs.size();
    FillToken(*models_.generator, result->tokens[i],
              PieceOf(models_.generator->tokenizer(), result->tokens[i]),
              with_logprobs ? result->logprobs[i] : 0.0f,
              i < result->top_logprobs.size() ? result->top_logprobs[i]
                                              : std::vector<llama::TokenLogprob>(),
              with_logprobs, response->add_tokens());
  }
  response->set_finish_reason(ToFinishReason(result->finish_reason));
  FillUsageAndTimings(*result, queue_ms, MillisSince(start), response->mutable_usage(),
                      response->mutable_timings());
  return grpc::Status::OK;
}

grpc::Status GenerationServiceImpl::GenerateStream(
    grpc::ServerContext* context, const generation::v1::GenerateRequest* request,
    grpc::ServerWriter<generation::v1::GenerateStreamResponse>* writer) {
  const auto start = std::chrono::steady_clock::now();
  if (models_.generator == nullptr) return Unavailable("generator");
  grpc::Status named = CheckModelName(request->model(), models_.generator_name);
  if (!named.ok()) return named;
  auto options = ToSamplingOptions(request->sampling());
  if (!options.ok()) return ToGrpcStatus(options.status());
  auto prompt = PromptIds(*models_.generator, *request);
  if (!prompt.ok()) return ToGrpcStatus(prompt.status());
  double queue_ms = MillisSince(start);
  const bool with_logprobs = options->logprobs;
  bool client_gone = false;
  auto write_token = [&](const llama::GeneratedToken& token) {
    generation::v1::GenerateStreamResponse chunk;
    chunk.set_request_id(request->request_id());
    FillToken(*models_.generator, token.token, token.text_delta, token.logprob,
              token.top_logprobs, with_logprobs, chunk.add_tokens());
    chunk.set_elapsed_ms(MillisSince(start));
    if (context->IsCancelled() || !writer->Write(chunk)) {
      client_gone = true;
      return false;
    }
    return true;
  };
  llama::GenerationResult generated;
  grpc::Status run = RunGenerator(context, *prompt, *options, write_token, &queue_ms, &generated);
  if (!run.ok()) return run;
  const llama::GenerationResult* result = &generated;
  if (client_gone) return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
  generation::v1::GenerateStreamResponse last;
  last.set_request_id(request->request_id());
  last.set_elapsed_ms(MillisSince(start));
  last.set_finish_reason(ToFinishReason(result->finish_reason));
  FillUsageAndTimings(*result, queue_ms, MillisSince(start), last.mutable_usage(),
                      last.mutable_timings());
  writer->Write(last);
  return grpc::Status::OK;
}

grpc::Status GenerationServiceImpl::Embed(grpc::ServerContext* context,
                                          const generation::v1::EmbedRequest* request,
                                          generation::v1::EmbedResponse* response) {
  if (models_.embedder == nullptr) return Unavailable("embedder");
  grpc::Status named = CheckModelName(request->model(), models_.embedder_name);
  if (!named.ok()) return named;
  if (request->inputs_size() == 0 || request->inputs_size() > kMaxEmbedInputs) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrCat("inputs must hold 1 to ", kMaxEmbedInputs, " texts"));
  }
  std::vector<std::string> inputs(request->inputs().begin(), request->inputs().end());
  auto vectors = models_.embedder->Embed(inputs);
  if (!vectors.ok()) return ToGrpcStatus(vectors.status());
  response->set_model(models_.embedder_name);
  response->set_dimension(models_.embedder->embedding_dimension());
  for (auto& vector : *vectors) {
    auto* embedding = response->add_embeddings();
    embedding->mutable_values()->Assign(vector.begin(), vector.end());
  }
  return grpc::Status::OK;
}

grpc::Status GenerationServiceImpl::Score(grpc::ServerContext* context,
                                          const generation::v1::ScoreRequest* request,
                                          generation::v1::ScoreResponse* response) {
  if (models_.reranker == nullptr) return Unavailable("reranker");
  grpc::Status named = CheckModelName(request->model(), models_.reranker_name);
  if (!named.ok()) return named;
  if (request->query().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "query is required");
  }
  if (request->passages_size() == 0 || request->passages_size() > kMaxScorePassages) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrCat("passages must hold 1 to ", kMaxScorePassages, " texts"));
  }
  std::vector<std::string> passages(request->passages().begin(), request->passages().end());
  auto scores = models_.reranker->Score(request->query(), passages);
  if (!scores.ok()) return ToGrpcStatus(scores.status());
  response->set_model(models_.reranker_name);
  response->mutable_scores()->Assign(scores->begin(), scores->end());
  return grpc::Status::OK;
}

grpc::Status GenerationServiceImpl::Tokenize(grpc::ServerContext* context,
                                             const generation::v1::TokenizeRequest* request,
                                             generation::v1::TokenizeResponse* response) {
  // The generator's tokenizer unless the embedder is named.
  const tokenizer::Tokenizer* tok = nullptr;
  if (models_.embedder != nullptr && request->model() == models_.embedder_name) {
    tok = models_.embedder->tokenizer();
  } else if (models_.generator != nullptr &&
             (request->model().empty() || request->model() == models_.generator_name)) {
    tok = models_.generator->tokenizer();
  } else if (models_.embedder != nullptr && request->model().empty()) {
    tok = models_.embedder->tokenizer();
  }
  if (tok == nullptr) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        request->model().empty()
                            ? std::string("no model with a tokenizer is loaded")
                            : absl::StrCat("no loaded model \"", request->model(),
                                           "\" has a tokenizer"));
  }
  auto ids = tok->Encode(request->text(), request->add_special_tokens());
  if (!ids.ok()) return ToGrpcStatus(ids.status());
  for (int32_t id : *ids) {
    response->add_token_ids(id);
    response->add_tokens(PieceOf(tok, id));
  }
  return grpc::Status::OK;
}

grpc::Status GenerationServiceImpl::ListModels(grpc::ServerContext* context,
                                               const generation::v1::ListModelsRequest* request,
                                               generation::v1::ListModelsResponse* response) {
  if (models_.generator != nullptr) {
    auto* info = response->add_models();
    const llama::LlamaHParams& hp = models_.generator->hparams();
    info->set_name(models_.generator_name);
    info->set_role("generator");
    info->set_architecture("llama");
    info->set_path(models_.generator_path);
    info->set_dtype(std::string(model::DTypeName(models_.generator->weight_type())));
    info->set_context_length(hp.context_length);
    const std::string device = serving_ != nullptr ? serving_->executor().device_name() : "";
    info->set_device(device.rfind("cuda", 0) == 0 ? device : "cpu");
  }
  for (const auto& [encoder, name, path, role] :
       {std::tuple{models_.embedder, models_.embedder_name, models_.embedder_path, "embedder"},
        std::tuple{models_.reranker, models_.reranker_name, models_.reranker_path, "reranker"}}) {
    if (encoder == nullptr) continue;
    auto* info = response->add_models();
    info->set_name(name);
    info->set_role(role);
    info->set_architecture("bert");
    info->set_path(path);
    info->set_context_length(encoder->max_seq_length());
    if (std::string(role) == "embedder") info->set_embedding_dimension(encoder->embedding_dimension());
    info->set_device("cpu");
  }
  return grpc::Status::OK;
}

}  // namespace tessera::engine

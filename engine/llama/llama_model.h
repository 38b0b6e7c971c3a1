// The LLaMA-family decoder of the CPU runtime: loads a GGUF file (llama.*
// metadata, llama.cpp tensor names) or a Hugging Face directory (config.json +
// safetensors), keeps the weights memory-mapped in their file type (f32, f16,
// bf16, Q8_0, Q4_0), and runs the forward pass (RMSNorm, RoPE, grouped-query
// attention with a KV cache, SwiGLU) and generation.
//
// RoPE layouts: Hugging Face checkpoints rotate dimension pairs (i, i + d/2) of
// each head ("rotate_half"). llama.cpp's converter permutes the rows of attn_q
// and attn_k so that the same rotation becomes pairs (2i, 2i + 1); our
// make-random GGUF writer (engine/model/make_random.cc) permutes the same way.
// So GGUF files are run with interleaved pairs and HF files with rotate_half,
// and both give the same logits for the same weights. (The permutation only
// reorders dimensions inside a head consistently for q and k, which leaves the
// attention scores unchanged.)
#ifndef TESSERA_ENGINE_LLAMA_LLAMA_MODEL_H_
#define TESSERA_ENGINE_LLAMA_LLAMA_MODEL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "engine/llama/llama2c_checkpoint.h"
#include "engine/llama/sampler.h"
#include "engine/llama/stop_sequences.h"
#include "engine/llama/thread_pool.h"
#include "engine/model/gguf.h"
#include "engine/model/llama_tensor_names.h"
#include "engine/model/safetensors.h"
#include "engine/model/tensor.h"
#include "engine/constrained/token_trie.h"
#include "engine/tokenizer/tokenizer.h"

namespace tessera::llama {

enum class RopeLayout {
  kRotateHalf,   // Hugging Face: pairs (i, i + head_dim / 2).
  kInterleaved,  // GGUF from llama.cpp's converter: pairs (2i, 2i + 1).
};

struct LlamaHParams {
  int vocab_size = 0;
  int dim = 0;
  int ffn_dim = 0;
  int num_layers = 0;
  int num_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;
  int context_length = 0;
  float rope_theta = 10000.0f;
  float rms_norm_eps = 1e-5f;
  int32_t bos_id = 1;
  int32_t eos_id = 2;
  RopeLayout rope_layout = RopeLayout::kRotateHalf;
};

// A weight matrix [rows, cols] in its file's type, rows contiguous.
struct WeightMatrix {
  model::DType dtype = model::DType::kF32;
  int64_t rows = 0;
  int64_t cols = 0;
  const uint8_t* data = nullptr;
  size_t row_bytes = 0;

  const uint8_t* Row(int64_t row) const { return data + row * row_bytes; }
};

struct LlamaLoadOptions {
  // Threads that share each matrix-vector product (1 = the calling thread only).
  int num_threads = 1;
  // Upper bound on sequence length (prompt + generated); 0 = the model's
  // context length.
  int max_context = 0;
};

struct GenerationTimings {
  int prompt_tokens = 0;
  int generated_tokens = 0;
  double prefill_seconds = 0;
  double decode_seconds = 0;
  double prefill_tokens_per_second = 0;
  // Tokens after the first (each of which needed one decode step).
  double decode_tokens_per_second = 0;
};

struct GeneratedToken {
  int32_t token = -1;
  // Text this token made final (may be empty while text is held back for a
  // possible stop sequence or an incomplete character).
  std::string text_delta;
  float logprob = 0;  // When SamplingOptions::logprobs.
  std::vector<TokenLogprob> top_logprobs;
};

struct GenerationResult {
  std::vector<int32_t> tokens;  // Generated tokens (EOS and stop-sequence tokens included).
  std::string text;             // Decoded text, cut before a stop sequence.
  std::vector<float> logprobs;  // One per token when requested.
  std::vector<std::vector<TokenLogprob>> top_logprobs;
  // "length" (max_tokens or context full), "eos", "stop" (stop sequence),
  // "cancelled" (the callback returned false).
  std::string finish_reason;
  GenerationTimings timings;
};

// Called once per generated token; returning false stops generation.
using TokenCallback = std::function<bool(const GeneratedToken&)>;


class LlamaModel;

// One sequence's state: the KV cache and scratch buffers, allocated once by
// LlamaModel::NewSequence for `capacity` positions, so decoding allocates
// nothing. Not thread-safe; use one sequence per thread of work.
class LlamaSequence {
 public:
  int position() const { return position_; }
  int capacity() const { return capacity_; }
  // Forgets all tokens (the cache is reused).
  void Reset() { position_ = 0; }

  // Runs `ids` at positions [position(), position() + ids.size()) and returns
  // the logits of the last one (valid until the next call). Several ids are one
  // batched prefill. When `all_logits` is set it receives the logits of every id
  // (ids.size() x vocab). OUT_OF_RANGE when the cache would overflow,
  // INVALID_ARGUMENT for an empty span or an id outside the vocabulary.
  absl::StatusOr<absl::Span<const float>> Forward(absl::Span<const int32_t> ids,
                                                  std::vector<float>* all_logits = nullptr);

 private:
  friend class LlamaModel;
  LlamaSequence(const LlamaModel* model, int capacity);
  void EnsureBatch(int tokens);

  const LlamaModel* model_;
  int capacity_;
  int position_ = 0;
  std::vector<float> key_cache_;    // [layer][position][kv_heads * head_dim]
  std::vector<float> value_cache_;  // Same layout.
  std::vector<float> rope_cos_;     // [position][head_dim / 2]
  std::vector<float> rope_sin_;
  // Scratch, sized for the largest batch seen (one token at construction).
  int batch_capacity_ = 0;
  std::vector<float> x_, norm_, q_, k_, v_, attn_, gate_, up_, logits_;
  std::vector<float> scores_;  // [head][capacity]
};

class LlamaModel {
 public:
  // `path`: a .gguf file, a llama2.c checkpoint (.bin; a tokenizer.bin beside
  // it is loaded too), or a directory with config.json and model.safetensors
  // (or a sharded index). NOT_FOUND for missing files; INVALID_ARGUMENT for a
  // missing tensor, a shape that disagrees with the config, an unsupported
  // weight type or architecture.
  static absl::StatusOr<std::unique_ptr<LlamaModel>> Load(const std::string& path,
                                                          LlamaLoadOptions options = {});

  const LlamaHParams& hparams() const { return hparams_; }
  // nullptr when the model files hold no tokenizer we can read.
  const tokenizer::Tokenizer* tokenizer() const { return tokenizer_.get(); }
  int num_threads() const { return pool_->num_threads(); }
  // The weight type of the attention query matrices (for reports).
  model::DType weight_type() const { return layers_[0].q.dtype; }

  // A fresh sequence for up to `capacity` positions (clamped to the context).
  std::unique_ptr<LlamaSequence> NewSequence(int capacity) const;

  // Prefills `prompt_ids`, then samples up to options.max_tokens tokens, calling
  // `callback` for each. Generations on one model are serialised.
  absl::StatusOr<GenerationResult> Generate(absl::Span<const int32_t> prompt_ids,
                                            const SamplingOptions& options,
                                            const TokenCallback& callback = nullptr) const;

  // The weights, for other executors of the same model (the batched serving
  // engine, the CUDA path). Valid while the model lives.
  struct Layer {
    std::vector<float> attn_norm;
    std::vector<float> ffn_norm;
    WeightMatrix q, k, v, o, gate, up, down;
  };
  absl::Span<const Layer> layers() const { return layers_; }
  const WeightMatrix& embedding() const { return embedding_; }
  const WeightMatrix& output() const { return output_; }
  absl::Span<const float> output_norm() const { return output_norm_; }
  // RoPE inverse frequencies, head_dim / 2 of them (the model's theta applied).
  absl::Span<const float> inv_freq() const { return inv_freq_; }
  ThreadPool* pool() const { return pool_.get(); }

  // out[t][r] = sum_c w[r][c] * x[t][c] for `tokens` rows of x, on the model's
  // thread pool (matrix-vector kernels for one token, a GEMM for several).
  void MatMul(const WeightMatrix& w, const float* x, int tokens, float* out) const;

  // Appends the tokens that keep `state` valid (constrained decoding), building
  // the vocabulary trie on first use. FAILED_PRECONDITION without a tokenizer.
  absl::Status AllowedTokens(const constrained::JsonSchemaAcceptor& state,
                             std::vector<int32_t>* allowed) const;
  // Feeds the bytes of `token` (one AllowedTokens offered) to `state`.
  void FeedToken(int32_t token, constrained::JsonSchemaAcceptor* state) const;

 private:
  friend class LlamaSequence;

  LlamaModel() = default;
  absl::Status LoadGguf(const std::string& path);
  absl::Status LoadHf(const std::string& path);
  absl::Status LoadLlama2c(const std::string& path);
  // Binds the weights under a format's tensor names; without an output matrix
  // the embedding is used when `tied_embeddings`, else it is an error.
  absl::Status BindTensors(const std::function<const model::TensorView*(absl::string_view)>& find,
                           const model::LlamaTensorNames& names, bool tied_embeddings);
  absl::Status Finish(LlamaLoadOptions options);

  LlamaHParams hparams_;
  std::unique_ptr<model::GgufFile> gguf_;
  std::unique_ptr<model::SafetensorsCheckpoint> safetensors_;
  std::unique_ptr<Llama2cCheckpoint> llama2c_;
  WeightMatrix embedding_;
  WeightMatrix output_;
  std::vector<float> output_norm_;
  std::vector<Layer> layers_;
  std::vector<float> inv_freq_;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer_;
  std::unique_ptr<ThreadPool> pool_;
  mutable absl::Mutex generate_mutex_;
  // The vocabulary trie for constrained decoding, built on first use; shared by
  // Generate and the serving engine's selectors, so it has its own lock.
  mutable absl::Mutex trie_mutex_;
  mutable std::unique_ptr<constrained::TokenTrie> token_trie_ ABSL_GUARDED_BY(trie_mutex_);
};

// The per-token half of generation, shared by LlamaModel::Generate and the
// batched serving engine (engine/serving): JSON-schema masking, sampling,
// log-probabilities, EOS, max_tokens, stop sequences and the streamed text.
// Feeding it the logits of each position in turn gives Generate's tokens.
class TokenSelector {
 public:
  // Checks the request as Generate does: INVALID_ARGUMENT for bad options or an
  // empty prompt, FAILED_PRECONDITION for stop strings or a schema without a
  // tokenizer, OUT_OF_RANGE for a prompt that fills the context.
  static absl::StatusOr<std::unique_ptr<TokenSelector>> Create(const LlamaModel& model,
                                                               absl::Span<const int32_t> prompt_ids,
                                                               const SamplingOptions& options);

  // Picks the token that follows the history from `logits` (vocab_size values
  // of the last position), fills `event` and returns whether generation ends
  // with it. `context_full`: no position is left to run this token.
  absl::StatusOr<bool> Next(absl::Span<const float> logits, bool context_full,
                            GeneratedToken* event);
  // Ends the generation as "cancelled" unless it already ended.
  void Cancel();

  bool done() const { return done_; }
  const SamplingOptions& options() const { return options_; }
  // The prompt followed by the generated tokens.
  const std::vector<int32_t>& history() const { return history_; }
  int prompt_tokens() const { return prompt_tokens_; }
  // Tokens, text streamed so far, logprobs and finish reason (timings unset).
  GenerationResult TakeResult();

 private:
  TokenSelector(const LlamaModel& model, const SamplingOptions& options);

  const LlamaModel& model_;
  SamplingOptions options_;
  Sampler sampler_;
  StopSequenceMatcher matcher_;
  std::optional<constrained::JsonSchemaAcceptor> constraint_;
  std::vector<int32_t> history_;
  int prompt_tokens_ = 0;
  std::vector<float> work_;
  std::vector<float> masked_;  // the constrained logits, for logprobs
  std::vector<int32_t> allowed_;
  std::string text_;
  size_t emitted_ = 0;  // Bytes of text already streamed.
  bool done_ = false;
  GenerationResult result_;
};

}  // namespace tessera::llama

#endif  // TESSERA_ENGINE_LLAMA_LLAMA_MODEL_H_

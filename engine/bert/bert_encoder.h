// The BERT encoder of the model runtime, on the CPU in f32: sentence embeddings
// with sentence-transformers semantics (pooling from 1_Pooling/config.json, L2
// normalisation when modules.json lists a Normalize module) and cross-encoder
// scores (BertForSequenceClassification: pooler dense + tanh on [CLS], then the
// classifier). Weights come from config.json + model.safetensors (f32/f16/bf16,
// names with or without the "bert." prefix); text goes through the directory's
// WordPiece tokenizer (tokenizer.json or vocab.txt).
#ifndef TESSERA_ENGINE_BERT_BERT_ENCODER_H_
#define TESSERA_ENGINE_BERT_BERT_ENCODER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "engine/gemm/packed_gemm.h"
#include "engine/model/model_config.h"
#include "engine/tokenizer/tokenizer.h"

namespace tessera::bert {

struct BertEncoderOptions {
  // OpenMP threads for the GEMMs (packed AVX-512 kernel) and the rest (attention,
  // LayerNorm, GELU); 0 = OpenMP default. Without AVX-512 the GEMMs run in
  // OpenBLAS, with its own pool (OPENBLAS_NUM_THREADS).
  int num_threads = 0;
  // Longest input in tokens for the text APIs (longer ones are truncated, keeping
  // the final [SEP]); 0 = sentence_bert_config.json's max_seq_length, else
  // max_position_embeddings. Never more than max_position_embeddings.
  int max_seq_length = 0;
  // Upper bound on the tokens processed together; larger batches are split so
  // activations stay small.
  int max_batch_tokens = 16384;
};

// One input sequence: token ids (special tokens included) and, optionally, the
// segment ids (empty = all 0).
struct EncoderInput {
  std::vector<int32_t> ids;
  std::vector<int32_t> token_type_ids;
};

// Pooling of token states into one vector (sentence-transformers' modes; several
// may be on, their results are concatenated as sentence-transformers does: cls, max, mean, mean_sqrt_len).
struct PoolingConfig {
  bool cls_token = false;
  bool mean_tokens = true;
  bool max_tokens = false;
  bool mean_sqrt_len_tokens = false;
};

// Immutable after Load(); every method may be called from many threads at once.
class BertEncoder {
 public:
  // Reads `model_dir`: config.json, model.safetensors (or a sharded index),
  // modules.json + 1_Pooling/config.json + sentence_bert_config.json when present,
  // and tokenizer.json or vocab.txt when present. NOT_FOUND for missing files,
  // INVALID_ARGUMENT for missing tensors or wrong shapes.
  static absl::StatusOr<std::unique_ptr<BertEncoder>> Load(const std::string& model_dir,
                                                           BertEncoderOptions options = {});

  // The last hidden states of each sequence, row-major [length, hidden_size].
  // INVALID_ARGUMENT for an empty sequence, one longer than max_position_embeddings,
  // or ids / token types out of range.
  absl::StatusOr<std::vector<std::vector<float>>> HiddenStates(
      absl::Span<const EncoderInput> batch) const;

  // Sentence embeddings of token-id sequences (special tokens included).
  absl::StatusOr<std::vector<std::vector<float>>> EncodeIds(
      absl::Span<const std::vector<int32_t>> batch) const;
  // Sentence embeddings of texts. FAILED_PRECONDITION without a tokenizer.
  absl::StatusOr<std::vector<std::vector<float>>> Embed(absl::Span<const std::string> texts) const;

  // Classifier logits, [num_labels] per pair. FAILED_PRECONDITION for a model
  // without a classification head.
  absl::StatusOr<std::vector<std::vector<float>>> ClassifyPairs(
      absl::Span<const EncoderInput> pairs) const;
  // One relevance score per passage: the logit of a one-label model, else the logit
  // of the last label (conventionally "relevant"). Pairs are encoded as
  // [CLS] query [SEP] passage [SEP], truncated longest-first to max_seq_length.
  absl::StatusOr<std::vector<float>> Score(absl::string_view query,
                                           absl::Span<const std::string> passages) const;
  absl::StatusOr<std::vector<float>> ScoreIds(absl::Span<const EncoderInput> pairs) const;

  const model::BertConfig& config() const { return config_; }
  int embedding_dimension() const;
  bool has_classifier() const { return !classifier_weight_.empty(); }
  bool normalizes() const { return normalize_; }
  const PoolingConfig& pooling() const { return pooling_; }
  int max_seq_length() const { return max_seq_length_; }
  // nullptr when the model directory has no tokenizer.
  const tokenizer::Tokenizer* tokenizer() const { return tokenizer_.get(); }

 private:
  struct Layer {
    // The weight vectors hold the file's values until Load() packs them into the
    // matrices below (and empties them).
    std::vector<float> qkv_weight;  // [3 * hidden, hidden]: query, key, value rows.
    std::vector<float> qkv_bias;
    std::vector<float> attention_output_weight, attention_output_bias;
    std::vector<float> attention_norm_gamma, attention_norm_beta;
    std::vector<float> intermediate_weight, intermediate_bias;
    std::vector<float> output_weight, output_bias;
    std::vector<float> output_norm_gamma, output_norm_beta;
    gemm::PackedMatrix qkv, attention_output, intermediate, output;
  };

  // Activations of one forward pass, kept between calls: allocating (and
  // page-faulting) tens of megabytes per batch cost as much as the attention.
  struct Workspace {
    std::vector<float> states, qkv, context, projected, intermediate;
  };

  BertEncoder() = default;
  absl::Status ValidateInput(const EncoderInput& input) const;
  // A free workspace (or a new one); give it back with ReleaseWorkspace.
  std::unique_ptr<Workspace> AcquireWorkspace() const;
  void ReleaseWorkspace(std::unique_ptr<Workspace> workspace) const;
  // Validates `batch`, runs it in chunks of at most max_batch_tokens and calls
  // fn(i, states of sequence i) ([length, hidden], valid during the call).
  absl::Status ForEachSequence(absl::Span<const EncoderInput> batch,
                               absl::FunctionRef<void(size_t index, const float* states)> fn) const;
  // Runs one chunk of sequences; workspace->states gets [total tokens, hidden].
  void Forward(absl::Span<const EncoderInput* const> batch, Workspace* workspace) const;
  std::vector<float> Pool(const float* states, int length) const;
  absl::StatusOr<std::vector<int32_t>> Tokenize(absl::string_view text) const;

  model::BertConfig config_;
  BertEncoderOptions options_;
  PoolingConfig pooling_;
  bool normalize_ = false;
  int max_seq_length_ = 0;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer_;

  std::vector<float> word_embeddings_, position_embeddings_, token_type_embeddings_;
  std::vector<float> embedding_norm_gamma_, embedding_norm_beta_;
  std::vector<Layer> layers_;
  std::vector<float> pooler_weight_, pooler_bias_;
  std::vector<float> classifier_weight_, classifier_bias_;

  mutable absl::Mutex workspace_mutex_;
  // At most one per thread that ran the encoder at once.
  mutable std::vector<std::unique_ptr<Workspace>> free_workspaces_ ABSL_GUARDED_BY(workspace_mutex_);
};

}  // namespace tessera::bert

#endif  // TESSERA_ENGINE_BERT_BERT_ENCODER_H_

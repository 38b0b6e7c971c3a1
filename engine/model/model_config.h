// Model hyper-parameters from Hugging Face config.json files, and the named shapes
// of real models that `tessera model make-random` and the benchmarks use.
#ifndef TESSERA_ENGINE_MODEL_MODEL_CONFIG_H_
#define TESSERA_ENGINE_MODEL_MODEL_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tessera::model {

struct BertConfig {
  int vocab_size = 30522;
  int hidden_size = 768;
  int num_hidden_layers = 12;
  int num_attention_heads = 12;
  int intermediate_size = 3072;
  int max_position_embeddings = 512;
  int type_vocab_size = 2;
  double layer_norm_eps = 1e-12;
  // "gelu" (erf), "gelu_new" / "gelu_pytorch_tanh" (tanh approximation), "relu".
  std::string hidden_act = "gelu";
  int pad_token_id = 0;
  // BertForSequenceClassification: the number of labels (from num_labels or
  // id2label); 0 for a plain encoder.
  int num_labels = 0;
  std::vector<std::string> architectures;
};

struct LlamaConfig {
  int vocab_size = 32000;
  int hidden_size = 4096;
  int intermediate_size = 11008;
  int num_hidden_layers = 32;
  int num_attention_heads = 32;
  int num_key_value_heads = 32;  // = num_attention_heads when absent.
  double rms_norm_eps = 1e-5;
  double rope_theta = 10000.0;
  int max_position_embeddings = 2048;
  bool tie_word_embeddings = false;
  int bos_token_id = 1;
  int eos_token_id = 2;
};

// Parse config.json text. INVALID_ARGUMENT for malformed JSON, missing required
// fields (hidden_size, num_hidden_layers, num_attention_heads, intermediate_size,
// vocab_size), wrong types, or inconsistent values (hidden not divisible by heads,
// heads not divisible by kv heads, non-positive or absurdly large sizes).
absl::StatusOr<BertConfig> ParseBertConfig(absl::string_view json_text);
absl::StatusOr<LlamaConfig> ParseLlamaConfig(absl::string_view json_text);
// Reads `path` (a config.json, or a directory holding one).
absl::StatusOr<BertConfig> LoadBertConfig(const std::string& path);
absl::StatusOr<LlamaConfig> LoadLlamaConfig(const std::string& path);

// config.json text for a config (what Hugging Face would write).
std::string BertConfigToJson(const BertConfig& config);
std::string LlamaConfigToJson(const LlamaConfig& config);

// Named shapes. BERT: "minilm-l6" (all-MiniLM-L6-v2), "bert-base", "tiny-bert".
// LLaMA: "tinyllama-1.1b", "llama2-7b", "llama-100m", "tiny-llama". NOT_FOUND for other names.
absl::StatusOr<BertConfig> NamedBertShape(absl::string_view name);
absl::StatusOr<LlamaConfig> NamedLlamaShape(absl::string_view name);
std::vector<std::string> BertShapeNames();
std::vector<std::string> LlamaShapeNames();

}  // namespace tessera::model

#endif  // TESSERA_ENGINE_MODEL_MODEL_CONFIG_H_

#include "engine/model/model_config.h"

#include <sys/stat.h>

#include <cmath>
#include <exception>
#include <fstream>
#include <initializer_list>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace tessera::model {
namespace {

using Json = nlohmann::json;

// Sizes beyond this are not real models and would overflow products of them.
constexpr int64_t kMaxDimension = 1 << 24;

absl::StatusOr<Json> ParseObject(absl::string_view text) {
  Json json = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return absl::InvalidArgumentError("config is not valid JSON");
  if (!json.is_object()) return absl::InvalidArgumentError("config is not a JSON object");
  return json;
}

// Reads an integer field into `target`; absent fields keep the default unless required.
// An integer field of config.json: its key, whether it must be present, its
// least allowed value and where it goes.
struct IntField {
  const char* key;
  bool required;
  int64_t min_value;
  int* target;
};

absl::Status ReadInt(const Json& json, const char* key, bool required, int64_t min_value,
                     int* target) {
  auto it = json.find(key);
  if (it == json.end() || it->is_null()) {
    if (required) return absl::InvalidArgumentError(absl::StrCat("config lacks ", key));
    return absl::OkStatus();
  }
  if (!it->is_number_integer()) {
    return absl::InvalidArgumentError(absl::StrCat("config field ", key, " is not an integer"));
  }
  const int64_t value = it->get<int64_t>();
  if (value < min_value || value > kMaxDimension) {
    return absl::InvalidArgumentError(
        absl::StrCat("config field ", key, " = ", value, " is out of range"));
  }
  *target = static_cast<int>(value);
  return absl::OkStatus();
}

absl::Status ReadInts(const Json& json, std::initializer_list<IntField> fields) {
  for (const IntField& field : fields) {
    absl::Status status = ReadInt(json, field.key, field.required, field.min_value, field.target);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status ReadDouble(const Json& json, const char* key, double* target) {
  auto it = json.find(key);
  if (it == json.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_number()) {
    return absl::InvalidArgumentError(absl::StrCat("config field ", key, " is not a number"));
  }
  const double value = it->get<double>();
  if (!std::isfinite(value) || value <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("config field ", key, " must be positive"));
  }
  *target = value;
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadConfigFile(const std::string& path) {
  std::string file = path;
  struct stat info;
  if (::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) file = path + "/config.json";
  std::ifstream in(file, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", file));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

absl::StatusOr<BertConfig> ParseBertConfig(absl::string_view json_text) {
  absl::StatusOr<Json> parsed = ParseObject(json_text);
  if (!parsed.ok()) return parsed.status();
  const Json& json = *parsed;
  BertConfig config;
  try {
    absl::Status status = ReadInts(json, {
        IntField{"vocab_size", true, 1, &config.vocab_size},
        IntField{"hidden_size", true, 1, &config.hidden_size},
        IntField{"num_hidden_layers", true, 1, &config.num_hidden_layers},
        IntField{"num_attention_heads", true, 1, &config.num_attention_heads},
        IntField{"intermediate_size", true, 1, &config.intermediate_size},
        IntField{"max_position_embeddings", false, 1, &config.max_position_embeddings},
        IntField{"type_vocab_size", false, 1, &config.type_vocab_size},
        IntField{"pad_token_id", false, 0, &config.pad_token_id},
        IntField{"num_labels", false, 0, &config.num_labels},
    });
    if (!status.ok()) return status;
    status = ReadDouble(json, "layer_norm_eps", &config.layer_norm_eps);
    if (!status.ok()) return status;
    if (auto it = json.find("hidden_act"); it != json.end()) {
      if (!it->is_string()) return absl::InvalidArgumentError("hidden_act is not a string");
      config.hidden_act = it->get<std::string>();
    }
    if (config.hidden_act != "gelu" && config.hidden_act != "gelu_new" &&
        config.hidden_act != "gelu_pytorch_tanh" && config.hidden_act != "relu") {
      return absl::InvalidArgumentError(
          absl::StrCat("unsupported hidden_act \"", config.hidden_act, "\""));
    }
    if (auto it = json.find("architectures"); it != json.end() && it->is_array()) {
      for (const Json& name : *it) {
        if (name.is_string()) config.architectures.push_back(name.get<std::string>());
      }
    }
    if (auto it = json.find("id2label"); it != json.end() && it->is_object() &&
                                         !json.contains("num_labels")) {
      config.num_labels = static_cast<int>(it->size());
    }
    bool classifier = false;
    for (const std::string& name : config.architectures) {
      if (name.find("SequenceClassification") != std::string::npos) classifier = true;
    }
    if (!classifier) config.num_labels = 0;
    if (classifier && config.num_labels == 0) config.num_labels = 2;  // HF's default.
    if (auto it = json.find("position_embedding_type");
        it != json.end() && it->is_string() && it->get<std::string>() != "absolute") {
      return absl::InvalidArgumentError("only absolute position embeddings are supported");
    }
  } catch (const std::exception& error) {
    return absl::InvalidArgumentError(absl::StrCat("malformed config: ", error.what()));
  }
  if (config.hidden_size % config.num_attention_heads != 0) {
    return absl::InvalidArgumentError(absl::StrCat("hidden_size ", config.hidden_size,
                                                   " is not a multiple of num_attention_heads ",
                                                   config.num_attention_heads));
  }
  return config;
}

absl::StatusOr<LlamaConfig> ParseLlamaConfig(absl::string_view json_text) {
  absl::StatusOr<Json> parsed = ParseObject(json_text);
  if (!parsed.ok()) return parsed.status();
  const Json& json = *parsed;
  LlamaConfig config;
  try {
    config.num_key_value_heads = -1;
    absl::Status status = ReadInts(json, {
        IntField{"vocab_size", true, 1, &config.vocab_size},
        IntField{"hidden_size", true, 1, &config.hidden_size},
        IntField{"intermediate_size", true, 1, &config.intermediate_size},
        IntField{"num_hidden_layers", true, 1, &config.num_hidden_layers},
        IntField{"num_attention_heads", true, 1, &config.num_attention_heads},
        IntField{"num_key_value_heads", false, 1, &config.num_key_value_heads},
        IntField{"max_position_embeddings", false, 1, &config.max_position_embeddings},
        IntField{"bos_token_id", false, 0, &config.bos_token_id},
        IntField{"eos_token_id", false, 0, &config.eos_token_id},
    });
    if (!status.ok()) return status;
    if (config.num_key_value_heads < 0) config.num_key_value_heads = config.num_attention_heads;
    status = ReadDouble(json, "rms_norm_eps", &config.rms_norm_eps);
    if (status.ok()) status = ReadDouble(json, "rope_theta", &config.rope_theta);
    if (!status.ok()) return status;
    if (auto it = json.find("tie_word_embeddings"); it != json.end()) {
      if (!it->is_boolean()) return absl::InvalidArgumentError("tie_word_embeddings is not a bool");
      config.tie_word_embeddings = it->get<bool>();
    }
  } catch (const std::exception& error) {
    return absl::InvalidArgumentError(absl::StrCat("malformed config: ", error.what()));
  }
  if (config.hidden_size % config.num_attention_heads != 0) {
    return absl::InvalidArgumentError("hidden_size is not a multiple of num_attention_heads");
  }
  if (config.num_attention_heads % config.num_key_value_heads != 0) {
    return absl::InvalidArgumentError(
        "num_attention_heads is not a multiple of num_key_value_heads");
  }
  return config;
}

absl::StatusOr<BertConfig> LoadBertConfig(const std::string& path) {
  absl::StatusOr<std::string> text = ReadConfigFile(path);
  if (!text.ok()) return text.status();
  absl::StatusOr<BertConfig> config = ParseBertConfig(*text);
  if (!config.ok()) {
    return absl::Status(config.status().code(), absl::StrCat(path, ": ", config.status().message()));
  }
  return config;
}

absl::StatusOr<LlamaConfig> LoadLlamaConfig(const std::string& path) {
  absl::StatusOr<std::string> text = ReadConfigFile(path);
  if (!text.ok()) return text.status();
  absl::StatusOr<LlamaConfig> config = ParseLlamaConfig(*text);
  if (!config.ok()) {
    return absl::Status(config.status().code(), absl::StrCat(path, ": ", config.status().message()));
  }
  return config;
}

std::string BertConfigToJson(const BertConfig& config) {
  Json json = {
      {"model_type", "bert"},
      {"vocab_size", config.vocab_size},
      {"hidden_size", config.hidden_size},
      {"num_hidden_layers", config.num_hidden_layers},
      {"num_attention_heads", config.num_attention_heads},
      {"intermediate_size", config.intermediate_size},
      {"max_position_embeddings", config.max_position_embeddings},
      {"type_vocab_size", config.type_vocab_size},
      {"layer_norm_eps", config.layer_norm_eps},
      {"hidden_act", config.hidden_act},
      {"pad_token_id", config.pad_token_id},
      {"position_embedding_type", "absolute"},
      {"hidden_dropout_prob", 0.1},
      {"attention_probs_dropout_prob", 0.1},
      {"initializer_range", 0.02},
  };
  if (config.num_labels > 0) {
    json["architectures"] = {"BertForSequenceClassification"};
    Json id2label = Json::object(), label2id = Json::object();
    for (int i = 0; i < config.num_labels; ++i) {
      id2label[std::to_string(i)] = absl::StrCat("LABEL_", i);
      label2id[absl::StrCat("LABEL_", i)] = i;
    }
    json["id2label"] = id2label;
    json["label2id"] = label2id;
  } else {
    json["architectures"] = config.architectures.empty()
                                ? std::vector<std::string>{"BertModel"}
                                : config.architectures;
  }
  return json.dump(2);
}

std::string LlamaConfigToJson(const LlamaConfig& config) {
  Json json = {
      {"architectures", {"LlamaForCausalLM"}},
      {"model_type", "llama"},
      {"vocab_size", config.vocab_size},
      {"hidden_size", config.hidden_size},
      {"intermediate_size", config.intermediate_size},
      {"num_hidden_layers", config.num_hidden_layers},
      {"num_attention_heads", config.num_attention_heads},
      {"num_key_value_heads", config.num_key_value_heads},
      {"rms_norm_eps", config.rms_norm_eps},
      {"rope_theta", config.rope_theta},
      {"max_position_embeddings", config.max_position_embeddings},
      {"tie_word_embeddings", config.tie_word_embeddings},
      {"bos_token_id", config.bos_token_id},
      {"eos_token_id", config.eos_token_id},
      {"hidden_act", "silu"},
      {"torch_dtype", "float32"},
  };
  return json.dump(2);
}

absl::StatusOr<BertConfig> NamedBertShape(absl::string_view name) {
  BertConfig config;  // Defaults are bert-base-uncased.
  if (name == "bert-base") return config;
  if (name == "minilm-l6") {
    config.hidden_size = 384;
    config.num_hidden_layers = 6;
    config.num_attention_heads = 12;
    config.intermediate_size = 1536;
    return config;
  }
  if (name == "tiny-bert") {
    // The real WordPiece vocabulary size, so the uncased tokenizer fits it.
    config.hidden_size = 32;
    config.num_hidden_layers = 2;
    config.num_attention_heads = 4;
    config.intermediate_size = 64;
    config.max_position_embeddings = 128;
    return config;
  }
  return absl::NotFoundError(absl::StrCat("unknown BERT shape \"", name, "\" (known: minilm-l6, bert-base, tiny-bert)"));
}

absl::StatusOr<LlamaConfig> NamedLlamaShape(absl::string_view name) {
  LlamaConfig config;  // Defaults are Llama 2 7B.
  if (name == "llama2-7b") {
    config.max_position_embeddings = 4096;
    return config;
  }
  if (name == "tinyllama-1.1b") {
    config.hidden_size = 2048;
    config.intermediate_size = 5632;
    config.num_hidden_layers = 22;
    config.num_attention_heads = 32;
    config.num_key_value_heads = 4;
    config.max_position_embeddings = 2048;
    return config;
  }
  if (name == "llama-100m") {  // A ~110M-parameter LLaMA for serving benchmarks on small machines.
    config.hidden_size = 768;
    config.intermediate_size = 2048;
    config.num_hidden_layers = 12;
    config.num_attention_heads = 12;
    config.num_key_value_heads = 4;
    config.max_position_embeddings = 2048;
    return config;
  }
  if (name == "tiny-llama") {
    config.hidden_size = 64;
    config.intermediate_size = 128;
    config.num_hidden_layers = 2;
    config.num_attention_heads = 4;
    config.num_key_value_heads = 2;
    config.max_position_embeddings = 2048;  // Room for real prompts (agents, RAG) in tests.
    return config;
  }
  return absl::NotFoundError(absl::StrCat("unknown LLaMA shape \"", name, "\" (known: tinyllama-1.1b, llama2-7b, llama-100m, tiny-llama)"));
}

std::vector<std::string> BertShapeNames() { return {"minilm-l6", "bert-base", "tiny-bert"}; }
std::vector<std::string> LlamaShapeNames() {
  return {"tinyllama-1.1b", "llama2-7b", "llama-100m", "tiny-llama"};
}

}  // namespace tessera::model

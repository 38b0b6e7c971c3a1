#include "engine/bert/bert_encoder.h"

#include <omp.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/bert/encoder_kernels.h"
#include "engine/model/safetensors.h"
#include "engine/model/tensor.h"
#include "engine/tokenizer/load_tokenizer.h"
#include "nlohmann/json.hpp"

namespace tessera::bert {
namespace {

using Json = nlohmann::json;

bool FileExists(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0;
}

// Parses a small JSON file; nullopt-like NOT_FOUND when absent.
absl::StatusOr<Json> ReadJsonFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream text;
  text << in.rdbuf();
  Json json = Json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return absl::InvalidArgumentError(absl::StrCat(path, " is not valid JSON"));
  return json;
}

// y[rows, n] = x[rows, k] * w[n, k]^T + bias[n] (PyTorch's Linear layout).
void Linear(const float* x, int rows, const gemm::PackedMatrix& weight,
            const std::vector<float>& bias, float* y, int threads) {
  gemm::Multiply(x, rows, weight, y, threads);
  AddBias(y, rows, bias.data(), weight.n());
}

// Packs a weight read from the file and frees the unpacked copy.
gemm::PackedMatrix PackAndFree(std::vector<float>* weight, int64_t n, int64_t k) {
  gemm::PackedMatrix packed = gemm::PackedMatrix::Pack(weight->data(), n, k);
  std::vector<float>().swap(*weight);
  return packed;
}

// In place over n values, by the config's hidden_act.
void Activate(float* x, size_t n, const std::string& act) {
  if (act == "relu") return Relu(x, n);
  if (act == "gelu") return GeluErf(x, n);
  GeluTanh(x, n);  // gelu_new / gelu_pytorch_tanh.
}

// Fetches a tensor of exactly `shape` as f32 from the checkpoint.
class WeightReader {
 public:
  WeightReader(const model::SafetensorsCheckpoint& checkpoint, std::string prefix)
      : checkpoint_(checkpoint), prefix_(std::move(prefix)) {}

  absl::Status Read(const std::string& name, std::vector<int64_t> shape, std::vector<float>* out,
                    bool prefixed = true) const {
    const std::string full = prefixed ? prefix_ + name : name;
    const model::TensorView* tensor = checkpoint_.Find(full);
    if (tensor == nullptr) return absl::InvalidArgumentError(absl::StrCat("model lacks tensor ", full));
    if (tensor->shape != shape) {
      return absl::InvalidArgumentError(absl::StrCat("tensor ", full, " has shape [",
                                                     absl::StrJoin(tensor->shape, ","),
                                                     "]; config.json implies [",
                                                     absl::StrJoin(shape, ","), "]"));
    }
    return model::TensorToF32(*tensor, out);
  }

  bool Has(const std::string& name) const { return checkpoint_.Find(prefix_ + name) != nullptr; }

 private:
  const model::SafetensorsCheckpoint& checkpoint_;
  std::string prefix_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<BertEncoder>> BertEncoder::Load(const std::string& model_dir,
                                                               BertEncoderOptions options) {
  std::unique_ptr<BertEncoder> encoder(new BertEncoder());
  encoder->options_ = options;
  absl::StatusOr<model::BertConfig> config = model::LoadBertConfig(model_dir);
  if (!config.ok()) return config.status();
  encoder->config_ = *config;
  const model::BertConfig& c = encoder->config_;

  absl::StatusOr<std::unique_ptr<model::SafetensorsCheckpoint>> checkpoint =
      model::SafetensorsCheckpoint::Open(model_dir);
  if (!checkpoint.ok()) return checkpoint.status();
  std::string prefix;
  if ((*checkpoint)->Find("embeddings.word_embeddings.weight") != nullptr) {
    prefix = "";
  } else if ((*checkpoint)->Find("bert.embeddings.word_embeddings.weight") != nullptr) {
    prefix = "bert.";
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        model_dir, ": no embeddings.word_embeddings.weight (with or without \"bert.\")"));
  }
  const WeightReader weights(**checkpoint, prefix);
  const int64_t h = c.hidden_size, inter = c.intermediate_size;
  absl::Status status =
      weights.Read("embeddings.word_embeddings.weight", {c.vocab_size, h}, &encoder->word_embeddings_);
  if (status.ok()) {
    status = weights.Read("embeddings.position_embeddings.weight", {c.max_position_embeddings, h},
                          &encoder->position_embeddings_);
  }
  if (status.ok()) {
    status = weights.Read("embeddings.token_type_embeddings.weight", {c.type_vocab_size, h},
                          &encoder->token_type_embeddings_);
  }
  if (status.ok()) status = weights.Read("embeddings.LayerNorm.weight", {h}, &encoder->embedding_norm_gamma_);
  if (status.ok()) status = weights.Read("embeddings.LayerNorm.bias", {h}, &encoder->embedding_norm_beta_);
  encoder->layers_.resize(c.num_hidden_layers);
  for (int i = 0; status.ok() && i < c.num_hidden_layers; ++i) {
    Layer& layer = encoder->layers_[i];
    const std::string p = absl::StrCat("encoder.layer.", i, ".");
    std::vector<float> part;
    for (const char* name : {"query", "key", "value"}) {
      if (status.ok()) status = weights.Read(p + "attention.self." + name + ".weight", {h, h}, &part);
      if (status.ok()) layer.qkv_weight.insert(layer.qkv_weight.end(), part.begin(), part.end());
      if (status.ok()) status = weights.Read(p + "attention.self." + name + ".bias", {h}, &part);
      if (status.ok()) layer.qkv_bias.insert(layer.qkv_bias.end(), part.begin(), part.end());
    }
    struct Item {
      const char* name;
      std::vector<int64_t> shape;
      std::vector<float>* target;
    };
    const Item items[] = {
        {"attention.output.dense.weight", {h, h}, &layer.attention_output_weight},
        {"attention.output.dense.bias", {h}, &layer.attention_output_bias},
        {"attention.output.LayerNorm.weight", {h}, &layer.attention_norm_gamma},
        {"attention.output.LayerNorm.bias", {h}, &layer.attention_norm_beta},
        {"intermediate.dense.weight", {inter, h}, &layer.intermediate_weight},
        {"intermediate.dense.bias", {inter}, &layer.intermediate_bias},
        {"output.dense.weight", {h, inter}, &layer.output_weight},
        {"output.dense.bias", {h}, &layer.output_bias},
        {"output.LayerNorm.weight", {h}, &layer.output_norm_gamma},
        {"output.LayerNorm.bias", {h}, &layer.output_norm_beta},
    };
    for (const Item& item : items) {
      if (status.ok()) status = weights.Read(p + item.name, item.shape, item.target);
    }
    if (status.ok()) {
      layer.qkv = PackAndFree(&layer.qkv_weight, 3 * h, h);
      layer.attention_output = PackAndFree(&layer.attention_output_weight, h, h);
      layer.intermediate = PackAndFree(&layer.intermediate_weight, inter, h);
      layer.output = PackAndFree(&layer.output_weight, h, inter);
    }
  }
  if (status.ok() && c.num_labels > 0) {
    status = weights.Read("pooler.dense.weight", {h, h}, &encoder->pooler_weight_);
    if (status.ok()) status = weights.Read("pooler.dense.bias", {h}, &encoder->pooler_bias_);
    if (status.ok()) {
      status = weights.Read("classifier.weight", {c.num_labels, h}, &encoder->classifier_weight_,
                            /*prefixed=*/false);
    }
    if (status.ok()) {
      status = weights.Read("classifier.bias", {c.num_labels}, &encoder->classifier_bias_,
                            /*prefixed=*/false);
    }
  }
  if (!status.ok()) return absl::Status(status.code(), absl::StrCat(model_dir, ": ", status.message()));

  // sentence-transformers: modules.json names the pooling directory and whether a
  // Normalize module follows.
  const std::string modules_path = model_dir + "/modules.json";
  if (FileExists(modules_path)) {
    absl::StatusOr<Json> modules = ReadJsonFile(modules_path);
    if (!modules.ok()) return modules.status();
    if (!modules->is_array()) return absl::InvalidArgumentError(modules_path + " is not an array");
    for (const Json& module : *modules) {
      if (!module.is_object() || !module.contains("type") || !module["type"].is_string()) continue;
      const std::string type = module["type"].get<std::string>();
      if (absl::EndsWith(type, "models.Normalize")) encoder->normalize_ = true;
      if (absl::EndsWith(type, "models.Pooling")) {
        const std::string path = module.contains("path") && module["path"].is_string()
                                     ? module["path"].get<std::string>()
                                     : "1_Pooling";
        absl::StatusOr<Json> pooling = ReadJsonFile(model_dir + "/" + path + "/config.json");
        if (!pooling.ok()) return pooling.status();
        auto flag = [&](const char* key) {
          return pooling->contains(key) && (*pooling)[key].is_boolean() && (*pooling)[key].get<bool>();
        };
        encoder->pooling_ = {flag("pooling_mode_cls_token"), flag("pooling_mode_mean_tokens"),
                             flag("pooling_mode_max_tokens"),
                             flag("pooling_mode_mean_sqrt_len_tokens")};
        if (flag("pooling_mode_weightedmean_tokens") || flag("pooling_mode_lasttoken")) {
          return absl::UnimplementedError("weighted-mean and last-token pooling are not supported");
        }
        if (encoder->embedding_dimension() == 0) {
          return absl::InvalidArgumentError(absl::StrCat(path, "/config.json enables no pooling mode"));
        }
      }
    }
  }

  int max_length = options.max_seq_length;
  if (max_length <= 0) {
    max_length = c.max_position_embeddings;
    const std::string sbert_path = model_dir + "/sentence_bert_config.json";
    if (FileExists(sbert_path)) {
      absl::StatusOr<Json> sbert = ReadJsonFile(sbert_path);
      if (sbert.ok() && sbert->is_object() && sbert->contains("max_seq_length") &&
          (*sbert)["max_seq_length"].is_number_integer()) {
        max_length = (*sbert)["max_seq_length"].get<int>();
      }
    }
  }
  encoder->max_seq_length_ = std::clamp(max_length, 2, c.max_position_embeddings);

  if (FileExists(model_dir + "/tokenizer.json") || FileExists(model_dir + "/vocab.txt")) {
    absl::StatusOr<std::unique_ptr<tokenizer::Tokenizer>> loaded = tokenizer::LoadTokenizer(model_dir);
    if (!loaded.ok()) return loaded.status();
    if ((*loaded)->vocab_size() > c.vocab_size) {
      return absl::InvalidArgumentError(absl::StrCat(model_dir, ": tokenizer has ",
                                                     (*loaded)->vocab_size(),
                                                     " pieces but the model only ", c.vocab_size));
    }
    encoder->tokenizer_ = std::move(*loaded);
  }
  return encoder;
}

int BertEncoder::embedding_dimension() const {
  const int modes = pooling_.cls_token + pooling_.mean_tokens + pooling_.max_tokens +
                    pooling_.mean_sqrt_len_tokens;
  return modes * config_.hidden_size;
}

absl::Status BertEncoder::ValidateInput(const EncoderInput& input) const {
  if (input.ids.empty()) return absl::InvalidArgumentError("empty input sequence");
  if (static_cast<int>(input.ids.size()) > config_.max_position_embeddings) {
    return absl::InvalidArgumentError(absl::StrCat("sequence of ", input.ids.size(),
                                                   " tokens exceeds max_position_embeddings ",
                                                   config_.max_position_embeddings));
  }
  for (int32_t id : input.ids) {
    if (id < 0 || id >= config_.vocab_size) {
      return absl::InvalidArgumentError(absl::StrCat("token id ", id, " outside [0, ",
                                                     config_.vocab_size, ")"));
    }
  }
  if (!input.token_type_ids.empty()) {
    if (input.token_type_ids.size() != input.ids.size()) {
      return absl::InvalidArgumentError("token_type_ids and ids differ in length");
    }
    for (int32_t type : input.token_type_ids) {
      if (type < 0 || type >= config_.type_vocab_size) {
        return absl::InvalidArgumentError(absl::StrCat("token type ", type, " outside [0, ",
                                                       config_.type_vocab_size, ")"));
      }
    }
  }
  return absl::OkStatus();
}

std::unique_ptr<BertEncoder::Workspace> BertEncoder::AcquireWorkspace() const {
  absl::MutexLock lock(&workspace_mutex_);
  if (free_workspaces_.empty()) return std::make_unique<Workspace>();
  std::unique_ptr<Workspace> workspace = std::move(free_workspaces_.back());
  free_workspaces_.pop_back();
  return workspace;
}

void BertEncoder::ReleaseWorkspace(std::unique_ptr<Workspace> workspace) const {
  absl::MutexLock lock(&workspace_mutex_);
  free_workspaces_.push_back(std::move(workspace));
}

void BertEncoder::Forward(absl::Span<const EncoderInput* const> batch,
                          Workspace* workspace) const {
  const int h = config_.hidden_size, inter = config_.intermediate_size;
  const int heads = config_.num_attention_heads, head_dim = h / heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  const double eps = config_.layer_norm_eps;
  const int threads = options_.num_threads > 0 ? options_.num_threads : 0;
  const int gemm_threads = threads > 0 ? threads : omp_get_max_threads();

  // Sequences are packed without padding: attention runs per sequence, so padded
  // positions never need masking and cost nothing.
  std::vector<int> starts, lengths;
  int total = 0;
  for (const EncoderInput* input : batch) {
    starts.push_back(total);
    lengths.push_back(static_cast<int>(input->ids.size()));
    total += lengths.back();
  }
  // Every element is written before it is read, so resizing (which keeps old
  // contents and only grows) is enough.
  std::vector<float>& x = workspace->states;
  std::vector<float>& qkv = workspace->qkv;
  std::vector<float>& context = workspace->context;
  std::vector<float>& projected = workspace->projected;
  std::vector<float>& intermediate = workspace->intermediate;
  x.resize(static_cast<size_t>(total) * h);
  qkv.resize(static_cast<size_t>(total) * 3 * h);
  context.resize(static_cast<size_t>(total) * h);
  projected.resize(static_cast<size_t>(total) * h);
  intermediate.resize(static_cast<size_t>(total) * inter);

  for (size_t s = 0; s < batch.size(); ++s) {
    const EncoderInput& input = *batch[s];
    for (int t = 0; t < lengths[s]; ++t) {
      float* row = x.data() + static_cast<size_t>(starts[s] + t) * h;
      const float* word = word_embeddings_.data() + static_cast<size_t>(input.ids[t]) * h;
      const float* position = position_embeddings_.data() + static_cast<size_t>(t) * h;
      const int type = input.token_type_ids.empty() ? 0 : input.token_type_ids[t];
      const float* segment = token_type_embeddings_.data() + static_cast<size_t>(type) * h;
      for (int j = 0; j < h; ++j) row[j] = word[j] + position[j] + segment[j];
    }
  }
#pragma omp parallel for num_threads(threads) if (threads != 1)
  for (int t = 0; t < total; ++t) {
    AddLayerNorm(x.data() + static_cast<size_t>(t) * h, nullptr, h, embedding_norm_gamma_.data(),
                 embedding_norm_beta_.data(), eps);
  }

  const int units = static_cast<int>(batch.size()) * heads;
  for (const Layer& layer : layers_) {
    Linear(x.data(), total, layer.qkv, layer.qkv_bias, qkv.data(), gemm_threads);
#pragma omp parallel num_threads(threads) if (threads != 1)
    {
      std::vector<float> scratch;
#pragma omp for schedule(dynamic)
      for (int unit = 0; unit < units; ++unit) {
        const int s = unit / heads, head = unit % heads;
        const size_t stride = 3 * static_cast<size_t>(h);
        const float* q = qkv.data() + static_cast<size_t>(starts[s]) * stride + head * head_dim;
        AttentionHead(q, q + h, q + 2 * h, stride, lengths[s], head_dim, scale,
                      context.data() + static_cast<size_t>(starts[s]) * h + head * head_dim, h,
                      &scratch);
      }
    }
    Linear(context.data(), total, layer.attention_output, layer.attention_output_bias,
           projected.data(), gemm_threads);
#pragma omp parallel for num_threads(threads) if (threads != 1)
    for (int t = 0; t < total; ++t) {
      AddLayerNorm(x.data() + static_cast<size_t>(t) * h, projected.data() + static_cast<size_t>(t) * h,
                   h, layer.attention_norm_gamma.data(), layer.attention_norm_beta.data(), eps);
    }
    Linear(x.data(), total, layer.intermediate, layer.intermediate_bias, intermediate.data(),
           gemm_threads);
#pragma omp parallel for num_threads(threads) if (threads != 1)
    for (int t = 0; t < total; ++t) {
      Activate(intermediate.data() + static_cast<size_t>(t) * inter, inter, config_.hidden_act);
    }
    Linear(intermediate.data(), total, layer.output, layer.output_bias, projected.data(),
           gemm_threads);
#pragma omp parallel for num_threads(threads) if (threads != 1)
    for (int t = 0; t < total; ++t) {
      AddLayerNorm(x.data() + static_cast<size_t>(t) * h, projected.data() + static_cast<size_t>(t) * h,
                   h, layer.output_norm_gamma.data(), layer.output_norm_beta.data(), eps);
    }
  }
}

absl::Status BertEncoder::ForEachSequence(
    absl::Span<const EncoderInput> batch,
    absl::FunctionRef<void(size_t index, const float* states)> fn) const {
  for (const EncoderInput& input : batch) {
    absl::Status status = ValidateInput(input);
    if (!status.ok()) return status;
  }
  std::unique_ptr<Workspace> workspace = AcquireWorkspace();
  const size_t h = config_.hidden_size;
  size_t begin = 0;
  std::vector<const EncoderInput*> chunk;
  while (begin < batch.size()) {
    // A chunk of whole sequences within the token budget (at least one sequence).
    size_t end = begin;
    size_t tokens = 0;
    chunk.clear();
    while (end < batch.size() &&
           (chunk.empty() || tokens + batch[end].ids.size() <= static_cast<size_t>(options_.max_batch_tokens))) {
      tokens += batch[end].ids.size();
      chunk.push_back(&batch[end]);
      ++end;
    }
    Forward(chunk, workspace.get());
    size_t offset = 0;
    for (size_t i = begin; i < end; ++i) {
      fn(i, workspace->states.data() + offset * h);
      offset += batch[i].ids.size();
    }
    begin = end;
  }
  ReleaseWorkspace(std::move(workspace));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::vector<float>>> BertEncoder::HiddenStates(
    absl::Span<const EncoderInput> batch) const {
  std::vector<std::vector<float>> result(batch.size());
  const size_t h = config_.hidden_size;
  absl::Status status = ForEachSequence(batch, [&](size_t i, const float* states) {
    result[i].assign(states, states + batch[i].ids.size() * h);
  });
  if (!status.ok()) return status;
  return result;
}

std::vector<float> BertEncoder::Pool(const float* states, int length) const {
  // sentence-transformers' order of concatenation: cls, max, mean, mean_sqrt_len.
  const int h = config_.hidden_size;
  std::vector<float> pooled;
  pooled.reserve(embedding_dimension());
  if (pooling_.cls_token) pooled.insert(pooled.end(), states, states + h);
  if (pooling_.max_tokens) {
    for (int j = 0; j < h; ++j) {
      float best = -std::numeric_limits<float>::infinity();
      for (int t = 0; t < length; ++t) best = std::max(best, states[static_cast<size_t>(t) * h + j]);
      pooled.push_back(best);
    }
  }
  if (pooling_.mean_tokens || pooling_.mean_sqrt_len_tokens) {
    std::vector<double> sum(h, 0.0);
    for (int t = 0; t < length; ++t) {
      for (int j = 0; j < h; ++j) sum[j] += states[static_cast<size_t>(t) * h + j];
    }
    if (pooling_.mean_tokens) {
      for (int j = 0; j < h; ++j) pooled.push_back(static_cast<float>(sum[j] / length));
    }
    if (pooling_.mean_sqrt_len_tokens) {
      for (int j = 0; j < h; ++j) pooled.push_back(static_cast<float>(sum[j] / std::sqrt(length)));
    }
  }
  if (normalize_) {
    double norm = 0;
    for (float v : pooled) norm += static_cast<double>(v) * v;
    const float inverse = static_cast<float>(1.0 / std::max(std::sqrt(norm), 1e-12));
    for (float& v : pooled) v *= inverse;
  }
  return pooled;
}

absl::StatusOr<std::vector<std::vector<float>>> BertEncoder::EncodeIds(
    absl::Span<const std::vector<int32_t>> batch) const {
  std::vector<EncoderInput> inputs(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) inputs[i].ids = batch[i];
  std::vector<std::vector<float>> embeddings(batch.size());
  absl::Status status = ForEachSequence(inputs, [&](size_t i, const float* states) {
    embeddings[i] = Pool(states, static_cast<int>(batch[i].size()));
  });
  if (!status.ok()) return status;
  return embeddings;
}

absl::StatusOr<std::vector<int32_t>> BertEncoder::Tokenize(absl::string_view text) const {
  if (tokenizer_ == nullptr) {
    return absl::FailedPreconditionError("the model directory has no tokenizer (tokenizer.json or vocab.txt)");
  }
  absl::StatusOr<std::vector<int32_t>> ids = tokenizer_->Encode(text, /*add_special_tokens=*/true);
  if (!ids.ok()) return ids.status();
  if (static_cast<int>(ids->size()) > max_seq_length_) {
    const int32_t last = ids->back();  // [SEP]
    ids->resize(max_seq_length_ - 1);
    ids->push_back(last);
  }
  return ids;
}

absl::StatusOr<std::vector<std::vector<float>>> BertEncoder::Embed(
    absl::Span<const std::string> texts) const {
  std::vector<std::vector<int32_t>> batch;
  batch.reserve(texts.size());
  for (const std::string& text : texts) {
    absl::StatusOr<std::vector<int32_t>> ids = Tokenize(text);
    if (!ids.ok()) return ids.status();
    batch.push_back(std::move(*ids));
  }
  return EncodeIds(batch);
}

absl::StatusOr<std::vector<std::vector<float>>> BertEncoder::ClassifyPairs(
    absl::Span<const EncoderInput> pairs) const {
  if (!has_classifier()) {
    return absl::FailedPreconditionError("the model has no sequence-classification head");
  }
  const int h = config_.hidden_size, labels = config_.num_labels;
  std::vector<std::vector<float>> logits(pairs.size());
  std::vector<float> pooled(h);
  absl::Status status = ForEachSequence(pairs, [&](size_t i, const float* cls) {
    for (int r = 0; r < h; ++r) {
      double sum = pooler_bias_[r];
      const float* w = pooler_weight_.data() + static_cast<size_t>(r) * h;
      for (int j = 0; j < h; ++j) sum += static_cast<double>(w[j]) * cls[j];
      pooled[r] = static_cast<float>(std::tanh(sum));
    }
    logits[i].resize(labels);
    for (int l = 0; l < labels; ++l) {
      double sum = classifier_bias_[l];
      const float* w = classifier_weight_.data() + static_cast<size_t>(l) * h;
      for (int j = 0; j < h; ++j) sum += static_cast<double>(w[j]) * pooled[j];
      logits[i][l] = static_cast<float>(sum);
    }
  });
  if (!status.ok()) return status;
  return logits;
}

absl::StatusOr<std::vector<float>> BertEncoder::ScoreIds(absl::Span<const EncoderInput> pairs) const {
  absl::StatusOr<std::vector<std::vector<float>>> logits = ClassifyPairs(pairs);
  if (!logits.ok()) return logits.status();
  std::vector<float> scores;
  scores.reserve(logits->size());
  for (const std::vector<float>& row : *logits) scores.push_back(row.back());
  return scores;
}

absl::StatusOr<std::vector<float>> BertEncoder::Score(absl::string_view query,
                                                      absl::Span<const std::string> passages) const {
  if (tokenizer_ == nullptr) {
    return absl::FailedPreconditionError("the model directory has no tokenizer (tokenizer.json or vocab.txt)");
  }
  if (!has_classifier()) {
    return absl::FailedPreconditionError("the model has no sequence-classification head");
  }
  std::vector<EncoderInput> pairs(passages.size());
  for (size_t i = 0; i < passages.size(); ++i) {
    absl::StatusOr<tokenizer::PairEncoding> encoded =
        tokenizer_->EncodePair(query, passages[i], max_seq_length_);
    if (!encoded.ok()) return encoded.status();
    pairs[i].ids = std::move(encoded->ids);
    pairs[i].token_type_ids = std::move(encoded->token_type_ids);
  }
  return ScoreIds(pairs);
}

}  // namespace tessera::bert

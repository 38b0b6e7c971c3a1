#include "engine/model/make_random.h"

#include <errno.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/shared_data.h"
#include "engine/llama/llama2c_checkpoint.h"
#include "engine/model/gguf.h"
#include "engine/model/llama_tensor_names.h"
#include "engine/model/model_config.h"
#include "engine/model/safetensors.h"
#include "engine/model/tensor.h"
#include "engine/tokenizer/sentencepiece_model.h"

namespace tessera::model {
namespace {

constexpr float kInitStd = 0.02f;

// How a tensor's values are drawn.
enum class Init { kWeight, kBias, kNormWeight };

struct RandomTensor {
  std::string name;
  std::vector<int64_t> shape;  // Row-major.
  Init init = Init::kWeight;
};

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t HashName(absl::string_view name) {
  uint64_t hash = 0xcbf29ce484222325ull;  // FNV-1a: stable across runs and platforms.
  for (char c : name) hash = (hash ^ static_cast<uint8_t>(c)) * 0x100000001b3ull;
  return hash;
}

// Values depend only on (seed, tensor name), not on order or output format.
// Uniform noise with the standard deviation of HF's N(0, 0.02) initialiser: fast
// enough for 7B-parameter shapes.
std::vector<float> RandomValues(const RandomTensor& tensor, uint64_t seed) {
  int64_t count = 1;
  for (int64_t dim : tensor.shape) count *= dim;
  std::vector<float> values(count);
  uint64_t state = seed ^ HashName(tensor.name);
  const float half_width = kInitStd * std::sqrt(3.0f);
  for (int64_t i = 0; i < count; ++i) {
    const float unit = static_cast<float>(SplitMix64(&state) >> 40) / 16777216.0f;  // [0, 1)
    const float noise = (2.0f * unit - 1.0f) * half_width;
    values[i] = tensor.init == Init::kNormWeight ? 1.0f + noise : noise;
  }
  return values;
}

absl::StatusOr<DType> ParseDType(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  if (lower.empty() || lower == "f32") return DType::kF32;
  if (lower == "f16") return DType::kF16;
  if (lower == "bf16") return DType::kBF16;
  if (lower == "q8_0") return DType::kQ8_0;
  if (lower == "q4_0") return DType::kQ4_0;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown dtype \"", name, "\" (f32, f16, bf16, q8_0, q4_0)"));
}

absl::Status MakeDirectories(const std::string& path) {
  std::string partial;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      if (!partial.empty() && ::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) {
        return absl::InternalError(absl::StrCat("cannot create ", partial, ": ", std::strerror(errno)));
      }
    }
    if (i < path.size()) partial.push_back(path[i]);
  }
  return absl::OkStatus();
}

absl::Status WriteTextFile(const std::string& path, absl::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), text.size());
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string DirName(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return "";
  return path.substr(0, slash);
}

// Encodes the random values of `tensor` as `dtype` into a writer's buffer.
TensorToWrite ToWrite(RandomTensor tensor, DType dtype, uint64_t seed) {
  TensorToWrite out;
  out.name = tensor.name;
  out.dtype = dtype;
  out.shape = tensor.shape;
  out.fill = [tensor = std::move(tensor), dtype, seed](uint8_t* dst, size_t) {
    const std::vector<float> values = RandomValues(tensor, seed);
    // The size was checked when the writer took the tensor; encoding cannot fail.
    EncodeF32(values, dtype, dst).IgnoreError();
  };
  return out;
}

std::vector<RandomTensor> BertTensors(const BertConfig& config, const std::string& prefix,
                                      bool classifier) {
  const int64_t h = config.hidden_size, inter = config.intermediate_size;
  std::vector<RandomTensor> tensors = {
      {prefix + "embeddings.word_embeddings.weight", {config.vocab_size, h}},
      {prefix + "embeddings.position_embeddings.weight", {config.max_position_embeddings, h}},
      {prefix + "embeddings.token_type_embeddings.weight", {config.type_vocab_size, h}},
      {prefix + "embeddings.LayerNorm.weight", {h}, Init::kNormWeight},
      {prefix + "embeddings.LayerNorm.bias", {h}, Init::kBias},
  };
  for (int layer = 0; layer < config.num_hidden_layers; ++layer) {
    const std::string p = absl::StrCat(prefix, "encoder.layer.", layer, ".");
    for (const char* name : {"query", "key", "value"}) {
      tensors.push_back({p + "attention.self." + name + ".weight", {h, h}});
      tensors.push_back({p + "attention.self." + name + ".bias", {h}, Init::kBias});
    }
    tensors.push_back({p + "attention.output.dense.weight", {h, h}});
    tensors.push_back({p + "attention.output.dense.bias", {h}, Init::kBias});
    tensors.push_back({p + "attention.output.LayerNorm.weight", {h}, Init::kNormWeight});
    tensors.push_back({p + "attention.output.LayerNorm.bias", {h}, Init::kBias});
    tensors.push_back({p + "intermediate.dense.weight", {inter, h}});
    tensors.push_back({p + "intermediate.dense.bias", {inter}, Init::kBias});
    tensors.push_back({p + "output.dense.weight", {h, inter}});
    tensors.push_back({p + "output.dense.bias", {h}, Init::kBias});
    tensors.push_back({p + "output.LayerNorm.weight", {h}, Init::kNormWeight});
    tensors.push_back({p + "output.LayerNorm.bias", {h}, Init::kBias});
  }
  tensors.push_back({prefix + "pooler.dense.weight", {h, h}});
  tensors.push_back({prefix + "pooler.dense.bias", {h}, Init::kBias});
  if (classifier) {
    tensors.push_back({"classifier.weight", {config.num_labels, h}});
    tensors.push_back({"classifier.bias", {config.num_labels}, Init::kBias});
  }
  return tensors;
}

// A vocab.txt: the shared uncased vocabulary when it fits, else special tokens,
// single characters and numbered filler words.
absl::Status WriteBertVocab(const BertConfig& config, const std::string& dir) {
  if (config.vocab_size == 30522) {
    if (std::optional<std::string> vocab = FindSharedFile("models/all-MiniLM-L6-v2/vocab.txt")) {
      absl::StatusOr<std::string> text = ReadTextFile(*vocab);
      if (!text.ok()) return text.status();
      absl::Status status = WriteTextFile(dir + "/vocab.txt", *text);
      if (!status.ok()) return status;
      for (const char* extra : {"tokenizer_config.json", "special_tokens_map.json"}) {
        if (std::optional<std::string> path =
                FindSharedFile(absl::StrCat("models/all-MiniLM-L6-v2/", extra))) {
          absl::StatusOr<std::string> content = ReadTextFile(*path);
          if (content.ok()) status = WriteTextFile(absl::StrCat(dir, "/", extra), *content);
          if (!status.ok()) return status;
        }
      }
      return absl::OkStatus();
    }
  }
  std::vector<std::string> pieces = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  for (char c = 'a'; c <= 'z'; ++c) pieces.push_back(std::string(1, c));
  for (char c = '0'; c <= '9'; ++c) pieces.push_back(std::string(1, c));
  for (char c : std::string(".,;:!?'\"()-")) pieces.push_back(std::string(1, c));
  for (char c = 'a'; c <= 'z'; ++c) pieces.push_back(absl::StrCat("##", std::string(1, c)));
  for (int i = 0; static_cast<int>(pieces.size()) < config.vocab_size; ++i) {
    pieces.push_back(absl::StrCat("word", i));
  }
  pieces.resize(config.vocab_size);
  std::string text;
  for (const std::string& piece : pieces) absl::StrAppend(&text, piece, "\n");
  return WriteTextFile(dir + "/vocab.txt", text);
}

absl::StatusOr<std::string> MakeRandomBert(absl::string_view shape, bool cross_encoder,
                                           const std::string& dir, uint64_t seed, DType dtype) {
  if (dtype != DType::kF32 && dtype != DType::kF16 && dtype != DType::kBF16) {
    return absl::InvalidArgumentError("BERT safetensors take f32, f16 or bf16");
  }
  absl::StatusOr<BertConfig> config = NamedBertShape(shape);
  if (!config.ok()) return config.status();
  if (cross_encoder) config->num_labels = 1;
  absl::Status status = MakeDirectories(dir);
  if (status.ok()) status = WriteTextFile(dir + "/config.json", BertConfigToJson(*config));
  if (!status.ok()) return status;
  std::vector<TensorToWrite> tensors;
  for (RandomTensor& tensor : BertTensors(*config, cross_encoder ? "bert." : "", cross_encoder)) {
    tensors.push_back(ToWrite(std::move(tensor), dtype, seed));
  }
  status = WriteSafetensors(dir + "/model.safetensors", tensors, {{"format", "pt"}});
  if (status.ok()) status = WriteBertVocab(*config, dir);
  if (!status.ok()) return status;
  if (!cross_encoder) {
    status = MakeDirectories(dir + "/1_Pooling");
    if (status.ok()) {
      status = WriteTextFile(dir + "/1_Pooling/config.json",
                             absl::StrCat("{\n  \"word_embedding_dimension\": ", config->hidden_size,
                                          ",\n  \"pooling_mode_cls_token\": false,\n"
                                          "  \"pooling_mode_mean_tokens\": true,\n"
                                          "  \"pooling_mode_max_tokens\": false,\n"
                                          "  \"pooling_mode_mean_sqrt_len_tokens\": false\n}\n"));
    }
    if (status.ok()) {
      status = WriteTextFile(
          dir + "/modules.json",
          "[\n  {\"idx\": 0, \"name\": \"0\", \"path\": \"\", \"type\": "
          "\"sentence_transformers.models.Transformer\"},\n"
          "  {\"idx\": 1, \"name\": \"1\", \"path\": \"1_Pooling\", \"type\": "
          "\"sentence_transformers.models.Pooling\"},\n"
          "  {\"idx\": 2, \"name\": \"2\", \"path\": \"2_Normalize\", \"type\": "
          "\"sentence_transformers.models.Normalize\"}\n]\n");
    }
    if (status.ok()) {
      status = WriteTextFile(dir + "/sentence_bert_config.json",
                             absl::StrCat("{\n  \"max_seq_length\": ",
                                          std::min(256, config->max_position_embeddings),
                                          ",\n  \"do_lower_case\": false\n}\n"));
    }
  }
  if (!status.ok()) return status;
  return dir;
}

// One HF-named tensor and, for GGUF, its llama.cpp name.
struct LlamaTensor {
  RandomTensor hf;
  std::string gguf_name;
  int permute_heads = 0;  // > 0: rows permuted for llama.cpp's RoPE layout.
};

std::vector<LlamaTensor> LlamaTensors(const LlamaConfig& c) {
  const int64_t h = c.hidden_size, inter = c.intermediate_size;
  const int64_t head_dim = h / c.num_attention_heads;
  const int64_t kv = head_dim * c.num_key_value_heads;
  const LlamaTensorNames& hf = kHuggingFaceTensorNames;
  const LlamaTensorNames& gg = kLlamaCppTensorNames;
  std::vector<LlamaTensor> tensors;
  tensors.push_back({{hf.embedding, {c.vocab_size, h}}, gg.embedding});
  for (int layer = 0; layer < c.num_hidden_layers; ++layer) {
    const std::string hp = absl::StrCat(hf.layer_prefix, layer, ".");
    const std::string gp = absl::StrCat(gg.layer_prefix, layer, ".");
    tensors.push_back({{hp + hf.attn_norm, {h}, Init::kNormWeight}, gp + gg.attn_norm});
    tensors.push_back({{hp + hf.q, {h, h}}, gp + gg.q, c.num_attention_heads});
    tensors.push_back({{hp + hf.k, {kv, h}}, gp + gg.k, c.num_key_value_heads});
    tensors.push_back({{hp + hf.v, {kv, h}}, gp + gg.v});
    tensors.push_back({{hp + hf.o, {h, h}}, gp + gg.o});
    tensors.push_back({{hp + hf.ffn_norm, {h}, Init::kNormWeight}, gp + gg.ffn_norm});
    tensors.push_back({{hp + hf.gate, {inter, h}}, gp + gg.gate});
    tensors.push_back({{hp + hf.up, {inter, h}}, gp + gg.up});
    tensors.push_back({{hp + hf.down, {h, inter}}, gp + gg.down});
  }
  tensors.push_back({{hf.output_norm, {h}, Init::kNormWeight}, gg.output_norm});
  if (!c.tie_word_embeddings) {
    tensors.push_back({{hf.output, {c.vocab_size, h}}, gg.output});
  }
  return tensors;
}

// llama.cpp's converter reorders each head's rows from HF's rotate-half layout to
// interleaved pairs: GGUF row (head, 2j + t) = HF row (head, t * head_dim/2 + j).
std::vector<float> PermuteForGguf(const std::vector<float>& hf, int64_t rows, int64_t cols,
                                  int heads) {
  std::vector<float> out(hf.size());
  const int64_t head_dim = rows / heads, half = head_dim / 2;
  for (int head = 0; head < heads; ++head) {
    for (int64_t j = 0; j < half; ++j) {
      for (int t = 0; t < 2; ++t) {
        const int64_t dst = head * head_dim + 2 * j + t;
        const int64_t src = head * head_dim + t * half + j;
        std::memcpy(&out[dst * cols], &hf[src * cols], cols * sizeof(float));
      }
    }
  }
  return out;
}

absl::StatusOr<std::unique_ptr<tokenizer::SentencePieceModel>> SharedLlamaTokenizer() {
  std::optional<std::string> path = FindSharedFile("tokenizers/llama2/tokenizer.model");
  if (!path) return absl::NotFoundError("no shared Llama 2 tokenizer.model");
  absl::StatusOr<std::string> bytes = ReadTextFile(*path);
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<tokenizer::SentencePieceModel> model = tokenizer::ParseSentencePieceModel(*bytes);
  if (!model.ok()) return model.status();
  return std::make_unique<tokenizer::SentencePieceModel>(std::move(*model));
}

// tokenizer.ggml.* for GGUF: the shared Llama 2 vocabulary when it has the right
// size; otherwise <unk>, <s>, </s>, 256 byte pieces and numbered filler pieces.
void SetLlamaVocab(const LlamaConfig& config, GgufWriter* writer) {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  absl::StatusOr<std::unique_ptr<tokenizer::SentencePieceModel>> shared = SharedLlamaTokenizer();
  if (shared.ok() && static_cast<int>((*shared)->vocab.pieces.size()) == config.vocab_size) {
    tokens = (*shared)->vocab.pieces;
    scores = (*shared)->vocab.scores;
    for (tokenizer::PieceType type : (*shared)->vocab.types) types.push_back(static_cast<int32_t>(type));
  } else {
    tokens = {"<unk>", "<s>", "</s>"};
    types = {2, 3, 3};
    for (int byte = 0; byte < 256; ++byte) {
      tokens.push_back(absl::StrFormat("<0x%02X>", byte));
      types.push_back(6);
    }
    for (int i = 0; static_cast<int>(tokens.size()) < config.vocab_size; ++i) {
      tokens.push_back(absl::StrCat("\xe2\x96\x81tok", i));
      types.push_back(1);
    }
    tokens.resize(config.vocab_size);
    types.resize(config.vocab_size);
    scores.assign(tokens.size(), 0.0f);
    for (size_t i = 0; i < scores.size(); ++i) scores[i] = -static_cast<float>(i);
  }
  writer->SetString("tokenizer.ggml.model", "llama");
  writer->SetStringArray("tokenizer.ggml.tokens", tokens);
  writer->SetFloat32Array("tokenizer.ggml.scores", scores);
  writer->SetInt32Array("tokenizer.ggml.token_type", types);
  writer->SetUint32("tokenizer.ggml.bos_token_id", config.bos_token_id);
  writer->SetUint32("tokenizer.ggml.eos_token_id", config.eos_token_id);
  writer->SetUint32("tokenizer.ggml.unknown_token_id", 0);
  writer->SetBool("tokenizer.ggml.add_bos_token", true);
  writer->SetBool("tokenizer.ggml.add_eos_token", false);
}

absl::StatusOr<std::string> MakeRandomLlamaGguf(absl::string_view shape, const LlamaConfig& config,
                                                const std::string& path, uint64_t seed,
                                                DType dtype) {
  if (dtype == DType::kBF16) return absl::InvalidArgumentError("GGUF output takes f32, f16, q8_0 or q4_0");
  if ((dtype == DType::kQ8_0 || dtype == DType::kQ4_0) &&
      (config.hidden_size % kQuantBlock != 0 || config.intermediate_size % kQuantBlock != 0)) {
    return absl::InvalidArgumentError("quantised GGUF needs sizes that are multiples of 32");
  }
  GgufWriter writer;
  writer.SetString("general.architecture", "llama");
  writer.SetString("general.name", absl::StrCat("random-", shape));
  // llama_ftype: ALL_F32 = 0, MOSTLY_F16 = 1, MOSTLY_Q4_0 = 2, MOSTLY_Q8_0 = 7.
  const uint32_t file_type = dtype == DType::kF16    ? 1
                             : dtype == DType::kQ4_0 ? 2
                             : dtype == DType::kQ8_0 ? 7
                                                     : 0;
  writer.SetUint32("general.file_type", file_type);
  if (file_type >= 2) writer.SetUint32("general.quantization_version", 2);
  writer.SetUint32("llama.vocab_size", config.vocab_size);
  writer.SetUint32("llama.context_length", config.max_position_embeddings);
  writer.SetUint32("llama.embedding_length", config.hidden_size);
  writer.SetUint32("llama.block_count", config.num_hidden_layers);
  writer.SetUint32("llama.feed_forward_length", config.intermediate_size);
  writer.SetUint32("llama.attention.head_count", config.num_attention_heads);
  writer.SetUint32("llama.attention.head_count_kv", config.num_key_value_heads);
  writer.SetUint32("llama.rope.dimension_count", config.hidden_size / config.num_attention_heads);
  writer.SetFloat32("llama.rope.freq_base", static_cast<float>(config.rope_theta));
  writer.SetFloat32("llama.attention.layer_norm_rms_epsilon", static_cast<float>(config.rms_norm_eps));
  SetLlamaVocab(config, &writer);
  for (LlamaTensor& tensor : LlamaTensors(config)) {
    // llama.cpp keeps 1-D tensors (the norms) in f32 whatever the file type.
    const DType tensor_dtype = tensor.hf.shape.size() == 1 ? DType::kF32 : dtype;
    TensorToWrite out;
    out.name = tensor.gguf_name;
    out.dtype = tensor_dtype;
    out.shape = tensor.hf.shape;
    out.fill = [hf = tensor.hf, heads = tensor.permute_heads, tensor_dtype, seed](uint8_t* dst,
                                                                                 size_t) {
      std::vector<float> values = RandomValues(hf, seed);
      if (heads > 0) values = PermuteForGguf(values, hf.shape[0], hf.shape[1], heads);
      EncodeF32(values, tensor_dtype, dst).IgnoreError();
    };
    absl::Status status = writer.AddTensor(std::move(out));
    if (!status.ok()) return status;
  }
  const std::string parent = DirName(path);
  if (!parent.empty()) {
    absl::Status status = MakeDirectories(parent);
    if (!status.ok()) return status;
  }
  absl::Status status = writer.Write(path);
  if (!status.ok()) return status;
  return path;
}

// llama2.c's legacy (version 0) .bin: the GGUF tensors (q/k rows permuted alike)
// in llama2.c's order, plus the shared tokenizer.bin beside it when the vocabulary
// is Llama 2's and no tokenizer.bin is there yet.
absl::StatusOr<std::string> MakeRandomLlama2c(const LlamaConfig& config, const std::string& path,
                                              uint64_t seed, DType dtype) {
  if (dtype != DType::kF32) return absl::InvalidArgumentError("llama2c output takes f32 only");
  llama::Llama2cConfig out;
  out.dim = config.hidden_size;
  out.hidden_dim = config.intermediate_size;
  out.num_layers = config.num_hidden_layers;
  out.num_heads = config.num_attention_heads;
  out.num_kv_heads = config.num_key_value_heads;
  out.vocab_size = config.vocab_size;
  out.seq_len = config.max_position_embeddings;
  out.shared_classifier = config.tie_word_embeddings;
  std::vector<LlamaTensor> tensors = LlamaTensors(config);
  auto fill = [&](const std::string& name, float* dst, size_t count) {
    for (const LlamaTensor& tensor : tensors) {
      if (tensor.gguf_name != name) continue;
      std::vector<float> values = RandomValues(tensor.hf, seed);
      if (tensor.permute_heads > 0) {
        values = PermuteForGguf(values, tensor.hf.shape[0], tensor.hf.shape[1], tensor.permute_heads);
      }
      std::memcpy(dst, values.data(), std::min(count, values.size()) * sizeof(float));
    }
  };
  const std::string parent = DirName(path);
  if (!parent.empty()) {
    absl::Status status = MakeDirectories(parent);
    if (!status.ok()) return status;
  }
  absl::Status status = llama::WriteLlama2cCheckpoint(path, out, fill);
  if (!status.ok()) return status;
  const std::string tokenizer_path = (parent.empty() ? std::string(".") : parent) + "/tokenizer.bin";
  struct stat st;
  if (config.vocab_size == 32000 && ::stat(tokenizer_path.c_str(), &st) != 0) {
    if (std::optional<std::string> shared = FindSharedFile("tokenizers/llama2/tokenizer.bin")) {
      absl::StatusOr<std::string> bytes = ReadTextFile(*shared);
      if (bytes.ok()) status = WriteTextFile(tokenizer_path, *bytes);
      if (!status.ok()) return status;
    }
  }
  return path;
}

absl::StatusOr<std::string> MakeRandomLlamaSafetensors(const LlamaConfig& config,
                                                       const std::string& dir, uint64_t seed,
                                                       DType dtype) {
  if (dtype != DType::kF32 && dtype != DType::kF16 && dtype != DType::kBF16) {
    return absl::InvalidArgumentError("safetensors output takes f32, f16 or bf16");
  }
  absl::Status status = MakeDirectories(dir);
  if (status.ok()) status = WriteTextFile(dir + "/config.json", LlamaConfigToJson(config));
  if (!status.ok()) return status;
  std::vector<TensorToWrite> tensors;
  for (LlamaTensor& tensor : LlamaTensors(config)) {
    tensors.push_back(ToWrite(std::move(tensor.hf), dtype, seed));
  }
  status = WriteSafetensors(dir + "/model.safetensors", tensors, {{"format", "pt"}});
  if (!status.ok()) return status;
  if (config.vocab_size == 32000) {
    if (std::optional<std::string> path = FindSharedFile("tokenizers/llama2/tokenizer.model")) {
      absl::StatusOr<std::string> bytes = ReadTextFile(*path);
      if (bytes.ok()) status = WriteTextFile(dir + "/tokenizer.model", *bytes);
      if (!status.ok()) return status;
    }
  }
  return dir;
}

}  // namespace

absl::StatusOr<std::string> MakeRandomModel(absl::string_view arch, absl::string_view shape,
                                            absl::string_view format,
                                            const std::string& out_path, uint64_t seed,
                                            absl::string_view dtype_name) {
  if (out_path.empty()) return absl::InvalidArgumentError("an output path is required");
  absl::StatusOr<DType> dtype = ParseDType(dtype_name);
  if (!dtype.ok()) return dtype.status();
  const std::string format_name = format.empty() ? "safetensors" : std::string(format);
  if (format_name != "safetensors" && format_name != "gguf" && format_name != "llama2c") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown format \"", format, "\" (safetensors, gguf, llama2c)"));
  }
  if (arch == "bert" || arch == "bert-cross-encoder") {
    if (format_name != "safetensors") {
      return absl::UnimplementedError("BERT models are written as safetensors only");
    }
    return MakeRandomBert(shape, arch == "bert-cross-encoder", out_path, seed, *dtype);
  }
  if (arch == "llama") {
    absl::StatusOr<LlamaConfig> config = NamedLlamaShape(shape);
    if (!config.ok()) return config.status();
    if (format_name == "gguf") return MakeRandomLlamaGguf(shape, *config, out_path, seed, *dtype);
    if (format_name == "llama2c") return MakeRandomLlama2c(*config, out_path, seed, *dtype);
    return MakeRandomLlamaSafetensors(*config, out_path, seed, *dtype);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown arch \"", arch, "\" (bert, bert-cross-encoder, llama)"));
}

}  // namespace tessera::model

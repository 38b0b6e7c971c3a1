#include "engine/llama/llama_model.h"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/shared_data.h"
#include "engine/llama/kernels.h"
#include "engine/model/gguf.h"
#include "engine/model/make_random.h"
#include "engine/model/safetensors.h"
#include "engine/model/tensor.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace tessera::llama {
namespace {

using model::DType;

std::string FixtureDir() { return RunfilePath("engine/llama/testdata/tiny_llama"); }

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
}

struct Expected {
  std::vector<int32_t> prompt;
  int vocab_size = 0;
  std::vector<std::vector<float>> logits;
  std::vector<int32_t> greedy;
};

Expected LoadExpected() {
  std::ifstream in(RunfilePath("engine/llama/testdata/tiny_llama_expected.json"));
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json json = nlohmann::json::parse(text.str());
  Expected expected;
  expected.prompt = json["prompt"].get<std::vector<int32_t>>();
  expected.vocab_size = json["vocab_size"].get<int>();
  expected.logits = json["logits"].get<std::vector<std::vector<float>>>();
  expected.greedy = json["greedy"].get<std::vector<int32_t>>();
  return expected;
}

// The HF rotate-half rows of a q/k matrix in llama.cpp's interleaved order.
std::vector<float> PermuteRows(const std::vector<float>& hf, int64_t rows, int64_t cols,
                               int heads) {
  std::vector<float> out(hf.size());
  const int64_t head_dim = rows / heads, half = head_dim / 2;
  for (int64_t head = 0; head < heads; ++head) {
    for (int64_t j = 0; j < half; ++j) {
      for (int t = 0; t < 2; ++t) {
        const int64_t dst = head * head_dim + 2 * j + t, src = head * head_dim + t * half + j;
        std::copy(&hf[src * cols], &hf[src * cols] + cols, &out[dst * cols]);
      }
    }
  }
  return out;
}

struct GgufOptions {
  DType dtype = DType::kF32;
  int64_t eos_id = 2;
  std::string architecture = "llama";
  uint32_t kv_heads = 2;  // What the metadata claims.
  bool drop_ffn_down = false;
  // Store the weights as f32 after a round trip through this type (so the file
  // holds exactly the values a quantised file holds).
  DType round_trip = DType::kF32;
};

// The fixture's weights as a llama.cpp-style GGUF (q/k rows permuted, tied
// output, a byte vocabulary of 288 pieces).
std::string WriteFixtureGguf(const std::string& name, const GgufOptions& options) {
  auto file = model::SafetensorsFile::Open(FixtureDir() + "/model.safetensors");
  EXPECT_TRUE(file.ok()) << file.status();
  model::GgufWriter writer;
  writer.SetString("general.architecture", options.architecture);
  const std::string arch = options.architecture;
  writer.SetUint32(arch + ".vocab_size", 288);
  writer.SetUint32(arch + ".context_length", 128);
  writer.SetUint32(arch + ".embedding_length", 64);
  writer.SetUint32(arch + ".block_count", 2);
  writer.SetUint32(arch + ".feed_forward_length", 96);
  writer.SetUint32(arch + ".attention.head_count", 4);
  writer.SetUint32(arch + ".attention.head_count_kv", options.kv_heads);
  writer.SetUint32(arch + ".rope.dimension_count", 16);
  writer.SetFloat32(arch + ".rope.freq_base", 10000.0f);
  writer.SetFloat32(arch + ".attention.layer_norm_rms_epsilon", 1e-5f);
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<int32_t> types = {2, 3, 3};
  for (int byte = 0; byte < 256; ++byte) {
    tokens.push_back(absl::StrFormat("<0x%02X>", byte));
    types.push_back(6);
  }
  for (int i = 0; tokens.size() < 288; ++i) {
    tokens.push_back(absl::StrCat("\xe2\x96\x81w", i));
    types.push_back(1);
  }
  std::vector<float> scores(tokens.size());
  for (size_t i = 0; i < scores.size(); ++i) scores[i] = -static_cast<float>(i);
  writer.SetString("tokenizer.ggml.model", "llama");
  writer.SetStringArray("tokenizer.ggml.tokens", tokens);
  writer.SetFloat32Array("tokenizer.ggml.scores", scores);
  writer.SetInt32Array("tokenizer.ggml.token_type", types);
  writer.SetUint32("tokenizer.ggml.bos_token_id", 1);
  writer.SetUint32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(options.eos_id));
  writer.SetUint32("tokenizer.ggml.unknown_token_id", 0);

  static std::vector<std::vector<uint8_t>>* storage = new std::vector<std::vector<uint8_t>>();
  for (const model::TensorView& tensor : (*file)->tensors()) {
    std::string gguf_name = tensor.name;
    int permute_heads = 0;
    const std::vector<std::pair<std::string, std::string>> renames = {
        {"self_attn.q_proj", "attn_q"},      {"self_attn.k_proj", "attn_k"},
        {"self_attn.v_proj", "attn_v"},      {"self_attn.o_proj", "attn_output"},
        {"mlp.gate_proj", "ffn_gate"},       {"mlp.up_proj", "ffn_up"},
        {"mlp.down_proj", "ffn_down"},       {"input_layernorm", "attn_norm"},
        {"post_attention_layernorm", "ffn_norm"}};
    if (tensor.name == "model.embed_tokens.weight") {
      gguf_name = "token_embd.weight";
    } else if (tensor.name == "model.norm.weight") {
      gguf_name = "output_norm.weight";
    } else {
      const size_t layer_start = std::string("model.layers.").size();
      const size_t dot = tensor.name.find('.', layer_start);
      const std::string layer = tensor.name.substr(layer_start, dot - layer_start);
      std::string rest = tensor.name.substr(dot + 1);
      for (const auto& [from, to] : renames) {
        if (rest.rfind(from, 0) == 0) rest = to + rest.substr(from.size());
      }
      if (rest == "attn_q.weight") permute_heads = 4;
      if (rest == "attn_k.weight") permute_heads = 2;
      gguf_name = absl::StrCat("blk.", layer, ".", rest);
    }
    if (options.drop_ffn_down && gguf_name == "blk.1.ffn_down.weight") continue;
    std::vector<float> values;
    EXPECT_TRUE(model::TensorToF32(tensor, &values).ok());
    if (permute_heads > 0) {
      values = PermuteRows(values, tensor.shape[0], tensor.shape[1], permute_heads);
    }
    if (options.round_trip != DType::kF32 && tensor.shape.size() == 2) {
      std::vector<uint8_t> encoded(*model::TensorByteSize(options.round_trip, tensor.shape));
      EXPECT_TRUE(model::EncodeF32(values, options.round_trip, encoded.data()).ok());
      EXPECT_TRUE(model::TensorToF32({"", options.round_trip, tensor.shape, encoded.data(),
                                      encoded.size()},
                                     &values)
                      .ok());
    }
    const DType dtype = tensor.shape.size() == 1 ? DType::kF32 : options.dtype;
    storage->emplace_back(*model::TensorByteSize(dtype, tensor.shape));
    EXPECT_TRUE(model::EncodeF32(values, dtype, storage->back().data()).ok());
    model::TensorToWrite out;
    out.name = gguf_name;
    out.dtype = dtype;
    out.shape = tensor.shape;
    out.bytes = storage->back();
    EXPECT_TRUE(writer.AddTensor(std::move(out)).ok());
  }
  const std::string path = TempPath(name);
  EXPECT_TRUE(writer.Write(path).ok());
  return path;
}

std::vector<float> AllLogits(const LlamaModel& model, const std::vector<int32_t>& prompt) {
  std::unique_ptr<LlamaSequence> sequence = model.NewSequence(64);
  std::vector<float> all;
  absl::StatusOr<absl::Span<const float>> last = sequence->Forward(prompt, &all);
  EXPECT_TRUE(last.ok()) << last.status();
  return all;
}

// Largest |difference| between our logits and PyTorch's, over every position.
float MaxError(const std::vector<float>& all, const Expected& expected) {
  float worst = 0;
  EXPECT_EQ(all.size(), expected.logits.size() * expected.vocab_size);
  for (size_t t = 0; t < expected.logits.size(); ++t) {
    for (int v = 0; v < expected.vocab_size; ++v) {
      worst = std::max(worst, std::abs(all[t * expected.vocab_size + v] - expected.logits[t][v]));
    }
  }
  return worst;
}

std::vector<int32_t> Greedy(const LlamaModel& model, const std::vector<int32_t>& prompt,
                            int count) {
  SamplingOptions options;
  options.max_tokens = count;
  options.stop_at_eos = false;
  absl::StatusOr<GenerationResult> result = model.Generate(prompt, options);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? result->tokens : std::vector<int32_t>{};
}

TEST(LlamaModelTest, HuggingFaceCheckpointMatchesPyTorch) {
  const Expected expected = LoadExpected();
  absl::StatusOr<std::unique_ptr<LlamaModel>> model = LlamaModel::Load(FixtureDir());
  ASSERT_TRUE(model.ok()) << model.status();
  const LlamaHParams& h = (*model)->hparams();
  EXPECT_EQ(h.vocab_size, 288);
  EXPECT_EQ(h.num_kv_heads, 2);
  EXPECT_EQ(h.rope_layout, RopeLayout::kRotateHalf);
  EXPECT_EQ((*model)->weight_type(), DType::kF16);
  EXPECT_EQ((*model)->tokenizer(), nullptr);
  EXPECT_LT(MaxError(AllLogits(**model, expected.prompt), expected), 1e-3f);
  EXPECT_EQ(Greedy(**model, expected.prompt, 8), expected.greedy);
}

TEST(LlamaModelTest, TokenByTokenDecodeMatchesBatchedPrefill) {
  const Expected expected = LoadExpected();
  auto model = LlamaModel::Load(FixtureDir());
  ASSERT_TRUE(model.ok()) << model.status();
  const std::vector<float> batched = AllLogits(**model, expected.prompt);
  std::unique_ptr<LlamaSequence> sequence = (*model)->NewSequence(32);
  for (size_t t = 0; t < expected.prompt.size(); ++t) {
    auto logits = sequence->Forward(absl::MakeConstSpan(&expected.prompt[t], 1));
    ASSERT_TRUE(logits.ok()) << logits.status();
    for (int v = 0; v < expected.vocab_size; ++v) {
      ASSERT_NEAR((*logits)[v], batched[t * expected.vocab_size + v], 1e-4) << t << " " << v;
    }
  }
  EXPECT_EQ(sequence->position(), static_cast<int>(expected.prompt.size()));
  sequence->Reset();
  EXPECT_EQ(sequence->position(), 0);
}

TEST(LlamaModelTest, ThreadsAndScalarKernelsGiveTheSameLogits) {
  const Expected expected = LoadExpected();
  LlamaLoadOptions options;
  options.num_threads = 2;
  auto model = LlamaModel::Load(FixtureDir(), options);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->num_threads(), 2);
  EXPECT_LT(MaxError(AllLogits(**model, expected.prompt), expected), 1e-3f);
  EXPECT_EQ(Greedy(**model, expected.prompt, 8), expected.greedy);
  ForceScalarKernels(true);
  EXPECT_EQ(Greedy(**model, expected.prompt, 8), expected.greedy);
  ForceScalarKernels(false);
}

float MaxDifference(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float worst = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

// Logits of every position, one decode step (matrix-vector path) at a time.
std::vector<float> StepByStepLogits(const LlamaModel& model, const std::vector<int32_t>& prompt) {
  std::unique_ptr<LlamaSequence> sequence = model.NewSequence(64);
  std::vector<float> all;
  for (const int32_t& id : prompt) {
    auto logits = sequence->Forward(absl::MakeConstSpan(&id, 1));
    EXPECT_TRUE(logits.ok()) << logits.status();
    if (logits.ok()) all.insert(all.end(), logits->begin(), logits->end());
  }
  return all;
}

class LlamaGgufTest : public ::testing::TestWithParam<DType> {};

TEST_P(LlamaGgufTest, ConvertedWeightsMatchTheReference) {
  const DType dtype = GetParam();
  const Expected expected = LoadExpected();
  GgufOptions options;
  options.dtype = dtype;
  const std::string name(model::DTypeName(dtype));
  auto model = LlamaModel::Load(WriteFixtureGguf("tiny_" + name + ".gguf", options));
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->hparams().rope_layout, RopeLayout::kInterleaved);
  EXPECT_EQ((*model)->weight_type(), dtype);
  ASSERT_NE((*model)->tokenizer(), nullptr);
  // Batched prefill (converted rows + sgemm) and decode (the dot kernels).
  const std::vector<float> prefill = AllLogits(**model, expected.prompt);
  const std::vector<float> decode = StepByStepLogits(**model, expected.prompt);
  EXPECT_LT(MaxDifference(prefill, decode), 1e-3f);
  if (dtype == DType::kF32 || dtype == DType::kF16) {
    // The fixture's weights are f16 values, so both files hold them exactly.
    EXPECT_LT(MaxError(prefill, expected), 1e-3f);
    EXPECT_EQ(Greedy(**model, expected.prompt, 8), expected.greedy);
    return;
  }
  // Quantised: exact against an f32 file holding the dequantised weights, and
  // (Q8_0) close enough to PyTorch that greedy decoding agrees.
  options.dtype = DType::kF32;
  options.round_trip = dtype;
  auto dequantised = LlamaModel::Load(WriteFixtureGguf("tiny_" + name + "_f32.gguf", options));
  ASSERT_TRUE(dequantised.ok()) << dequantised.status();
  EXPECT_LT(MaxDifference(prefill, AllLogits(**dequantised, expected.prompt)), 1e-3f);
  const float error = MaxError(prefill, expected);
  std::cout << name << " max |logit - PyTorch f32 logit| " << error << "\n";
  if (dtype == DType::kQ8_0) {
    EXPECT_LT(error, 2.0f);
    EXPECT_EQ(Greedy(**model, expected.prompt, 8), expected.greedy);
  }
}

INSTANTIATE_TEST_SUITE_P(Types, LlamaGgufTest,
                         ::testing::Values(DType::kF32, DType::kF16, DType::kQ8_0, DType::kQ4_0),
                         [](const ::testing::TestParamInfo<DType>& info) {
                           return std::string(model::DTypeName(info.param));
                         });

TEST(LlamaModelTest, MakeRandomGgufAndSafetensorsHoldTheSameModel) {
  const std::string dir = TempPath("random_llama_st");
  const std::string gguf = TempPath("random_llama.gguf");
  ASSERT_TRUE(model::MakeRandomModel("llama", "tiny-llama", "safetensors", dir, 9, "f32").ok());
  ASSERT_TRUE(model::MakeRandomModel("llama", "tiny-llama", "gguf", gguf, 9, "f32").ok());
  auto hf = LlamaModel::Load(dir);
  ASSERT_TRUE(hf.ok()) << hf.status();
  auto gg = LlamaModel::Load(gguf);
  ASSERT_TRUE(gg.ok()) << gg.status();
  const std::vector<int32_t> prompt = {1, 300, 5000, 42, 7, 31999};
  const std::vector<float> a = AllLogits(**hf, prompt);
  const std::vector<float> b = AllLogits(**gg, prompt);
  ASSERT_EQ(a.size(), b.size());
  float worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  EXPECT_LT(worst, 1e-4f);
}

TEST(LlamaModelTest, GenerationWithTokenizerStreamsLogprobsAndStops) {
  const Expected expected = LoadExpected();
  auto model = LlamaModel::Load(WriteFixtureGguf("tiny_gen.gguf", {}));
  ASSERT_TRUE(model.ok()) << model.status();
  SamplingOptions options;
  options.temperature = 1.0f;
  options.top_k = 40;
  options.top_p = 0.95f;
  options.seed = 11;
  options.max_tokens = 24;
  options.stop_at_eos = false;
  options.logprobs = true;
  options.top_logprobs = 3;
  std::string streamed;
  int events = 0;
  auto first = (*model)->Generate(expected.prompt, options, [&](const GeneratedToken& token) {
    streamed += token.text_delta;
    ++events;
    return true;
  });
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->tokens.size(), 24u);
  EXPECT_EQ(events, 24);
  EXPECT_EQ(first->finish_reason, "length");
  EXPECT_EQ(streamed, first->text);
  EXPECT_FALSE(first->text.empty());
  ASSERT_EQ(first->logprobs.size(), 24u);
  ASSERT_EQ(first->top_logprobs.size(), 24u);
  for (size_t i = 0; i < first->logprobs.size(); ++i) {
    EXPECT_LE(first->logprobs[i], 0.0f);
    ASSERT_EQ(first->top_logprobs[i].size(), 3u);
    EXPECT_GE(first->top_logprobs[i][0].logprob, first->top_logprobs[i][1].logprob);
    EXPECT_GE(first->top_logprobs[i][0].logprob, first->logprobs[i]);
  }
  EXPECT_GT(first->timings.prefill_tokens_per_second, 0);
  EXPECT_GT(first->timings.decode_tokens_per_second, 0);

  // Same seed, same tokens; another seed, other tokens.
  auto again = (*model)->Generate(expected.prompt, options);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->tokens, first->tokens);
  options.seed = 12;
  auto other = (*model)->Generate(expected.prompt, options);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->tokens, first->tokens);

  // A stop sequence taken from the middle of the text ends it there.
  options.seed = 11;
  size_t cut = first->text.size() / 2;
  while (cut < first->text.size() && (first->text[cut] & 0xC0) == 0x80) ++cut;
  ASSERT_LT(cut, first->text.size());
  const std::string stop = first->text.substr(cut, (first->text[cut] & 0x80) ? 3 : 1);
  options.stop = {stop};
  streamed.clear();
  auto stopped = (*model)->Generate(expected.prompt, options, [&](const GeneratedToken& token) {
    streamed += token.text_delta;
    return true;
  });
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_EQ(stopped->finish_reason, "stop");
  EXPECT_EQ(stopped->text, first->text.substr(0, first->text.find(stop)));
  EXPECT_EQ(streamed, stopped->text);
  EXPECT_LT(stopped->tokens.size(), first->tokens.size());
}

// Constrained decoding: whatever the (random) weights prefer, the output is
// JSON that satisfies the schema, and generation ends when the object closes.
TEST(LlamaModelTest, JsonSchemaConstraintGivesValidJson) {
  const Expected expected = LoadExpected();
  auto model = LlamaModel::Load(WriteFixtureGguf("tiny_json.gguf", {}));
  ASSERT_TRUE(model.ok()) << model.status();
  SamplingOptions options;
  options.max_tokens = 120;
  options.json_schema = R"({"type": "object",
      "properties": {"name": {"enum": ["alpha", "beta"]}, "count": {"type": "integer"},
                     "ok": {"type": "boolean"}},
      "required": ["name", "count", "ok"]})";
  for (uint64_t seed : {0, 1, 2, 3}) {
    options.temperature = seed == 0 ? 0.0f : 1.0f;
    options.seed = seed;
    std::string streamed;
    auto result = (*model)->Generate(expected.prompt, options, [&](const GeneratedToken& token) {
      streamed += token.text_delta;
      return true;
    });
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->finish_reason, "stop") << result->text;
    EXPECT_EQ(streamed, result->text);
    nlohmann::json value = nlohmann::json::parse(result->text, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(value.is_discarded()) << result->text;
    EXPECT_TRUE(value["name"] == "alpha" || value["name"] == "beta") << result->text;
    EXPECT_TRUE(value["count"].is_number_integer()) << result->text;
    EXPECT_TRUE(value["ok"].is_boolean()) << result->text;
  }
  options.json_schema = R"({"type": "object", "properties": {"a": {"$ref": "#/x"}}})";
  auto bad = (*model)->Generate(expected.prompt, options);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument) << bad.status();
}

// Under a schema the logprobs describe the choice the generation really had:
// the alternatives are allowed tokens only and their probabilities sum to one
// where fewer tokens are allowed than alternatives were asked for (G-Eval's
// score weighting reads them at the score digit).
TEST(LlamaModelTest, LogprobsUnderASchemaAreOverTheAllowedTokens) {
  const Expected expected = LoadExpected();
  auto model = LlamaModel::Load(WriteFixtureGguf("tiny_json_logprobs.gguf", {}));
  ASSERT_TRUE(model.ok()) << model.status();
  SamplingOptions options;
  options.max_tokens = 40;
  options.temperature = 0;
  options.logprobs = true;
  options.top_logprobs = 20;
  options.json_schema = R"({"type": "object",
      "properties": {"score": {"type": "integer", "minimum": 1, "maximum": 5}},
      "required": ["score"]})";
  auto result = (*model)->Generate(expected.prompt, options);
  ASSERT_TRUE(result.ok()) << result.status();
  nlohmann::json value = nlohmann::json::parse(result->text, nullptr, false);
  ASSERT_FALSE(value.is_discarded()) << result->text;
  ASSERT_EQ(result->top_logprobs.size(), result->tokens.size());
  const tokenizer::Tokenizer* tok = (*model)->tokenizer();
  ASSERT_NE(tok, nullptr);
  bool saw_digit_position = false;
  for (size_t i = 0; i < result->tokens.size(); ++i) {
    const auto& top = result->top_logprobs[i];
    ASSERT_FALSE(top.empty());
    // Greedy: the chosen token is the most likely allowed one.
    EXPECT_EQ(top[0].token, result->tokens[i]);
    double mass = 0;
    for (const TokenLogprob& alternative : top) {
      EXPECT_TRUE(std::isfinite(alternative.logprob));
      mass += std::exp(alternative.logprob);
    }
    EXPECT_LE(mass, 1.0 + 1e-4);
    if (top.size() < 20) {
      EXPECT_NEAR(mass, 1.0, 1e-4) << "token " << i;
    }
    // Where the score digit is chosen, every alternative is a digit 1-5.
    const std::vector<int32_t> chosen = {result->tokens[i]};
    auto text = tok->Decode(chosen);
    ASSERT_TRUE(text.ok());
    if (text->size() == 1 && (*text)[0] >= '1' && (*text)[0] <= '5') {
      saw_digit_position = true;
      for (const TokenLogprob& alternative : top) {
        const std::vector<int32_t> other = {alternative.token};
        auto alt = tok->Decode(other);
        ASSERT_TRUE(alt.ok());
        EXPECT_TRUE(alt->size() == 1 && (*alt)[0] >= '1' && (*alt)[0] <= '5') << *alt;
      }
    }
  }
  EXPECT_TRUE(saw_digit_position) << result->text;
}

TEST(LlamaModelTest, EosCancellationAndContextEnd) {
  const Expected expected = LoadExpected();
  // Make the first greedy token not seen before (after the first) the EOS token.
  size_t eos_index = 1;
  while (std::find(expected.greedy.begin(), expected.greedy.begin() + eos_index,
                   expected.greedy[eos_index]) != expected.greedy.begin() + eos_index) {
    ++eos_index;
  }
  GgufOptions gguf_options;
  gguf_options.eos_id = expected.greedy[eos_index];
  auto model = LlamaModel::Load(WriteFixtureGguf("tiny_eos.gguf", gguf_options));
  ASSERT_TRUE(model.ok()) << model.status();
  SamplingOptions options;
  options.max_tokens = 8;
  auto eos = (*model)->Generate(expected.prompt, options);
  ASSERT_TRUE(eos.ok()) << eos.status();
  EXPECT_EQ(eos->finish_reason, "eos");
  EXPECT_EQ(eos->tokens,
            std::vector<int32_t>(expected.greedy.begin(), expected.greedy.begin() + eos_index + 1));

  options.stop_at_eos = false;
  int seen = 0;
  auto cancelled = (*model)->Generate(expected.prompt, options, [&](const GeneratedToken&) {
    return ++seen < 3;
  });
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->finish_reason, "cancelled");
  EXPECT_EQ(cancelled->tokens.size(), 3u);

  LlamaLoadOptions load_options;
  load_options.max_context = static_cast<int>(expected.prompt.size()) + 3;
  auto small = LlamaModel::Load(FixtureDir(), load_options);
  ASSERT_TRUE(small.ok());
  auto full = (*small)->Generate(expected.prompt, options);
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_EQ(full->finish_reason, "length");
  EXPECT_EQ(full->tokens, std::vector<int32_t>(expected.greedy.begin(), expected.greedy.begin() + 4));
  std::vector<int32_t> too_long(load_options.max_context, 5);
  EXPECT_EQ((*small)->Generate(too_long, options).status().code(), absl::StatusCode::kOutOfRange);
}

TEST(LlamaModelTest, BadInputsGiveClearErrors) {
  EXPECT_EQ(LlamaModel::Load(TempPath("no_such_model.gguf")).status().code(),
            absl::StatusCode::kNotFound);
  LlamaLoadOptions bad_threads;
  bad_threads.num_threads = 0;
  EXPECT_EQ(LlamaModel::Load(FixtureDir(), bad_threads).status().code(),
            absl::StatusCode::kInvalidArgument);

  GgufOptions wrong_heads;
  wrong_heads.kv_heads = 4;
  auto status = LlamaModel::Load(WriteFixtureGguf("tiny_wrong.gguf", wrong_heads)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("blk.0.attn_k.weight has shape [32, 64], config says [64, 64]"),
            std::string::npos)
      << status;
  GgufOptions missing;
  missing.drop_ffn_down = true;
  status = LlamaModel::Load(WriteFixtureGguf("tiny_missing.gguf", missing)).status();
  EXPECT_NE(status.message().find("missing tensor blk.1.ffn_down.weight"), std::string::npos)
      << status;
  GgufOptions other_arch;
  other_arch.architecture = "gpt2";
  status = LlamaModel::Load(WriteFixtureGguf("tiny_gpt2.gguf", other_arch)).status();
  EXPECT_NE(status.message().find("not llama"), std::string::npos) << status;

  auto model = LlamaModel::Load(FixtureDir());
  ASSERT_TRUE(model.ok());
  std::unique_ptr<LlamaSequence> sequence = (*model)->NewSequence(4);
  EXPECT_EQ(sequence->Forward(std::vector<int32_t>{288}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sequence->Forward(std::vector<int32_t>{}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sequence->Forward(std::vector<int32_t>{1, 2, 3, 4, 5}).status().code(),
            absl::StatusCode::kOutOfRange);
  SamplingOptions options;
  EXPECT_EQ((*model)->Generate({}, options).status().code(), absl::StatusCode::kInvalidArgument);
  options.stop = {"x"};
  EXPECT_EQ((*model)->Generate(std::vector<int32_t>{1}, options).status().code(),
            absl::StatusCode::kFailedPrecondition);
  options = {};
  options.top_p = 2;
  EXPECT_EQ((*model)->Generate(std::vector<int32_t>{1}, options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tessera::llama

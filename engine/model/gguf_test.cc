#include "engine/model/gguf.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace tessera::model {
namespace {

std::string TempPath(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  return std::string(tmp != nullptr ? tmp : "/tmp") + "/" + name;
}

// Little-endian byte builder for hand-made (and hostile) files.
class Bytes {
 public:
  template <typename T>
  Bytes& Put(T value) {
    data_.append(reinterpret_cast<const char*>(&value), sizeof(T));
    return *this;
  }
  Bytes& Str(const std::string& s) {
    Put<uint64_t>(s.size());
    data_ += s;
    return *this;
  }
  Bytes& Pad(size_t to) {
    while (data_.size() % to != 0) data_.push_back('\0');
    return *this;
  }
  Bytes& Raw(size_t count) {
    data_.append(count, '\x01');
    return *this;
  }
  const std::string& data() const { return data_; }

 private:
  std::string data_;
};

Bytes Header(uint64_t tensors, uint64_t kvs, uint32_t version = 3) {
  Bytes b;
  b.Put<uint32_t>(0x46554747).Put<uint32_t>(version).Put<uint64_t>(tensors).Put<uint64_t>(kvs);
  return b;
}

absl::Status OpenRaw(const std::string& name, const std::string& bytes) {
  const std::string path = TempPath(name);
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), bytes.size());
  return GgufFile::Open(path).status();
}

TEST(GgufTest, RoundTripsMetadataAndTensors) {
  GgufWriter writer;
  ASSERT_TRUE(writer.SetAlignment(64).ok());
  writer.SetString("general.architecture", "llama");
  writer.SetUint32("llama.context_length", 2048);
  writer.SetUint32("llama.embedding_length", 64);
  writer.SetUint32("llama.block_count", 2);
  writer.SetUint32("llama.feed_forward_length", 128);
  writer.SetUint32("llama.attention.head_count", 4);
  writer.SetUint32("llama.attention.head_count_kv", 2);
  writer.SetFloat32("llama.rope.freq_base", 500000.0f);
  writer.SetFloat32("llama.attention.layer_norm_rms_epsilon", 1e-6f);
  writer.Set("u8", GgufValue::Uint(GgufType::kUint8, 200));
  writer.Set("i8", GgufValue::Int(GgufType::kInt8, -5));
  writer.Set("u16", GgufValue::Uint(GgufType::kUint16, 60000));
  writer.Set("i16", GgufValue::Int(GgufType::kInt16, -30000));
  writer.Set("i32", GgufValue::Int(GgufType::kInt32, -7));
  writer.Set("u64", GgufValue::Uint(GgufType::kUint64, 1ull << 40));
  writer.Set("i64", GgufValue::Int(GgufType::kInt64, -(1ll << 40)));
  writer.Set("f64", GgufValue::Float(GgufType::kFloat64, 0.125));
  writer.SetBool("flag", true);
  writer.Set("nested", GgufValue::Array(GgufType::kArray,
                                        {GgufValue::Array(GgufType::kInt32,
                                                          {GgufValue::Int(GgufType::kInt32, 1)})}));
  writer.SetString("tokenizer.ggml.model", "llama");
  writer.SetStringArray("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "\xe2\x96\x81hi"});
  writer.SetFloat32Array("tokenizer.ggml.scores", std::vector<float>{0, 0, 0, -1.5f});
  writer.SetInt32Array("tokenizer.ggml.token_type", std::vector<int32_t>{2, 3, 3, 1});
  writer.SetUint32("tokenizer.ggml.bos_token_id", 1);

  std::vector<float> values(2 * 64);
  for (size_t i = 0; i < values.size(); ++i) values[i] = std::sin(0.37f * i);
  struct Case {
    const char* name;
    DType dtype;
    float tolerance;
  };
  const Case cases[] = {{"f32", DType::kF32, 0},       {"f16", DType::kF16, 1e-3f},
                        {"bf16", DType::kBF16, 1e-2f}, {"q8_0", DType::kQ8_0, 1e-2f},
                        {"q4_0", DType::kQ4_0, 0.13f}};
  std::vector<std::vector<uint8_t>> storage;
  for (const Case& c : cases) {
    storage.emplace_back(*TensorByteSize(c.dtype, {2, 64}));
    ASSERT_TRUE(EncodeF32(values, c.dtype, storage.back().data()).ok());
  }
  for (size_t i = 0; i < std::size(cases); ++i) {
    ASSERT_TRUE(writer.AddTensor({cases[i].name, cases[i].dtype, {2, 64}, storage[i], nullptr}).ok());
  }
  std::vector<uint8_t> ints = {1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0};
  ASSERT_TRUE(writer.AddTensor({"i32", DType::kI32, {3}, ints, nullptr}).ok());
  EXPECT_FALSE(writer.AddTensor({"i32", DType::kI32, {3}, ints, nullptr}).ok());
  EXPECT_FALSE(writer.AddTensor({"bad", DType::kQ4_0, {2, 48}, {}, nullptr}).ok());

  const std::string path = TempPath("roundtrip.gguf");
  ASSERT_TRUE(writer.Write(path).ok());
  auto file = GgufFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ((*file)->version(), 3u);
  EXPECT_EQ((*file)->alignment(), 64u);
  EXPECT_EQ((*file)->data_offset() % 64, 0u);
  EXPECT_EQ(*(*file)->GetUint("u8"), 200u);
  EXPECT_EQ(*(*file)->GetInt("i8"), -5);
  EXPECT_EQ(*(*file)->GetUint("u16"), 60000u);
  EXPECT_EQ(*(*file)->GetInt("i16"), -30000);
  EXPECT_EQ(*(*file)->GetInt("i32"), -7);
  EXPECT_FALSE((*file)->GetUint("i32").ok());
  EXPECT_EQ(*(*file)->GetUint("u64"), 1ull << 40);
  EXPECT_EQ(*(*file)->GetInt("i64"), -(1ll << 40));
  EXPECT_EQ(*(*file)->GetFloat("f64"), 0.125);
  EXPECT_TRUE(*(*file)->GetBool("flag"));
  EXPECT_EQ((*file)->FindValue("nested")->array[0].array[0].int_value, 1);
  EXPECT_EQ((*file)->GetString("missing").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ((*file)->GetString("u8").status().code(), absl::StatusCode::kInvalidArgument);

  auto params = ReadLlamaHyperParams(**file);
  ASSERT_TRUE(params.ok()) << params.status();
  EXPECT_EQ(params->context_length, 2048u);
  EXPECT_EQ(params->head_count_kv, 2u);
  EXPECT_EQ(params->rope_dimension_count, 16u);
  EXPECT_FLOAT_EQ(params->rope_freq_base, 500000.0);
  EXPECT_FLOAT_EQ(params->rms_norm_eps, 1e-6f);
  EXPECT_EQ(params->vocab_size, 4u);
  auto vocab = ReadGgufVocab(**file);
  ASSERT_TRUE(vocab.ok()) << vocab.status();
  EXPECT_EQ(vocab->tokens[3], "\xe2\x96\x81hi");
  EXPECT_EQ(vocab->scores[3], -1.5f);
  EXPECT_EQ(vocab->token_types, (std::vector<int32_t>{2, 3, 3, 1}));
  EXPECT_EQ(vocab->bos_id, 1);
  EXPECT_EQ(vocab->eos_id, -1);

  for (size_t i = 0; i < std::size(cases); ++i) {
    const TensorView* tensor = (*file)->Find(cases[i].name);
    ASSERT_NE(tensor, nullptr);
    EXPECT_EQ(tensor->shape, (std::vector<int64_t>{2, 64}));
    EXPECT_EQ(tensor->dtype, cases[i].dtype);
    EXPECT_EQ(std::vector<uint8_t>(tensor->data, tensor->data + tensor->num_bytes), storage[i]);
    std::vector<float> back;
    ASSERT_TRUE(TensorToF32(*tensor, &back).ok());
    for (size_t j = 0; j < values.size(); ++j) {
      ASSERT_NEAR(back[j], values[j], cases[i].tolerance) << cases[i].name << " " << j;
    }
  }
  EXPECT_EQ((*file)->Find("i32")->data[8], 3);
}

TEST(GgufTest, ReadsHandWrittenV2FileWithDefaultAlignment) {
  Bytes b = Header(1, 1, 2);
  b.Str("general.architecture").Put<uint32_t>(8).Str("llama");
  b.Str("w").Put<uint32_t>(2).Put<uint64_t>(3).Put<uint64_t>(2).Put<uint32_t>(0).Put<uint64_t>(0);
  b.Pad(32);
  for (int i = 0; i < 6; ++i) b.Put<float>(static_cast<float>(i));
  const std::string path = TempPath("v2.gguf");
  std::ofstream(path, std::ios::binary).write(b.data().data(), b.data().size());
  auto file = GgufFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  const TensorView* w = (*file)->Find("w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->shape, (std::vector<int64_t>{2, 3}));  // ne = [3, 2] reversed.
  std::vector<float> values;
  ASSERT_TRUE(TensorToF32(*w, &values).ok());
  EXPECT_EQ(values, (std::vector<float>{0, 1, 2, 3, 4, 5}));
}

TEST(GgufTest, HostileFilesGiveErrorsNotCrashes) {
  using Code = absl::StatusCode;
  auto tensor = [](Bytes b, uint32_t n_dims, std::vector<uint64_t> dims, uint32_t type,
                   uint64_t offset) {
    b.Str("t").Put<uint32_t>(n_dims);
    for (uint64_t d : dims) b.Put<uint64_t>(d);
    b.Put<uint32_t>(type).Put<uint64_t>(offset);
    return b;
  };
  EXPECT_EQ(OpenRaw("empty", "").code(), Code::kDataLoss);
  EXPECT_EQ(OpenRaw("magic", "GGML\x03\0\0\0").code(), Code::kInvalidArgument);
  EXPECT_EQ(OpenRaw("v1", Header(0, 0, 1).data()).code(), Code::kUnimplemented);
  EXPECT_EQ(OpenRaw("v9", Header(0, 0, 9).data()).code(), Code::kInvalidArgument);
  EXPECT_EQ(OpenRaw("bigendian", Header(0, 0, 0x03000000).data()).code(), Code::kUnimplemented);
  EXPECT_EQ(OpenRaw("truncated_header", Header(0, 0).data().substr(0, 15)).code(), Code::kDataLoss);
  EXPECT_EQ(OpenRaw("huge_tensor_count", Header(1ull << 60, 0).data()).code(), Code::kDataLoss);
  EXPECT_EQ(OpenRaw("huge_kv_count", Header(0, ~0ull).data()).code(), Code::kDataLoss);
  EXPECT_EQ(OpenRaw("huge_key", Header(0, 1).Put<uint64_t>(1ull << 62).Raw(16).data()).code(),
            Code::kDataLoss);
  EXPECT_EQ(OpenRaw("bad_value_type", Header(0, 1).Str("k").Put<uint32_t>(13).Raw(8).data()).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(OpenRaw("huge_string", Header(0, 1).Str("k").Put<uint32_t>(8).Put<uint64_t>(~0ull).data())
                .code(),
            Code::kDataLoss);
  EXPECT_EQ(OpenRaw("huge_array", Header(0, 1)
                                      .Str("k")
                                      .Put<uint32_t>(9)
                                      .Put<uint32_t>(8)
                                      .Put<uint64_t>(1ull << 61)
                                      .Raw(64)
                                      .data())
                .code(),
            Code::kDataLoss);
  Bytes deep = Header(0, 1).Str("k").Put<uint32_t>(9);
  for (int i = 0; i < 20; ++i) deep.Put<uint32_t>(9).Put<uint64_t>(1);
  deep.Put<uint32_t>(4).Put<uint64_t>(1).Put<uint32_t>(0);
  EXPECT_EQ(OpenRaw("deep_array", deep.data()).code(), Code::kInvalidArgument);
  EXPECT_EQ(OpenRaw("bad_bool", Header(0, 1).Str("k").Put<uint32_t>(7).Put<uint8_t>(5).data()).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(OpenRaw("duplicate_key", Header(0, 2)
                                         .Str("k").Put<uint32_t>(4).Put<uint32_t>(1)
                                         .Str("k").Put<uint32_t>(4).Put<uint32_t>(2)
                                         .data())
                .code(),
            Code::kInvalidArgument);
  EXPECT_EQ(OpenRaw("bad_alignment", Header(0, 1).Str("general.alignment").Put<uint32_t>(4).Put<uint32_t>(3).data())
                .code(),
            Code::kInvalidArgument);
  EXPECT_EQ(OpenRaw("too_many_dims", tensor(Header(1, 0), 5, {1, 1, 1, 1, 1}, 0, 0).Pad(32).Raw(4).data())
                .code(),
            Code::kInvalidArgument);
  EXPECT_EQ(OpenRaw("dims_overflow",
                    tensor(Header(1, 0), 2, {1ull << 40, 1ull << 40}, 0, 0).Pad(32).Raw(4).data())
                .code(),
            Code::kInvalidArgument);
  EXPECT_EQ(OpenRaw("unknown_type", tensor(Header(1, 0), 1, {4}, 99, 0).Pad(32).Raw(16).data()).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(OpenRaw("bad_block", tensor(Header(1, 0), 1, {31}, 8, 0).Pad(32).Raw(64).data()).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(OpenRaw("past_eof", tensor(Header(1, 0), 1, {4}, 0, 0).Pad(32).Raw(15).data()).code(),
            Code::kDataLoss);
  EXPECT_EQ(OpenRaw("huge_offset", tensor(Header(1, 0), 1, {4}, 0, ~0ull - 31).Pad(32).Raw(16).data())
                .code(),
            Code::kDataLoss);
  EXPECT_EQ(OpenRaw("misaligned", tensor(Header(1, 0), 1, {4}, 0, 4).Pad(32).Raw(32).data()).code(),
            Code::kInvalidArgument);
  Bytes overlap = Header(2, 0);
  overlap.Str("a").Put<uint32_t>(1).Put<uint64_t>(16).Put<uint32_t>(0).Put<uint64_t>(0);
  overlap.Str("b").Put<uint32_t>(1).Put<uint64_t>(16).Put<uint32_t>(0).Put<uint64_t>(32);
  EXPECT_EQ(OpenRaw("overlap", overlap.Pad(32).Raw(96).data()).code(), Code::kInvalidArgument);
  EXPECT_EQ(GgufFile::Open(TempPath("none.gguf")).status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace tessera::model

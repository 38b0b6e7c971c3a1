// Writes the binary seed files of the fuzz corpus: tiny but valid GGUF and
// safetensors files (through the project's own writers), a SentencePiece
// tokenizer.model and a llama2.c tokenizer.bin.
//   bazel run //fuzz:make_seed_corpus -- $PWD/fuzz/corpus
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/base/casts.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/model/gguf.h"
#include "engine/model/safetensors.h"
#include "engine/model/tensor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace {

using tessera::model::DType;
using tessera::model::TensorToWrite;

struct Piece {
  std::string text;
  float score;
  int type;  // SentencePiece numbering: 1 normal, 2 unknown, 3 control, 6 byte.
};

const std::vector<Piece>& Pieces() {
  static const std::vector<Piece> pieces = {
      {"<unk>", 0, 2}, {"<s>", 0, 3},      {"</s>", 0, 3},   {"<0x0A>", 0, 6},
      {"<0x41>", 0, 6}, {"▁", -1, 1},      {"t", -2, 1},     {"h", -3, 1},
      {"e", -4, 1},     {"▁t", -5, 1},     {"he", -6, 1},    {"▁the", -7, 1},
  };
  return pieces;
}

void Check(const absl::Status& status) {
  if (!status.ok()) {
    std::fprintf(stderr, "make_seed_corpus: %s\n", status.ToString().c_str());
    std::exit(1);
  }
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) Check(absl::InternalError(absl::StrCat("cannot write ", path)));
  std::printf("wrote %s (%zu bytes)\n", path.c_str(), bytes.size());
}

std::vector<uint8_t> FloatBytes(const std::vector<float>& values) {
  std::vector<uint8_t> bytes(values.size() * sizeof(float));
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

void WriteGgufSeeds(const std::string& dir) {
  static const std::vector<uint8_t> weights = FloatBytes({0.5f, -1.0f, 2.0f, 0.0f, 1.5f, -0.25f, 3.0f, 4.0f});
  static const std::vector<uint8_t> norm = FloatBytes({1.0f, 1.0f});
  tessera::model::GgufWriter writer;
  writer.SetString("general.architecture", "llama");
  writer.SetString("general.name", "fuzz-seed");
  writer.SetUint32("llama.context_length", 16);
  writer.SetUint32("llama.embedding_length", 2);
  writer.SetUint32("llama.block_count", 1);
  writer.SetUint32("llama.feed_forward_length", 4);
  writer.SetUint32("llama.attention.head_count", 1);
  writer.SetFloat32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  for (const Piece& piece : Pieces()) {
    tokens.push_back(piece.text);
    scores.push_back(piece.score);
    types.push_back(piece.type);
  }
  writer.SetString("tokenizer.ggml.model", "llama");
  writer.SetStringArray("tokenizer.ggml.tokens", tokens);
  writer.SetFloat32Array("tokenizer.ggml.scores", scores);
  writer.SetInt32Array("tokenizer.ggml.token_type", types);
  writer.SetUint32("tokenizer.ggml.bos_token_id", 1);
  writer.SetUint32("tokenizer.ggml.eos_token_id", 2);
  writer.SetUint32("tokenizer.ggml.unknown_token_id", 0);
  writer.SetBool("tokenizer.ggml.add_bos_token", true);
  Check(writer.AddTensor({"token_embd.weight", DType::kF32, {4, 2}, weights}));
  Check(writer.AddTensor({"output_norm.weight", DType::kF32, {2}, norm}));
  Check(writer.Write(dir + "/llama_tiny.gguf"));

  tessera::model::GgufWriter aligned;
  Check(aligned.SetAlignment(64));
  aligned.SetString("general.architecture", "llama");
  aligned.Set("general.values",
              tessera::model::GgufValue::Array(
                  tessera::model::GgufType::kInt64,
                  {tessera::model::GgufValue::Int(tessera::model::GgufType::kInt64, -3),
                   tessera::model::GgufValue::Int(tessera::model::GgufType::kInt64, 7)}));
  aligned.Set("general.ratio", tessera::model::GgufValue::Float(tessera::model::GgufType::kFloat64, 0.25));
  std::vector<uint8_t> q8(34, 0);  // One Q8_0 block: f16 scale + 32 int8.
  q8[1] = 0x3c;                    // scale 1.0
  for (int i = 0; i < 32; ++i) q8[2 + i] = static_cast<uint8_t>(i - 16);
  Check(aligned.AddTensor({"blk.0.ffn_up.weight", DType::kQ8_0, {1, 32}, q8}));
  Check(aligned.AddTensor({"blk.0.attn_norm.weight", DType::kF32, {2}, norm}));
  Check(aligned.Write(dir + "/aligned_q8.gguf"));

  tessera::model::GgufWriter empty;
  Check(empty.Write(dir + "/empty.gguf"));
}

void WriteSafetensorsSeeds(const std::string& dir) {
  static const std::vector<uint8_t> f32 = FloatBytes({1.0f, -2.0f, 0.5f, 4.0f, 0.0f, 8.0f});
  static const std::vector<uint8_t> f16 = {0x00, 0x3c, 0x00, 0xc0};  // 1.0, -2.0
  static const std::vector<uint8_t> bf16 = {0x80, 0x3f, 0x00, 0x40};  // 1.0, 2.0
  static const std::vector<uint8_t> i64 = {1, 0, 0, 0, 0, 0, 0, 0};
  const TensorToWrite tensors[] = {
      {"embeddings.word_embeddings.weight", DType::kF32, {3, 2}, f32},
      {"encoder.layer.0.output.LayerNorm.weight", DType::kF16, {2}, f16},
      {"pooler.dense.bias", DType::kBF16, {2}, bf16},
      {"embeddings.position_ids", DType::kI64, {1, 1}, i64},
  };
  Check(tessera::model::WriteSafetensors(dir + "/bert_tiny.safetensors", tensors,
                                         {{"format", "pt"}}));
  Check(tessera::model::WriteSafetensors(dir + "/empty.safetensors", {}, {}));
}

void WriteTag(google::protobuf::io::CodedOutputStream* out, int field, int wire_type) {
  out->WriteTag(static_cast<uint32_t>(field << 3 | wire_type));
}

std::string Message(const std::function<void(google::protobuf::io::CodedOutputStream*)>& write) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    write(&out);
  }
  return bytes;
}

void WriteLengthDelimited(google::protobuf::io::CodedOutputStream* out, int field,
                          const std::string& bytes) {
  WriteTag(out, field, 2);
  out->WriteVarint32(static_cast<uint32_t>(bytes.size()));
  out->WriteString(bytes);
}

// ModelProto: pieces (1), trainer_spec (2) with model_type BPE and byte_fallback,
// normalizer_spec (3) with add_dummy_prefix.
void WriteSentencePieceSeed(const std::string& dir) {
  const std::string model = Message([](google::protobuf::io::CodedOutputStream* out) {
    for (const Piece& piece : Pieces()) {
      WriteLengthDelimited(out, 1, Message([&piece](google::protobuf::io::CodedOutputStream* p) {
        WriteLengthDelimited(p, 1, piece.text);
        WriteTag(p, 2, 5);
        p->WriteLittleEndian32(absl::bit_cast<uint32_t>(piece.score));
        WriteTag(p, 3, 0);
        p->WriteVarint32(static_cast<uint32_t>(piece.type));
      }));
    }
    WriteLengthDelimited(out, 2, Message([](google::protobuf::io::CodedOutputStream* t) {
      WriteTag(t, 3, 0);
      t->WriteVarint32(2);  // BPE
      WriteTag(t, 35, 0);
      t->WriteVarint32(1);  // byte_fallback
      WriteTag(t, 40, 0);
      t->WriteVarint32(0);  // unk_id
    }));
    WriteLengthDelimited(out, 3, Message([](google::protobuf::io::CodedOutputStream* n) {
      WriteTag(n, 3, 0);
      n->WriteVarint32(1);  // add_dummy_prefix
      WriteTag(n, 4, 0);
      n->WriteVarint32(0);  // remove_extra_whitespaces
    }));
  });
  WriteFile(dir + "/bpe_tiny.model", model);
}

// llama2.c: int32 max_token_length, then per token float score, int32 length, bytes.
void WriteLlama2cSeed(const std::string& dir) {
  std::string bytes;
  auto append = [&bytes](const void* data, size_t size) {
    bytes.append(static_cast<const char*>(data), size);
  };
  const int32_t max_length = 8;
  append(&max_length, sizeof(max_length));
  for (const Piece& piece : Pieces()) {
    std::string text = piece.text;
    if (text == "<s>") text = "\n<s>\n";
    if (text == "</s>") text = "\n</s>\n";
    for (size_t at; (at = text.find("▁")) != std::string::npos;) text.replace(at, 3, " ");
    const int32_t length = static_cast<int32_t>(text.size());
    append(&piece.score, sizeof(piece.score));
    append(&length, sizeof(length));
    append(text.data(), text.size());
  }
  WriteFile(dir + "/llama_tiny.bin", bytes);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seed_corpus CORPUS_DIR\n");
    return 2;
  }
  const std::string root = argv[1];
  auto dir = [&root](const std::string& target) {
    const std::string path = root + "/" + target;
    std::filesystem::create_directories(path);
    return path;
  };
  WriteGgufSeeds(dir("gguf_fuzzer"));
  WriteSafetensorsSeeds(dir("safetensors_fuzzer"));
  WriteSentencePieceSeed(dir("sentencepiece_model_fuzzer"));
  WriteLlama2cSeed(dir("llama2c_vocab_fuzzer"));
  return 0;
}

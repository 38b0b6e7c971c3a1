#include "engine/tokenizer/sentencepiece_model.h"

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "engine/tokenizer/llama2c_vocab.h"
#include "engine/tokenizer/load_tokenizer.h"
#include "engine/tokenizer/test_shared_dir.h"
#include "gtest/gtest.h"

namespace tessera::tokenizer {
namespace {

// A minimal protobuf writer, enough to build ModelProto bytes by hand.
void PutVarint(uint64_t value, std::string* out) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>(value | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}
void PutTag(int field, int wire_type, std::string* out) { PutVarint(field << 3 | wire_type, out); }
void PutBytes(int field, const std::string& bytes, std::string* out) {
  PutTag(field, 2, out);
  PutVarint(bytes.size(), out);
  out->append(bytes);
}
void PutVarintField(int field, int64_t value, std::string* out) {
  PutTag(field, 0, out);
  PutVarint(static_cast<uint64_t>(value), out);
}
std::string Piece(const std::string& text, float score, int type) {
  std::string piece;
  PutBytes(1, text, &piece);
  PutTag(2, 5, &piece);
  char bits[4];
  std::memcpy(bits, &score, 4);
  piece.append(bits, 4);
  PutVarintField(3, type, &piece);
  return piece;
}

std::string ToyModel(int model_type = 2) {
  std::string model;
  PutBytes(1, Piece("<unk>", 0, 2), &model);
  PutBytes(1, Piece("<s>", 0, 3), &model);
  PutBytes(1, Piece("</s>", 0, 3), &model);
  PutBytes(1, Piece("\xE2\x96\x81", -1, 1), &model);
  PutBytes(1, Piece("a", -1, 1), &model);
  PutBytes(1, Piece("\xE2\x96\x81" "a", -0.5f, 1), &model);
  std::string trainer;
  PutVarintField(3, model_type, &trainer);
  PutVarintField(43, -1, &trainer);  // pad_id = -1 as a 10-byte varint.
  PutBytes(2, trainer, &model);
  std::string normalizer;
  PutBytes(1, "identity", &normalizer);
  PutVarintField(3, 1, &normalizer);
  PutVarintField(4, 0, &normalizer);
  PutBytes(3, normalizer, &model);
  PutBytes(99, "unknown field is skipped", &model);
  return model;
}

TEST(SentencePieceModelTest, ParsesHandBuiltModel) {
  absl::StatusOr<SentencePieceModel> model = ParseSentencePieceModel(ToyModel());
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(model->model_type, 2);
  ASSERT_EQ(model->vocab.pieces.size(), 6u);
  EXPECT_EQ(model->vocab.pieces[5], "\xE2\x96\x81" "a");
  EXPECT_FLOAT_EQ(model->vocab.scores[5], -0.5f);
  EXPECT_EQ(model->vocab.types[0], PieceType::kUnknown);
  EXPECT_TRUE(model->options.add_dummy_prefix);
  EXPECT_FALSE(model->options.remove_extra_whitespaces);
  EXPECT_EQ(model->options.pad_id, -1);

  absl::StatusOr<std::unique_ptr<SentencePieceBpeTokenizer>> tokenizer =
      LoadSentencePieceModel(ToyModel());
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  EXPECT_EQ(*(*tokenizer)->Encode("a a", true), (std::vector<int32_t>{1, 5, 5}));
  EXPECT_EQ(*(*tokenizer)->Decode({1, 5, 5, 2}), "a a");
}

TEST(SentencePieceModelTest, UnigramIsUnimplemented) {
  EXPECT_EQ(LoadSentencePieceModel(ToyModel(1)).status().code(), absl::StatusCode::kUnimplemented);
}

TEST(SentencePieceModelTest, EveryTruncationIsAnErrorNotACrash) {
  const std::string model = ToyModel();
  for (size_t length = 0; length < model.size(); ++length) {
    // Cutting inside a field must fail; cutting between top-level fields may parse.
    absl::StatusOr<SentencePieceModel> parsed = ParseSentencePieceModel(model.substr(0, length));
    if (parsed.ok()) {
      EXPECT_LE(parsed->vocab.pieces.size(), 6u);
    }
  }
  EXPECT_FALSE(ParseSentencePieceModel("").ok());
  // A length prefix far beyond the data.
  std::string hostile;
  PutTag(1, 2, &hostile);
  PutVarint(0x7FFFFFF0, &hostile);
  hostile += "abc";
  absl::StatusOr<SentencePieceModel> parsed = ParseSentencePieceModel(hostile);
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("remain"), std::string::npos) << parsed.status();
  // Wrong wire type for a known field.
  std::string wrong;
  PutVarintField(1, 5, &wrong);
  EXPECT_FALSE(ParseSentencePieceModel(wrong).ok());
  // An out-of-range piece type.
  std::string bad_type;
  PutBytes(1, Piece("x", 0, 42), &bad_type);
  EXPECT_FALSE(ParseSentencePieceModel(bad_type).ok());
}

TEST(SentencePieceModelTest, RandomBytesNeverCrash) {
  std::mt19937 random(1234);
  const std::string model = ToyModel();
  for (int round = 0; round < 2000; ++round) {
    std::string mutated = model;
    const int flips = 1 + random() % 4;
    for (int i = 0; i < flips; ++i) mutated[random() % mutated.size()] = static_cast<char>(random());
    absl::StatusOr<std::unique_ptr<SentencePieceBpeTokenizer>> tokenizer =
        LoadSentencePieceModel(mutated);
    if (tokenizer.ok()) {
      // Whatever parsed must still encode and decode safely.
      absl::StatusOr<std::vector<int32_t>> ids = (*tokenizer)->Encode("a aa \xC3\xA9", true);
      ASSERT_TRUE(ids.ok());
      EXPECT_TRUE((*tokenizer)->Decode(*ids).ok());
    }
  }
}

TEST(SentencePieceModelTest, RealModelTruncatedAtManyPointsFailsCleanly) {
  const auto path = testing::FindSharedFile("tokenizers/llama2/tokenizer.model");
  if (!path) GTEST_SKIP() << "shared file tokenizers/llama2/tokenizer.model is absent";
  absl::StatusOr<std::string> bytes = ReadFileToString(*path, 1 << 24);
  ASSERT_TRUE(bytes.ok());
  for (size_t length : {size_t{1}, size_t{7}, size_t{1000}, bytes->size() / 2, bytes->size() - 3}) {
    absl::StatusOr<SentencePieceModel> parsed = ParseSentencePieceModel(bytes->substr(0, length));
    if (parsed.ok()) {
      EXPECT_LT(parsed->vocab.pieces.size(), 32000u);
    }
  }
  absl::StatusOr<SentencePieceModel> full = ParseSentencePieceModel(*bytes);
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_EQ(full->vocab.pieces.size(), 32000u);
  EXPECT_TRUE(full->options.byte_fallback);
  EXPECT_FALSE(full->options.remove_extra_whitespaces);
}

std::string Llama2cRecord(float score, const std::string& piece) {
  std::string out(8, '\0');
  const int32_t length = static_cast<int32_t>(piece.size());
  std::memcpy(&out[0], &score, 4);
  std::memcpy(&out[4], &length, 4);
  return out + piece;
}

std::string Llama2cToy() {
  std::string file(4, '\0');
  const int32_t max_length = 8;
  std::memcpy(&file[0], &max_length, 4);
  file += Llama2cRecord(0, "<unk>") + Llama2cRecord(0, "\n<s>\n") + Llama2cRecord(0, "\n</s>\n") +
          Llama2cRecord(0, "<0x0A>") + Llama2cRecord(-1, " ") + Llama2cRecord(-1, "b") +
          Llama2cRecord(-0.5f, " b");
  return file;
}

TEST(Llama2cVocabTest, ParsesAndMapsSpacesBack) {
  absl::StatusOr<SentencePieceVocab> vocab = ParseLlama2cVocab(Llama2cToy());
  ASSERT_TRUE(vocab.ok()) << vocab.status();
  ASSERT_EQ(vocab->pieces.size(), 7u);
  EXPECT_EQ(vocab->pieces[1], "<s>");
  EXPECT_EQ(vocab->types[1], PieceType::kControl);
  EXPECT_EQ(vocab->types[3], PieceType::kByte);
  EXPECT_EQ(vocab->pieces[6], "\xE2\x96\x81" "b");
  auto tokenizer = LoadLlama2cTokenizer(Llama2cToy());
  ASSERT_TRUE(tokenizer.ok());
  EXPECT_EQ(*(*tokenizer)->Encode("b\n", false), (std::vector<int32_t>{6, 3}));
}

TEST(Llama2cVocabTest, HostileFilesFailCleanly) {
  const std::string file = Llama2cToy();
  for (size_t length = 0; length < file.size(); ++length) {
    absl::StatusOr<SentencePieceVocab> vocab = ParseLlama2cVocab(file.substr(0, length));
    if (vocab.ok()) {
      EXPECT_LT(vocab->pieces.size(), 7u);
    }
  }
  std::string negative = file.substr(0, 4) + std::string("\0\0\0\0\xFF\xFF\xFF\xFF", 8);
  EXPECT_FALSE(ParseLlama2cVocab(negative).ok());
  std::string too_long = file.substr(0, 4) + Llama2cRecord(0, "abcdefghijk");
  EXPECT_FALSE(ParseLlama2cVocab(too_long).ok());
  EXPECT_FALSE(ParseLlama2cVocab(std::string("\0\0\0\0", 4)).ok());
}

}  // namespace
}  // namespace tessera::tokenizer

#include "engine/tokenizer/load_tokenizer.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/tokenizer/test_shared_dir.h"
#include "gtest/gtest.h"

namespace tessera::tokenizer {
namespace {

std::string WriteTempFile(const std::string& name, const std::string& contents) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string path = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/", name);
  std::FILE* file = std::fopen(path.c_str(), "wb");
  EXPECT_NE(file, nullptr);
  if (file == nullptr) return path;
  std::fwrite(contents.data(), 1, contents.size(), file);
  std::fclose(file);
  return path;
}

TEST(LoadTokenizerTest, MissingAndUnrecognisedFiles) {
  EXPECT_EQ(LoadTokenizer("/nonexistent/tokenizer.model").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(LoadTokenizer(WriteTempFile("weird.xyz", "hello")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadTokenizer(WriteTempFile("model.gguf", "GGUF\x03")).status().code(),
            absl::StatusCode::kUnimplemented);
  absl::Status garbage = LoadTokenizer(WriteTempFile("tokenizer.model", "\x0a\xff\xff")).status();
  EXPECT_EQ(garbage.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(garbage.message().find("tokenizer.model"), std::string::npos) << garbage;
  EXPECT_FALSE(LoadTokenizer(WriteTempFile("tokenizer.bin", "\x01")).ok());
  EXPECT_FALSE(LoadTokenizer(WriteTempFile("vocab.txt", "")).ok());
}

TEST(LoadTokenizerTest, VocabTxtWithCasedConfigBeside) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/cased");
  ASSERT_EQ(std::system(absl::StrCat("mkdir -p ", dir).c_str()), 0);
  WriteTempFile("cased/vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\nHello\nhello\n");
  WriteTempFile("cased/tokenizer_config.json", "{\"do_lower_case\": false}");
  absl::StatusOr<std::string> ids = TokenizeToString(dir, "Hello hello");
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(*ids, "4 5");
}

TEST(LoadTokenizerTest, TokenizeToStringMatchesSentencePieceWithoutBos) {
  const auto path = testing::FindSharedFile("tokenizers/llama2/tokenizer.model");
  if (!path) GTEST_SKIP() << "shared file tokenizers/llama2/tokenizer.model is absent";
  // python3-sentencepiece: encode("Hello there") == [15043, 727].
  absl::StatusOr<std::string> ids = TokenizeToString(*path, "Hello there");
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(*ids, "15043 727");
  EXPECT_FALSE(TokenizeToString(*path, "bad \xC0").ok());
}

TEST(LoadTokenizerTest, DirectoryPicksTokenizerJson) {
  const auto path = testing::FindSharedFile("models/all-MiniLM-L6-v2/vocab.txt");
  if (!path) GTEST_SKIP() << "shared directory models/all-MiniLM-L6-v2 is absent";
  const std::string dir = path->substr(0, path->rfind('/'));
  absl::StatusOr<std::string> from_dir = TokenizeToString(dir, "Hello, world!");
  absl::StatusOr<std::string> from_vocab = TokenizeToString(*path, "Hello, world!");
  ASSERT_TRUE(from_dir.ok() && from_vocab.ok());
  EXPECT_EQ(*from_dir, *from_vocab);
  EXPECT_EQ(*from_vocab, "7592 1010 2088 999");
}

}  // namespace
}  // namespace tessera::tokenizer

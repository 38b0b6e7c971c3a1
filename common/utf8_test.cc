#include "common/utf8.h"

#include <string>

#include "gtest/gtest.h"

namespace tessera {
namespace {

TEST(Utf8Test, AcceptsAsciiAndMultibyte) {
  EXPECT_TRUE(ValidateUtf8("plain ascii", "text").ok());
  EXPECT_TRUE(ValidateUtf8("日本語 émoji 😀", "text").ok());
  EXPECT_TRUE(ValidateUtf8("", "text").ok());
}

TEST(Utf8Test, RejectsInvalidWithByteOffset) {
  std::string bad = "abc\xff" "def";
  absl::Status status = ValidateUtf8(bad, "document.text");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("document.text"), std::string::npos) << status;
  EXPECT_NE(status.message().find("byte offset 3"), std::string::npos) << status;
}

TEST(Utf8Test, RejectsTruncatedSequenceAndSurrogates) {
  EXPECT_FALSE(ValidateUtf8("x\xe6\x97", "t").ok());         // cut 3-byte sequence
  EXPECT_FALSE(ValidateUtf8("\xed\xa0\x80", "t").ok());      // UTF-16 surrogate
  EXPECT_FALSE(ValidateUtf8("\xc0\xaf", "t").ok());          // overlong '/'
}

TEST(Utf8Test, NormalizesToNfc) {
  // "e" + COMBINING ACUTE ACCENT composes to U+00E9.
  auto nfc = NormalizeNfc("caf\x65\xcc\x81", "t");
  ASSERT_TRUE(nfc.ok());
  EXPECT_EQ(*nfc, "caf\xc3\xa9");
  EXPECT_FALSE(NormalizeNfc("\xff", "t").ok());
}

TEST(Utf8Test, CountsCodePoints) {
  EXPECT_EQ(CodePointCount("abc"), 3u);
  EXPECT_EQ(CodePointCount("é😀"), 2u);
}

}  // namespace
}  // namespace tessera

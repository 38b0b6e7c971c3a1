#include "ingest/parse/text_offsets.h"

#include <string>

#include "gtest/gtest.h"

namespace tessera::ingest {
namespace {

TEST(OffsetCursorTest, MapsMultibyteTextBothWays) {
  // a(1) é(2) 日(3) 😀(4) b(1)
  const std::string text = "a\xC3\xA9\xE6\x97\xA5\xF0\x9F\x98\x80" "b";
  OffsetCursor cursor(text);
  EXPECT_EQ(cursor.ByteToChar(0), 0);
  EXPECT_EQ(cursor.ByteToChar(3), 2);
  EXPECT_EQ(cursor.ByteToChar(10), 4);
  EXPECT_EQ(cursor.ByteToChar(1), 1);  // backwards
  EXPECT_EQ(cursor.ByteToChar(11), 5);
  EXPECT_EQ(cursor.CharToByte(4), 10u);
  EXPECT_EQ(cursor.CharToByte(1), 1u);
  EXPECT_EQ(cursor.CharToByte(3), 6u);
  EXPECT_EQ(cursor.CharToByte(5), 11u);
  EXPECT_EQ(cursor.CharToByte(99), 11u);  // clamped
  EXPECT_EQ(cursor.ByteToChar(999), 5);
}

TEST(OffsetCursorTest, RoundsOffsetsInsideASequenceUp) {
  const std::string text = "x\xE6\x97\xA5y";
  OffsetCursor cursor(text);
  EXPECT_EQ(cursor.ByteToChar(2), 2);
  EXPECT_EQ(cursor.ByteToChar(4), 2);
  EXPECT_EQ(cursor.ByteToChar(5), 3);
}

TEST(OffsetCursorTest, EmptyText) {
  OffsetCursor cursor("");
  EXPECT_EQ(cursor.ByteToChar(0), 0);
  EXPECT_EQ(cursor.CharToByte(3), 0u);
}

TEST(Utf8SequenceLengthTest, LeadBytes) {
  EXPECT_EQ(Utf8SequenceLength('a'), 1);
  EXPECT_EQ(Utf8SequenceLength(0xC3), 2);
  EXPECT_EQ(Utf8SequenceLength(0xE6), 3);
  EXPECT_EQ(Utf8SequenceLength(0xF0), 4);
  EXPECT_EQ(Utf8SequenceLength(0x80), 1);
}

}  // namespace
}  // namespace tessera::ingest

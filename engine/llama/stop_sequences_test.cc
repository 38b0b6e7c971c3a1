#include "engine/llama/stop_sequences.h"

#include "gtest/gtest.h"

namespace tessera::llama {
namespace {

TEST(StopSequenceMatcherTest, NoStopsStreamsEverything) {
  StopSequenceMatcher matcher({});
  const auto result = matcher.Check("hello", false);
  EXPECT_FALSE(result.stopped);
  EXPECT_EQ(result.safe_length, 5u);
}

TEST(StopSequenceMatcherTest, FindsTheEarliestStop) {
  StopSequenceMatcher matcher({"world", "lo"});
  const auto result = matcher.Check("hello world", false);
  EXPECT_TRUE(result.stopped);
  EXPECT_EQ(result.safe_length, 3u);  // "hel"
}

TEST(StopSequenceMatcherTest, HoldsBackAPartialMatch) {
  StopSequenceMatcher matcher({"\n\nUser:"});
  auto result = matcher.Check("Answer.\n\nUs", false);
  EXPECT_FALSE(result.stopped);
  EXPECT_EQ(result.safe_length, 7u);  // "Answer." ; "\n\nUs" may become the stop.
  result = matcher.Check("Answer.\n\nUsually", false);
  EXPECT_FALSE(result.stopped);
  EXPECT_EQ(result.safe_length, 16u);
  result = matcher.Check("Answer.\n\nUs", true);  // Final: flush.
  EXPECT_EQ(result.safe_length, 11u);
}

TEST(StopSequenceMatcherTest, HoldsBackIncompleteCharacters) {
  StopSequenceMatcher matcher({});
  const std::string text = "ab\xEF\xBF\xBD";
  EXPECT_EQ(matcher.Check(text, false).safe_length, 2u);
  EXPECT_EQ(matcher.Check(text, true).safe_length, text.size());
  EXPECT_EQ(matcher.Check(text + "c", false).safe_length, text.size() + 1);
}

}  // namespace
}  // namespace tessera::llama

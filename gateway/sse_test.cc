#include "gateway/sse.h"

#include <gtest/gtest.h>

#include <vector>

namespace tessera::gateway {
namespace {

std::vector<SseEvent> ParseInPieces(const std::string& stream, size_t piece) {
  std::vector<SseEvent> events;
  SseParser parser([&events](const SseEvent& event) {
    events.push_back(event);
    return true;
  });
  for (size_t i = 0; i < stream.size(); i += piece) parser.Feed(stream.substr(i, piece));
  parser.Finish();
  return events;
}

TEST(SseParserTest, ParsesEventsRegardlessOfHowBytesAreSplit) {
  const std::string stream =
      ": keep-alive\n\n"
      "data: {\"a\":1}\n\n"
      "event: update\r\nid: 7\r\ndata: line one\r\ndata:line two\r\n\r\n"
      "retry: 100\n"
      "data: [DONE]\n\n";
  for (size_t piece : {1, 2, 3, 7, 1000}) {
    std::vector<SseEvent> events = ParseInPieces(stream, piece);
    ASSERT_EQ(events.size(), 3u) << "piece " << piece;
    EXPECT_EQ(events[0].data, "{\"a\":1}");
    EXPECT_EQ(events[0].event, "");
    EXPECT_EQ(events[1].event, "update");
    EXPECT_EQ(events[1].id, "7");
    EXPECT_EQ(events[1].data, "line one\nline two");
    EXPECT_EQ(events[2].data, "[DONE]");
  }
}

TEST(SseParserTest, FinishDispatchesUnterminatedEvent) {
  std::vector<SseEvent> events = ParseInPieces("data: tail", 4);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "tail");
}

TEST(SseParserTest, HandlerCanStopParsing) {
  int seen = 0;
  SseParser parser([&seen](const SseEvent&) { return ++seen < 2; });
  EXPECT_FALSE(parser.Feed("data: 1\n\ndata: 2\n\ndata: 3\n\n"));
  EXPECT_EQ(seen, 2);
  EXPECT_FALSE(parser.Feed("data: 4\n\n"));
  EXPECT_EQ(seen, 2);
}

}  // namespace
}  // namespace tessera::gateway

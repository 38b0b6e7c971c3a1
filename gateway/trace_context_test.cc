#include "gateway/trace_context.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "absl/strings/match.h"

namespace tessera::gateway {
namespace {

TEST(TraceContextTest, ParsesAndFormatsVersion00) {
  auto parsed = ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(parsed->span_id, "00f067aa0ba902b7");
  EXPECT_TRUE(parsed->sampled);
  EXPECT_EQ(FormatTraceparent(*parsed), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  EXPECT_FALSE(ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")->sampled);
}

TEST(TraceContextTest, RejectsMalformedHeaders) {
  for (const char* bad : {"", "garbage", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
                          "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                          "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                          "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"}) {
    EXPECT_FALSE(ParseTraceparent(bad).has_value()) << bad;
  }
  // A later version may append fields.
  EXPECT_TRUE(
      ParseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra").has_value());
}

TEST(TraceContextTest, SpanIsAChildOfTheIncomingHopAndLogsOneJsonLine) {
  std::ostringstream log;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", sink));
  spdlog::set_level(spdlog::level::info);
  std::string child_header;
  {
    Span span("/tessera.agents.v1.AgentService/GetRun",
              "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    EXPECT_EQ(span.context().trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    EXPECT_EQ(span.parent_span_id(), "00f067aa0ba902b7");
    EXPECT_NE(span.context().span_id, "00f067aa0ba902b7");
    child_header = span.traceparent();
    span.set_status("NOT_FOUND");
  }
  {
    Span root("root", "not a traceparent");
    EXPECT_EQ(root.parent_span_id(), "");
    EXPECT_EQ(root.context().trace_id.size(), 32u);
    EXPECT_TRUE(ParseTraceparent(root.traceparent()).has_value());
  }
  spdlog::set_default_logger(previous);
  const std::string text = log.str();
  EXPECT_TRUE(absl::StrContains(text, "\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\"")) << text;
  EXPECT_TRUE(absl::StrContains(text, "\"parent_span_id\":\"00f067aa0ba902b7\"")) << text;
  EXPECT_TRUE(absl::StrContains(text, "\"status\":\"NOT_FOUND\"")) << text;
  EXPECT_TRUE(absl::StrContains(text, "\"duration_ms\":")) << text;
  EXPECT_TRUE(absl::StrContains(text, ParseTraceparent(child_header)->span_id)) << text;
}

TEST(TraceContextTest, ScopedTraceparentNestsPerThread) {
  EXPECT_EQ(CurrentTraceparent(), "");
  {
    ScopedTraceparent outer("a");
    EXPECT_EQ(CurrentTraceparent(), "a");
    {
      ScopedTraceparent inner("b");
      EXPECT_EQ(CurrentTraceparent(), "b");
    }
    EXPECT_EQ(CurrentTraceparent(), "a");
  }
  EXPECT_EQ(CurrentTraceparent(), "");
}

}  // namespace
}  // namespace tessera::gateway

#include "agents/tools/json_schema.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace tessera::agents {
namespace {

const Json kSchema = Json::parse(R"({
  "type": "object",
  "properties": {
    "query": {"type": "string", "minLength": 2, "maxLength": 5},
    "limit": {"type": "integer", "minimum": 1, "maximum": 10},
    "mode": {"enum": ["fast", "exact"]},
    "ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
    "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
    "maybe": {"type": ["string", "null"]}
  },
  "required": ["query"],
  "additionalProperties": false
})");

std::string Check(const Json& value) {
  absl::Status status = ValidateAgainstSchema(kSchema, value);
  return status.ok() ? "" : std::string(status.message());
}

TEST(JsonSchemaTest, AcceptsValidValues) {
  EXPECT_EQ(Check({{"query", "abc"}}), "");
  EXPECT_EQ(Check({{"query", "ab"}, {"limit", 10}, {"mode", "exact"}, {"ratio", 0.5}, {"tags", {"a"}}, {"maybe", nullptr}}), "");
  EXPECT_EQ(Check({{"query", "ab"}, {"limit", 3.0}}), "");  // 3.0 is an integer.
}

TEST(JsonSchemaTest, RejectsWithPaths) {
  EXPECT_EQ(Check({{"limit", 1}}), "$: missing required property 'query'");
  EXPECT_EQ(Check({{"query", 5}}), "$.query: expected string, got number");
  EXPECT_EQ(Check({{"query", "a"}}), "$.query: must be at least 2 characters long");
  EXPECT_EQ(Check({{"query", "abcdef"}}), "$.query: must be at most 5 characters long");
  EXPECT_EQ(Check({{"query", "ab"}, {"limit", 11}}), "$.limit: must be <= 10, got 11");
  EXPECT_EQ(Check({{"query", "ab"}, {"limit", 1.5}}), "$.limit: expected integer, got number");
  EXPECT_EQ(Check({{"query", "ab"}, {"mode", "slow"}}), "$.mode: must be one of [\"fast\",\"exact\"], got \"slow\"");
  EXPECT_EQ(Check({{"query", "ab"}, {"ratio", 1}}), "$.ratio: must be < 1, got 1");
  EXPECT_EQ(Check({{"query", "ab"}, {"tags", {"a", 2}}}), "$.tags[1]: expected string, got number");
  EXPECT_EQ(Check({{"query", "ab"}, {"tags", {"a", "b", "c"}}}), "$.tags: must have at most 2 items");
  EXPECT_EQ(Check({{"query", "ab"}, {"extra", 1}}), "$: unexpected property 'extra'");
  EXPECT_EQ(Check(Json::array()), "$: expected object, got list");
}

TEST(JsonSchemaTest, ChecksSchemasThemselves) {
  EXPECT_TRUE(CheckSchema(kSchema).ok());
  EXPECT_FALSE(CheckSchema(Json::parse(R"({"type": "strnig"})")).ok());
  EXPECT_FALSE(CheckSchema(Json::parse(R"({"properties": {"a": {"minimum": "1"}}})")).ok());
  EXPECT_FALSE(CheckSchema(Json::parse(R"({"required": "a"})")).ok());
  EXPECT_FALSE(CheckSchema(Json(3)).ok());
}

}  // namespace
}  // namespace tessera::agents

#include "common/json.h"

#include "gtest/gtest.h"

namespace tessera {
namespace {

TEST(JsonUtilTest, RoundTripsThroughStruct) {
  Json value = Json::parse(R"({"s": "x", "n": 3, "f": 1.5, "b": true, "z": null, "l": [1, "a", {"k": []}]})");
  absl::StatusOr<google::protobuf::Struct> converted = JsonToStruct(value);
  ASSERT_TRUE(converted.ok());
  EXPECT_EQ(StructToJson(*converted), value);  // Integral numbers come back integral.
  EXPECT_FALSE(JsonToStruct(Json::array()).ok());
}

TEST(JsonUtilTest, ParseErrorsAreStatuses) {
  EXPECT_TRUE(ParseJson("[1, 2]").ok());
  absl::StatusOr<Json> bad = ParseJson("{\"a\": ", "graph");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(bad.status().message()).find("invalid graph"), std::string::npos);
  EXPECT_EQ(DumpJson(Json("\xff")), "\"\xEF\xBF\xBD\"");  // Invalid UTF-8 replaced, no throw.
}

}  // namespace
}  // namespace tessera

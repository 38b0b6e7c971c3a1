#include "gateway/json_struct.h"

#include <gtest/gtest.h>

namespace tessera::gateway {
namespace {

TEST(JsonStructTest, RoundTripsNestedObject) {
  auto json = ParseJsonText(R"({"a":1,"b":[true,null,"x",2.5],"c":{"d":"e"}})", "test");
  ASSERT_TRUE(json.ok()) << json.status();
  auto proto = JsonToProtoStruct(*json);
  ASSERT_TRUE(proto.ok());
  EXPECT_EQ(proto->fields().at("a").number_value(), 1.0);
  EXPECT_EQ(proto->fields().at("b").list_value().values(2).string_value(), "x");
  EXPECT_EQ(proto->fields().at("c").struct_value().fields().at("d").string_value(), "e");
  EXPECT_EQ(ProtoStructToJson(*proto), *json);
  EXPECT_EQ(DumpJsonText(ProtoStructToJson(*proto)),
            R"({"a":1,"b":[true,null,"x",2.5],"c":{"d":"e"}})");
}

TEST(JsonStructTest, BadInputIsAnError) {
  auto json = ParseJsonText("{\"a\":", "request body");
  ASSERT_FALSE(json.ok());
  EXPECT_NE(json.status().message().find("request body"), std::string::npos);
  EXPECT_FALSE(JsonToProtoStruct(Json::array()).ok());
}

TEST(JsonStructTest, DumpReplacesInvalidUtf8) {
  Json value = std::string("a\xff" "b");
  EXPECT_EQ(DumpJsonText(value), "\"a\xEF\xBF\xBD" "b\"");
}

}  // namespace
}  // namespace tessera::gateway

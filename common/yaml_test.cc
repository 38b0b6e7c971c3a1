#include "common/yaml.h"

#include "gtest/gtest.h"

namespace tessera {
namespace {

TEST(YamlTest, TypesPlainScalarsAndKeepsQuotedOnesAsStrings) {
  absl::StatusOr<Json> value = ParseYaml(R"(
id: react
max_steps: 30
ratio: 0.5
enabled: true
nothing: ~
quoted: "30"
single: 'true'
text: hello world
list: [1, two, 3.5]
nested:
  - name: a
    tools: [calculator]
  - {name: b}
block: |
  line one
  line two
)");
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ((*value)["id"], "react");
  EXPECT_EQ((*value)["max_steps"], 30);
  EXPECT_TRUE((*value)["max_steps"].is_number_integer());
  EXPECT_DOUBLE_EQ((*value)["ratio"].get<double>(), 0.5);
  EXPECT_EQ((*value)["enabled"], true);
  EXPECT_TRUE((*value)["nothing"].is_null());
  EXPECT_EQ((*value)["quoted"], "30");
  EXPECT_EQ((*value)["single"], "true");
  EXPECT_EQ((*value)["text"], "hello world");
  EXPECT_EQ((*value)["list"], Json::parse(R"([1, "two", 3.5])"));
  EXPECT_EQ((*value)["nested"][0]["tools"][0], "calculator");
  EXPECT_EQ((*value)["nested"][1]["name"], "b");
  EXPECT_EQ((*value)["block"], "line one\nline two\n");
}

TEST(YamlTest, AnchorsAndAliasesResolve) {
  absl::StatusOr<Json> value = ParseYaml("base: &b {k: 1}\ncopy: *b\n");
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ((*value)["copy"]["k"], 1);
}

TEST(YamlTest, ErrorsSayWhereAndWhat) {
  absl::StatusOr<Json> bad = ParseYaml("a: [1, 2\nb: 3\n", "graph.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("graph.yaml"), std::string::npos) << bad.status();
  EXPECT_NE(bad.status().message().find("line"), std::string::npos) << bad.status();
  EXPECT_FALSE(ParseYaml("? [a, b]\n: c\n").ok());
}

TEST(YamlTest, JsonTextKeepsJsonErrors) {
  absl::StatusOr<Json> json = ParseJsonOrYaml(R"({"a": [1, 2]})", "x");
  ASSERT_TRUE(json.ok());
  EXPECT_EQ((*json)["a"][1], 2);
  absl::StatusOr<Json> yaml = ParseJsonOrYaml("a:\n  - 1\n", "x");
  ASSERT_TRUE(yaml.ok());
  EXPECT_EQ((*yaml)["a"][0], 1);
  EXPECT_FALSE(ParseJsonOrYaml("{\"a\": ", "x").ok());
}

}  // namespace
}  // namespace tessera

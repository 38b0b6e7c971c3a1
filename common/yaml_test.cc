#include "common/yaml.h"

#include <string>

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

// Levels of ten aliases each: `levels` lines expand to about 10^levels values.
std::string AliasBomb(int levels) {
  std::string bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int level = 1; level < levels; ++level) {
    const std::string previous = "*a" + std::to_string(level - 1);
    bomb += "a" + std::to_string(level) + ": &a" + std::to_string(level) + " [";
    for (int i = 0; i < 10; ++i) bomb += (i == 0 ? "" : ", ") + previous;
    bomb += "]\n";
  }
  return bomb;
}

TEST(YamlTest, AliasExpansionIsBoundedByTheSizeOfTheText) {
  // 4 levels: 11,110 values, inside the allowance.
  absl::StatusOr<Json> small = ParseYaml(AliasBomb(4));
  ASSERT_TRUE(small.ok()) << small.status();
  EXPECT_EQ((*small)["a3"].size(), 10u);
  // 5 levels: 111,110 values from 300 bytes. A flat limit of 2^20 values let such
  // text cost seconds of CPU and ~90 MB before failing (found by graph_fuzzer).
  for (int levels : {5, 10}) {
    absl::StatusOr<Json> bomb = ParseYaml(AliasBomb(levels), "graph.yaml");
    ASSERT_FALSE(bomb.ok()) << levels;
    EXPECT_EQ(bomb.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(bomb.status().message().find("aliases"), std::string::npos) << bomb.status();
  }
}

TEST(YamlTest, LargeDocumentsWithoutAliasesStillParse) {
  // 100k values, above the alias allowance, within one value per byte.
  std::string list = "[1";
  for (int i = 1; i < 100000; ++i) list += ",1";
  list += "]";
  absl::StatusOr<Json> value = ParseYaml("values: " + list + "\n");
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ((*value)["values"].size(), 100000u);
  // A moderate amount of aliasing stays well inside the allowance.
  absl::StatusOr<Json> shared = ParseYaml("base: &b [1, 2, 3]\nx: [*b, *b, *b, *b]\n");
  ASSERT_TRUE(shared.ok()) << shared.status();
  EXPECT_EQ((*shared)["x"].size(), 4u);
}

}  // namespace
}  // namespace tessera

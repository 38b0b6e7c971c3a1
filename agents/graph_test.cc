#include "agents/graph.h"

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "agents/tools/calculator.h"
#include "gtest/gtest.h"

namespace tessera::agents {
namespace {

class GraphTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(tools_.Register(std::make_shared<CalculatorTool>()).ok());
    context_.tools = &tools_;
  }
  // Returns the validation error message ("" when valid).
  std::string Problems(const std::string& json) {
    absl::StatusOr<std::shared_ptr<const CompiledGraph>> graph = LoadGraphDefinition(json, context_);
    if (graph.ok()) return "";
    EXPECT_EQ(graph.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(graph.status().message());
  }
  ToolRegistry tools_;
  GraphValidationContext context_;
};

// A valid base graph; each case below breaks one thing.
constexpr char kValid[] = R"({
  "id": "g",
  "channels": [{"name": "q", "type": "STRING"}, {"name": "n", "type": "NUMBER"},
               {"name": "docs", "type": "LIST", "reducer": "APPEND"}],
  "nodes": [
    {"id": "a", "llm": {"prompt_template": "{{q}}", "output_channel": "q"}},
    {"id": "calc", "tool": {"tool": "calculator", "arguments": {"expression": "q"}, "output_channel": "n"}},
    {"id": "r", "router": {"routes": [{"condition": "state.n > 1", "target": "a"}], "default_target": "__end__"}}
  ],
  "edges": [{"from": "a", "to": "calc"}, {"from": "calc", "to": "r"}],
  "start": "a", "max_steps": 10
})";

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  size_t pos = text.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  if (pos != std::string::npos) text.replace(pos, from.size(), to);
  return text;
}

TEST_F(GraphTest, ValidGraphCompilesAndRoundTripsThroughProto) {
  EXPECT_EQ(Problems(kValid), "");
  absl::StatusOr<::tessera::agents::v1::Graph> proto = ParseGraphDefinition(kValid);
  ASSERT_TRUE(proto.ok());
  absl::StatusOr<::tessera::agents::v1::Graph> again = ParseGraphDefinition(GraphToJson(*proto));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->SerializeAsString(), proto->SerializeAsString());
  absl::StatusOr<std::shared_ptr<const CompiledGraph>> compiled = CompileGraph(*proto, context_);
  ASSERT_TRUE(compiled.ok());
  EXPECT_EQ((*compiled)->max_steps(), 10);
  EXPECT_EQ((*compiled)->node("calc")->edges.size(), 1u);
}

// The same graph written as YAML (what users keep in version control).
constexpr char kValidYaml[] = R"(
id: g
channels:
  - {name: q, type: STRING}
  - {name: n, type: NUMBER}
  - name: docs
    type: LIST
    reducer: APPEND
nodes:
  - id: a
    llm: {prompt_template: "{{q}}", output_channel: q}
  - id: calc
    tool:
      tool: calculator
      arguments: {expression: q}
      output_channel: n
  - id: r
    router:
      routes:
        - {condition: state.n > 1, target: a}
      default_target: __end__
edges:
  - {from: a, to: calc}
  - {from: calc, to: r}
start: a
max_steps: 10
)";

TEST_F(GraphTest, YamlDefinitionsEqualTheirJsonTwins) {
  absl::StatusOr<::tessera::agents::v1::Graph> json = ParseGraphDefinition(kValid);
  absl::StatusOr<::tessera::agents::v1::Graph> yaml = ParseGraphDefinition(kValidYaml);
  ASSERT_TRUE(json.ok()) << json.status();
  ASSERT_TRUE(yaml.ok()) << yaml.status();
  EXPECT_EQ(yaml->SerializeAsString(), json->SerializeAsString());
  EXPECT_EQ(Problems(kValidYaml), "");
  absl::StatusOr<::tessera::agents::v1::Graph> broken = ParseGraphDefinition("id: g\nnodes: [\n");
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("line"), std::string::npos) << broken.status();
  absl::StatusOr<::tessera::agents::v1::Graph> unknown = ParseGraphDefinition("id: g\nnodez: []\n");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("nodez"), std::string::npos) << unknown.status();
}

TEST_F(GraphTest, EachBadGraphHasAPreciseError) {
  struct Case {
    std::string from, to, expected;
  };
  std::vector<Case> cases = {
      {R"({"from": "a", "to": "calc"})", R"({"from": "a", "to": "ghost"})", "edge #1 (a -> ghost): unknown node 'ghost'"},
      {R"({"from": "a", "to": "calc"})", R"({"from": "a", "to": ""})", "edge #1 (a -> ) leads nowhere"},
      {R"({"from": "calc", "to": "r"})", R"({"from": "calc", "to": "__end__"})", "node 'r' is unreachable from start 'a'"},
      {R"({"from": "calc", "to": "r"})", R"({"from": "ghost", "to": "r"})", "node 'calc' has no outgoing edge"},
      {R"("id": "calc", "tool")", R"("id": "a", "tool")", "duplicate node id 'a'"},
      {R"("target": "a")", R"("target": "nowhere")", "node 'r' route #1: unknown target 'nowhere'"},
      {R"("prompt_template": "{{q}}")", R"("prompt_template": "{{question}}")",
       "node 'a' prompt_template reads undeclared channel 'question'"},
      {R"("state.n > 1")", R"("state.m > 1")", "node 'r' route #1 condition reads undeclared channel 'm'"},
      {R"("output_channel": "n")", R"("output_channel": "nn")", "node 'calc' writes undeclared channel 'nn'"},
      {R"("reducer": "APPEND")", R"("reducer": "MERGE")", "channel 'docs': MERGE reducer needs a JSON channel, not LIST"},
      {R"({"name": "n", "type": "NUMBER"})", R"({"name": "n", "type": "NUMBER", "reducer": "APPEND"})",
       "channel 'n': APPEND reducer needs a LIST or MESSAGES channel, not NUMBER"},
      {R"("start": "a")", R"("start": "")", "graph has no start node"},
      {R"("start": "a")", R"("start": "zzz")", "start node 'zzz' is not a node"},
      {R"("max_steps": 10)", R"("max_steps": 20000)", "max_steps 20000 is out of range [0, 10000]"},
      {R"("max_steps": 10)", R"("max_steps": -1)", "max_steps -1 is out of range"},
      {R"("tool": "calculator")", R"("tool": "teleport")", "node 'calc': unknown tool 'teleport'"},
      {R"("state.n > 1")", R"("state.n > ")", "node 'r' route #1 condition: expression \"state.n > \": column 11"},
      {R"({"from": "calc", "to": "r"})", R"({"from": "calc", "to": "r"}, {"from": "r", "to": "a"})",
       "router node 'r' cannot have edges"},
  };
  for (const Case& c : cases) {
    std::string problems = Problems(Replace(kValid, c.from, c.to));
    EXPECT_TRUE(absl::StrContains(problems, c.expected)) << "expected: " << c.expected << "\n     got: " << problems;
  }
}

TEST_F(GraphTest, ToolResultTypeMustFitTheOutputChannel) {
  // The calculator returns a number; a MESSAGES channel cannot hold it.
  std::string bad = Replace(Replace(kValid, R"({"name": "n", "type": "NUMBER"})",
                                    R"({"name": "n", "type": "NUMBER"}, {"name": "chat", "type": "MESSAGES"})"),
                            R"("output_channel": "n")", R"("output_channel": "chat")");
  EXPECT_TRUE(absl::StrContains(Problems(bad), "tool 'calculator' returns number, which cannot be written to MESSAGES channel 'chat'"))
      << Problems(bad);
  std::string text = Replace(kValid, R"("output_channel": "n")", R"("output_channel": "q")");
  EXPECT_TRUE(absl::StrContains(Problems(text), "returns number, which cannot be written to STRING channel 'q'"));
  std::string list = Replace(kValid, R"("output_channel": "n")", R"("output_channel": "docs")");
  EXPECT_EQ(Problems(list), "");  // APPEND on a LIST takes any item.
}

TEST_F(GraphTest, DefaultValueTypeAndUnknownJsonFieldsAreRejected) {
  EXPECT_TRUE(absl::StrContains(
      Problems(Replace(kValid, R"({"name": "n", "type": "NUMBER"})", R"({"name": "n", "type": "NUMBER", "default_value": "x"})")),
      "default value: channel 'n' (NUMBER) expects a number, got string"));
  EXPECT_TRUE(absl::StrContains(Problems(Replace(kValid, R"("max_steps": 10)", R"("max_stepz": 10)")), "graph definition"));
  EXPECT_TRUE(absl::StrContains(Problems(Replace(kValid, R"("type": "STRING")", R"("type": "STRNG")")), "graph definition"));
}

TEST_F(GraphTest, MissingEndAndAllProblemsReportedTogether) {
  std::string problems = Problems(R"({"id": "loop",
    "nodes": [{"id": "x", "tool": {"tool": "calculator", "arguments": {"expression": "\"1\""}}},
              {"id": "y", "tool": {"tool": "calculator", "arguments": {"expression": "\"1\""}}}],
    "edges": [{"from": "x", "to": "y"}, {"from": "y", "to": "x"}], "start": "x"})");
  EXPECT_TRUE(absl::StrContains(problems, "no path from start reaches '__end__'")) << problems;
  problems = Problems(R"({"id": "", "nodes": [{"id": "__end__"}], "start": "x"})");
  EXPECT_TRUE(absl::StrContains(problems, "graph id is empty"));
  EXPECT_TRUE(absl::StrContains(problems, "'__end__' is reserved"));
}

}  // namespace
}  // namespace tessera::agents

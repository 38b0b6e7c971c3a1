#include "engine/constrained/json_schema_constraint.h"

#include "gtest/gtest.h"

namespace tessera::constrained {
namespace {

std::shared_ptr<const CompiledSchema> Compile(const std::string& schema) {
  auto compiled = CompiledSchema::Compile(schema);
  EXPECT_TRUE(compiled.ok()) << compiled.status();
  return compiled.ok() ? *compiled : nullptr;
}

// True when `text` is accepted as a whole and is complete.
bool Accepts(const std::string& schema, const std::string& text) {
  JsonSchemaAcceptor acceptor(Compile(schema));
  return acceptor.FeedAll(text) && acceptor.CanEnd();
}

// True when `text` is a viable prefix (possibly incomplete).
bool AcceptsPrefix(const std::string& schema, const std::string& text) {
  JsonSchemaAcceptor acceptor(Compile(schema));
  return acceptor.FeedAll(text);
}

const char kToolCall[] = R"({
  "anyOf": [
    {"type": "object",
     "properties": {"tool": {"const": "calculator"},
                    "arguments": {"type": "object",
                                  "properties": {"expression": {"type": "string"}},
                                  "required": ["expression"]}},
     "required": ["tool", "arguments"]},
    {"type": "object",
     "properties": {"tool": {"const": "search"},
                    "arguments": {"type": "object",
                                  "properties": {"query": {"type": "string", "maxLength": 20},
                                                 "top_k": {"type": "integer"}},
                                  "required": ["query"]}},
     "required": ["tool", "arguments"]},
    {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
  ]})";

TEST(JsonSchemaAcceptorTest, AcceptsEachAlternativeOfAToolCallUnion) {
  EXPECT_TRUE(Accepts(kToolCall, R"({"tool":"calculator","arguments":{"expression":"1+2"}})"));
  EXPECT_TRUE(Accepts(kToolCall, R"({"tool": "search", "arguments": {"query": "cells", "top_k": 3}})"));
  EXPECT_TRUE(Accepts(kToolCall, R"({"arguments":{"query":"x"},"tool":"search"})"));
  EXPECT_TRUE(Accepts(kToolCall, R"({"answer":"It is 3.\n \"quoted\" \u00e9"})"));
}

TEST(JsonSchemaAcceptorTest, RejectsWhatTheSchemaForbids) {
  // Unknown tool name, unknown argument, missing required argument.
  EXPECT_FALSE(AcceptsPrefix(kToolCall, R"({"tool":"shell")"));
  EXPECT_FALSE(AcceptsPrefix(kToolCall, R"({"tool":"search","arguments":{"path")"));
  EXPECT_FALSE(AcceptsPrefix(kToolCall, R"({"tool":"calculator","arguments":{})"));
  // Wrong value types.
  EXPECT_FALSE(AcceptsPrefix(kToolCall, R"({"tool":"search","arguments":{"query":1)"));
  EXPECT_FALSE(AcceptsPrefix(kToolCall, R"({"tool":"search","arguments":{"query":"a","top_k":1.5)"));
  // maxLength.
  EXPECT_TRUE(AcceptsPrefix(kToolCall, R"({"tool":"search","arguments":{"query":"12345678901234567890")"));
  EXPECT_FALSE(AcceptsPrefix(kToolCall, R"({"tool":"search","arguments":{"query":"123456789012345678901)"));
  // Duplicate keys, trailing commas, bare words, two values.
  EXPECT_FALSE(AcceptsPrefix(kToolCall, R"({"answer":"a","answer")"));
  EXPECT_FALSE(AcceptsPrefix(kToolCall, R"({"answer":"a",})"));
  EXPECT_FALSE(AcceptsPrefix(kToolCall, R"({"answer":yes)"));
  EXPECT_FALSE(AcceptsPrefix(kToolCall, R"({"answer":"a"} {)"));
  // Control characters inside strings and invalid escapes.
  EXPECT_FALSE(AcceptsPrefix(kToolCall, "{\"answer\":\"a\nb"));
  EXPECT_FALSE(AcceptsPrefix(kToolCall, R"({"answer":"\x)"));
  EXPECT_FALSE(AcceptsPrefix(kToolCall, R"({"answer":"\u12g)"));
}

TEST(JsonSchemaAcceptorTest, LimitsWhitespaceRuns) {
  EXPECT_TRUE(AcceptsPrefix(kToolCall, "{ \"answer\": \"x\" }"));
  EXPECT_FALSE(AcceptsPrefix(kToolCall, "{  "));
  EXPECT_FALSE(AcceptsPrefix(kToolCall, "{\"answer\":\n\n"));
}

TEST(JsonSchemaAcceptorTest, EndsExactlyWhenTheValueCloses) {
  JsonSchemaAcceptor acceptor(Compile(kToolCall));
  ASSERT_TRUE(acceptor.FeedAll(R"({"answer":"done")"));
  EXPECT_FALSE(acceptor.CanEnd());
  EXPECT_FALSE(acceptor.MustEnd());
  ASSERT_TRUE(acceptor.Feed('}'));
  EXPECT_TRUE(acceptor.CanEnd());
  EXPECT_TRUE(acceptor.MustEnd());
  EXPECT_FALSE(acceptor.Feed(' '));
}

TEST(JsonSchemaAcceptorTest, TopLevelNumbersMayEndButNeedNotEnd) {
  JsonSchemaAcceptor acceptor(Compile(R"({"type":"number"})"));
  ASSERT_TRUE(acceptor.FeedAll("-12"));
  EXPECT_TRUE(acceptor.CanEnd());
  EXPECT_FALSE(acceptor.MustEnd());
  ASSERT_TRUE(acceptor.FeedAll(".5e+3"));
  EXPECT_TRUE(acceptor.CanEnd());
  EXPECT_FALSE(Accepts(R"({"type":"number"})", "01"));
  EXPECT_FALSE(Accepts(R"({"type":"number"})", "1."));
  EXPECT_FALSE(Accepts(R"({"type":"integer"})", "1.0"));
  EXPECT_TRUE(Accepts(R"({"type":"integer"})", "0"));
}

TEST(JsonSchemaAcceptorTest, StringLengthAndIntegerBounds) {
  const std::string schema = R"({"type":"object","properties":{
      "q": {"type": "string", "minLength": 2},
      "k": {"type": "integer", "minimum": 1, "maximum": 50}}})";
  EXPECT_FALSE(AcceptsPrefix(schema, R"({"q":"a")"));
  EXPECT_TRUE(AcceptsPrefix(schema, R"({"q":"ab")"));
  EXPECT_TRUE(Accepts(schema, R"({"k":1})"));
  EXPECT_TRUE(Accepts(schema, R"({"k":50})"));
  EXPECT_FALSE(AcceptsPrefix(schema, R"({"k":0)"));   // A leading zero can only be 0.
  EXPECT_FALSE(AcceptsPrefix(schema, R"({"k":-)"));
  EXPECT_FALSE(AcceptsPrefix(schema, R"({"k":51)"));  // Already above the maximum.
  EXPECT_FALSE(AcceptsPrefix(schema, R"({"k":6)" "0"));
  EXPECT_TRUE(AcceptsPrefix(schema, R"({"k":6)"));    // 6 is in range; 60 would not be.
  EXPECT_FALSE(Accepts(R"({"type":"integer","minimum":10,"maximum":20})", "9"));
  EXPECT_TRUE(AcceptsPrefix(R"({"type":"integer","minimum":10,"maximum":20})", "1"));
  EXPECT_FALSE(AcceptsPrefix(R"({"type":"integer","minimum":10,"maximum":20})", "3"));
}

TEST(JsonSchemaAcceptorTest, ArraysHonourItemsAndBounds) {
  const std::string schema = R"({"type":"array","items":{"type":"boolean"},"minItems":1,"maxItems":2})";
  EXPECT_FALSE(Accepts(schema, "[]"));
  EXPECT_TRUE(Accepts(schema, "[true]"));
  EXPECT_TRUE(Accepts(schema, "[true, false]"));
  EXPECT_FALSE(AcceptsPrefix(schema, "[true,false,"));
  EXPECT_FALSE(AcceptsPrefix(schema, "[null"));
  EXPECT_TRUE(Accepts(R"({"type":"array"})", "[]"));
  EXPECT_TRUE(Accepts(R"({"type":"array"})", R"([1,"a",{"k":[null]},[]])"));
  EXPECT_TRUE(Accepts(R"({"type":"array","maxItems":0})", "[]"));
  EXPECT_FALSE(AcceptsPrefix(R"({"type":"array","maxItems":0})", "[1"));
}

TEST(JsonSchemaAcceptorTest, EnumsMatchWholeValuesIncludingPrefixesOfEachOther) {
  const std::string schema = R"({"enum":["a","ab",1,10,null]})";
  EXPECT_TRUE(Accepts(schema, R"("a")"));
  EXPECT_TRUE(Accepts(schema, R"("ab")"));
  EXPECT_FALSE(AcceptsPrefix(schema, R"("b)"));
  EXPECT_TRUE(Accepts(schema, "null"));
  EXPECT_TRUE(Accepts(R"({"type":"object","properties":{"n":{"enum":[1,10]}}})", R"({"n":1})"));
  EXPECT_TRUE(Accepts(R"({"type":"object","properties":{"n":{"enum":[1,10]}}})", R"({"n":10})"));
  EXPECT_FALSE(AcceptsPrefix(R"({"type":"object","properties":{"n":{"enum":[1,10]}}})", R"({"n":2)"));
}

TEST(JsonSchemaAcceptorTest, AnyValueWhenTheSchemaSaysNothing) {
  EXPECT_TRUE(Accepts("{}", R"({"x":[1,2,{"y":"z"}],"t":true,"n":null})"));
  EXPECT_TRUE(Accepts(R"({"type":"object","additionalProperties":true,"properties":{"a":{"type":"string"}}})",
                      R"({"a":"s","other":5})"));
  EXPECT_FALSE(AcceptsPrefix(R"({"type":"object","properties":{"a":{"type":"string"}}})", R"({"other")"));
}

TEST(CompiledSchemaTest, RejectsSchemasItCannotEnforce) {
  EXPECT_FALSE(CompiledSchema::Compile("not json").ok());
  EXPECT_FALSE(CompiledSchema::Compile("[1]").ok());
  EXPECT_FALSE(CompiledSchema::Compile(R"({"$ref":"#/defs/x"})").ok());
  EXPECT_FALSE(CompiledSchema::Compile(R"({"type":"date"})").ok());
  EXPECT_FALSE(CompiledSchema::Compile(R"({"properties":{"a":{}},"required":["b"]})").ok());
  EXPECT_FALSE(CompiledSchema::Compile(R"({"type":"array","maxItems":"x"})").ok());
  EXPECT_FALSE(CompiledSchema::Compile(R"({"anyOf":[]})").ok());
  auto error = CompiledSchema::Compile(R"({"properties":{"a":{"type":"nope"}}})");
  ASSERT_FALSE(error.ok());
  EXPECT_NE(error.status().message().find("#/properties/a"), std::string::npos) << error.status();
}

}  // namespace
}  // namespace tessera::constrained

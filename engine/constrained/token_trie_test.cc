#include "engine/constrained/token_trie.h"

#include <algorithm>
#include <random>

#include "common/shared_data.h"
#include "engine/tokenizer/load_tokenizer.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace tessera::constrained {
namespace {

const char kSchema[] = R"({
  "type": "object",
  "properties": {"tool": {"enum": ["calculator", "search"]},
                 "arguments": {"type": "object",
                               "properties": {"n": {"type": "integer"}, "exact": {"type": "boolean"}},
                               "required": ["n", "exact"]}},
  "required": ["tool", "arguments"]})";

std::shared_ptr<const CompiledSchema> Schema() {
  auto schema = CompiledSchema::Compile(kSchema);
  EXPECT_TRUE(schema.ok()) << schema.status();
  return *schema;
}

// The allowed set by brute force: each token fed on its own.
std::vector<int32_t> BruteForce(const JsonSchemaAcceptor& state, const std::vector<std::string>& bytes) {
  std::vector<int32_t> allowed;
  for (int32_t id = 0; id < static_cast<int32_t>(bytes.size()); ++id) {
    JsonSchemaAcceptor copy = state;
    if (!bytes[id].empty() && copy.FeedAll(bytes[id])) allowed.push_back(id);
  }
  return allowed;
}

std::vector<int32_t> Sorted(std::vector<int32_t> ids) {
  std::sort(ids.begin(), ids.end());
  return ids;
}

TEST(TokenTrieTest, AllowsExactlyTheTokensTheAcceptorTakes) {
  const std::vector<std::string> vocab = {"{",    "\"",   "}",      ":",  ",",  "\"tool", "tool\"",
                                          "calc", "ulator", "\":",  "1",  "12", "-",      "true",
                                          "t",    "rue",  " ",      "  ", "",   "search\"", "x"};
  TokenTrie trie(vocab);
  JsonSchemaAcceptor state(Schema());
  for (const char* step : {"", "{", "{\"", "{\"tool\":", "{\"tool\":\"calc", "{\"tool\":\"search\","}) {
    JsonSchemaAcceptor at = state;
    ASSERT_TRUE(at.FeedAll(step)) << step;
    std::vector<int32_t> allowed;
    trie.AllowedTokens(at, &allowed);
    EXPECT_EQ(Sorted(allowed), BruteForce(at, vocab)) << "after '" << step << "'";
  }
}

// With the real Llama 2 vocabulary: random walks over the allowed tokens always
// end in JSON that satisfies the schema.
TEST(TokenTrieTest, RandomWalksOverTheLlamaVocabularyProduceValidJson) {
  std::optional<std::string> path = FindSharedFile("tokenizers/llama2/tokenizer.model");
  if (!path) GTEST_SKIP() << "../shared/tokenizers/llama2/tokenizer.model is absent";
  auto tokenizer = tokenizer::LoadTokenizer(*path);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  auto bytes = TokenBytes(**tokenizer);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ((*bytes)[*(*tokenizer)->PieceToId("▁the")], " the");
  EXPECT_EQ((*bytes)[*(*tokenizer)->PieceToId("<0x0A>")], "\n");
  EXPECT_EQ((*bytes)[(*tokenizer)->special_ids().bos], "");

  TokenTrie trie(*bytes);
  std::mt19937 rng(7);
  for (int walk = 0; walk < 20; ++walk) {
    JsonSchemaAcceptor state(Schema());
    std::string text;
    std::vector<int32_t> allowed;
    for (int step = 0; step < 200 && !state.MustEnd(); ++step) {
      allowed.clear();
      trie.AllowedTokens(state, &allowed);
      ASSERT_FALSE(allowed.empty()) << "dead end after: " << text;
      if (step % 5 == 0) {
        EXPECT_EQ(Sorted(allowed), BruteForce(state, *bytes)) << "after: " << text;
      }
      const int32_t token = allowed[std::uniform_int_distribution<size_t>(0, allowed.size() - 1)(rng)];
      ASSERT_TRUE(state.FeedAll((*bytes)[token]));
      text += (*bytes)[token];
    }
    ASSERT_TRUE(state.MustEnd()) << text;
    nlohmann::json value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(value.is_discarded()) << text;
    EXPECT_TRUE(value["tool"] == "calculator" || value["tool"] == "search") << text;
    EXPECT_TRUE(value["arguments"]["n"].is_number_integer()) << text;
    EXPECT_TRUE(value["arguments"]["exact"].is_boolean()) << text;
  }
}

}  // namespace
}  // namespace tessera::constrained

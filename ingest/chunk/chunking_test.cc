#include "ingest/chunk/chunking.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "ingest/chunk/chunk_test_util.h"
#include "ingest/parse/parse.h"

namespace tessera::ingest {
namespace {

using ingest::v1::ChunkingConfig;

ChunkingConfig Config(ChunkingConfig::Strategy strategy, int max_tokens, int overlap_tokens) {
  ChunkingConfig config;
  config.set_strategy(strategy);
  config.set_max_tokens(max_tokens);
  config.set_overlap_tokens(overlap_tokens);
  return config;
}

TEST(ResolveChunkingConfigTest, DefaultsAndValidation) {
  auto defaults = ResolveChunkingConfig(ChunkingConfig());
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->strategy(), ChunkingConfig::RECURSIVE);
  EXPECT_EQ(defaults->max_tokens(), 256);
  EXPECT_EQ(defaults->overlap_tokens(), 32);
  EXPECT_EQ(DefaultChunkingConfig().SerializeAsString(), defaults->SerializeAsString());

  auto explicit_no_overlap = ResolveChunkingConfig(Config(ChunkingConfig::FIXED_TOKENS, 100, 0));
  ASSERT_TRUE(explicit_no_overlap.ok());
  EXPECT_EQ(explicit_no_overlap->overlap_tokens(), 0);
  auto big_overlap_default_window =
      ResolveChunkingConfig(Config(ChunkingConfig::STRATEGY_UNSPECIFIED, 0, 300));
  ASSERT_TRUE(big_overlap_default_window.ok());
  EXPECT_EQ(big_overlap_default_window->overlap_tokens(), 32);

  for (const ChunkingConfig& bad :
       {Config(ChunkingConfig::RECURSIVE, -1, 0), Config(ChunkingConfig::RECURSIVE, 10, -2),
        Config(ChunkingConfig::RECURSIVE, 10, 10), Config(ChunkingConfig::FIXED_TOKENS, 10, 12),
        Config(ChunkingConfig::RECURSIVE, kMaxChunkTokens + 1, 0),
        Config(static_cast<ChunkingConfig::Strategy>(42), 10, 0)}) {
    auto resolved = ResolveChunkingConfig(bad);
    EXPECT_EQ(resolved.status().code(), absl::StatusCode::kInvalidArgument) << bad.DebugString();
    EXPECT_FALSE(MakeChunker(bad).ok());
  }
}

TEST(ChunkDocumentTest, SetsIdentityOnEveryChunk) {
  auto doc = ParseDocument(common::v1::DOCUMENT_FORMAT_TEXT, "One. Two.\n\nThree four five.");
  ASSERT_TRUE(doc.ok());
  auto chunks = ChunkDocument(*doc, Config(ChunkingConfig::FIXED_TOKENS, 3, 1), "doc-1", "news");
  ASSERT_TRUE(chunks.ok()) << chunks.status();
  ASSERT_EQ(chunks->size(), 4u);
  for (const auto& chunk : *chunks) {
    EXPECT_EQ(chunk.document_id(), "doc-1");
    EXPECT_EQ(chunk.collection(), "news");
    EXPECT_EQ(chunk.id(), absl::StrCat("doc-1#", chunk.ordinal()));
  }
  ExpectChunksConsistent(*doc, *chunks, DefaultTokenCounter(), 3);
}

TEST(ChunkDocumentTest, NoneIsOneTrimmedChunk) {
  auto doc = ParseDocument(common::v1::DOCUMENT_FORMAT_HTML,
                           "<h1>Title</h1><p>Body \xF0\x9F\x98\x80 text.</p>");
  ASSERT_TRUE(doc.ok());
  auto chunks = ChunkDocument(*doc, Config(ChunkingConfig::NONE, 0, 0), "d", "c");
  ASSERT_TRUE(chunks.ok());
  ASSERT_EQ(chunks->size(), 1u);
  EXPECT_EQ((*chunks)[0].text(), "Title\n\nBody \xF0\x9F\x98\x80 text.");
  EXPECT_EQ((*chunks)[0].char_start(), 0);
  EXPECT_EQ((*chunks)[0].char_end(), 19);
  EXPECT_EQ((*chunks)[0].section_path(0), "Title");
  EXPECT_EQ((*chunks)[0].token_count(), 5);
  ExpectChunksConsistent(*doc, *chunks, DefaultTokenCounter(), 0);
}

TEST(ChunkDocumentTest, EmptyDocumentHasNoChunksInEveryStrategy) {
  for (auto format : {common::v1::DOCUMENT_FORMAT_TEXT, common::v1::DOCUMENT_FORMAT_MARKDOWN,
                      common::v1::DOCUMENT_FORMAT_HTML}) {
    auto doc = ParseDocument(format, "");
    ASSERT_TRUE(doc.ok());
    for (auto strategy : {ChunkingConfig::FIXED_TOKENS, ChunkingConfig::RECURSIVE,
                          ChunkingConfig::NONE}) {
      auto chunks = ChunkDocument(*doc, Config(strategy, 0, 0), "d", "c");
      ASSERT_TRUE(chunks.ok());
      EXPECT_TRUE(chunks->empty());
    }
  }
}

TEST(ChunkDocumentTest, MarkdownCodeBlocksWithHashLinesStayInTheirSection) {
  const std::string md =
      "# Setup\n\nInstall the tools.\n\n"
      "```sh\n# comment, not a heading\nmake install\n```\n\n"
      "## Usage\n\nRun it.\n";
  auto doc = ParseDocument(common::v1::DOCUMENT_FORMAT_MARKDOWN, md);
  ASSERT_TRUE(doc.ok());
  auto chunks = ChunkDocument(*doc, DefaultChunkingConfig(), "d", "c");
  ASSERT_TRUE(chunks.ok());
  ASSERT_EQ(chunks->size(), 2u);
  EXPECT_EQ((*chunks)[0].text(),
            "Setup\n\nInstall the tools.\n\n```sh\n# comment, not a heading\nmake install\n```");
  EXPECT_EQ((*chunks)[0].section_path_size(), 1);
  EXPECT_EQ((*chunks)[1].text(), "Usage\n\nRun it.");
  ASSERT_EQ((*chunks)[1].section_path_size(), 2);
  EXPECT_EQ((*chunks)[1].section_path(1), "Usage");
  ExpectChunksConsistent(*doc, *chunks, DefaultTokenCounter(), 256);
}

TEST(ChunkDocumentTest, NestedHtmlHeadingsGiveSectionPaths) {
  auto doc = ParseDocument(common::v1::DOCUMENT_FORMAT_HTML,
                           "<article><h1>Guide</h1><section><h2>Part A</h2><p>Alpha.</p>"
                           "<section><h3>Detail</h3><p>Deep text.</p></section></section>"
                           "<h2>Part B</h2><p>Beta.</p></article>");
  ASSERT_TRUE(doc.ok());
  auto chunks = ChunkDocument(*doc, DefaultChunkingConfig(), "d", "c");
  ASSERT_TRUE(chunks.ok());
  ASSERT_EQ(chunks->size(), 4u);
  auto path = [&](int i) {
    std::vector<std::string> p((*chunks)[i].section_path().begin(), (*chunks)[i].section_path().end());
    return p;
  };
  EXPECT_EQ(path(0), (std::vector<std::string>{"Guide"}));
  EXPECT_EQ(path(1), (std::vector<std::string>{"Guide", "Part A"}));
  EXPECT_EQ(path(2), (std::vector<std::string>{"Guide", "Part A", "Detail"}));
  EXPECT_EQ((*chunks)[2].text(), "Detail\n\nDeep text.");
  EXPECT_EQ(path(3), (std::vector<std::string>{"Guide", "Part B"}));
  ExpectChunksConsistent(*doc, *chunks, DefaultTokenCounter(), 256);
}

// ~50 MB of prose (with some Cyrillic and CJK) parsed and chunked: the work is
// linear, so this takes seconds; a quadratic step would take hours.
TEST(ChunkDocumentTest, FiftyMegabyteDocumentIsLinear) {
  std::string paragraph;
  for (int s = 0; s < 8; ++s) {
    absl::StrAppend(&paragraph, "Sentence ", s,
                    " describes retrieval pipelines, chunk boundaries and token budgets in "
                    "some detail. ");
  }
  absl::StrAppend(&paragraph, "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 \xE4\xB8\xAD\xE6\x96\x87.");
  std::string text;
  text.reserve(51 << 20);
  while (text.size() < (50u << 20)) absl::StrAppend(&text, paragraph, "\n\n");
  // One pathological paragraph: 1 MB without any sentence end.
  for (int i = 0; i < 100000; ++i) text += "runon word ";

  const absl::Time start = absl::Now();
  auto doc = ParseDocument(common::v1::DOCUMENT_FORMAT_TEXT, text);
  ASSERT_TRUE(doc.ok());
  const absl::Time parsed = absl::Now();
  auto recursive = ChunkDocument(*doc, DefaultChunkingConfig(), "big", "c");
  ASSERT_TRUE(recursive.ok());
  const absl::Time chunked = absl::Now();
  auto fixed = ChunkDocument(*doc, Config(ChunkingConfig::FIXED_TOKENS, 256, 32), "big", "c");
  ASSERT_TRUE(fixed.ok());
  const absl::Time fixed_done = absl::Now();
  std::cout << "50 MB: parse " << absl::ToDoubleSeconds(parsed - start) << " s, recursive "
            << absl::ToDoubleSeconds(chunked - parsed) << " s (" << recursive->size()
            << " chunks), fixed " << absl::ToDoubleSeconds(fixed_done - chunked) << " s ("
            << fixed->size() << " chunks)\n";
  // ~140-token paragraphs of ~760 bytes: one per 256-token chunk.
  EXPECT_GT(recursive->size(), 60000u);
  EXPECT_GT(fixed->size(), 40000u);
  ExpectChunksConsistent(*doc, *recursive, DefaultTokenCounter(), 256);
  ExpectChunksConsistent(*doc, *fixed, DefaultTokenCounter(), 256);
  // Generous bound for a loaded 2-core machine; it runs in a few seconds unloaded.
  EXPECT_LT(absl::ToDoubleSeconds(fixed_done - start), 60.0);
}

}  // namespace
}  // namespace tessera::ingest

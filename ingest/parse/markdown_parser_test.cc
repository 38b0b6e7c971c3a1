#include "ingest/parse/markdown_parser.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ingest/parse/test_util.h"

namespace tessera::ingest {
namespace {

using Path = std::vector<std::string>;

// The heading path of the section that contains the first occurrence of `needle`.
Path PathAt(const ParsedDocument& doc, const std::string& needle) {
  size_t byte = doc.text.find(needle);
  EXPECT_NE(byte, std::string::npos) << needle;
  int64_t offset = 0;
  for (size_t i = 0; i < byte; ++i) {
    if ((static_cast<unsigned char>(doc.text[i]) & 0xC0) != 0x80) ++offset;
  }
  for (const Section& s : doc.sections) {
    if (s.span.start <= offset && offset < s.span.end) return s.heading_path;
  }
  return {};
}

TEST(MarkdownParserTest, AtxAndSetextHeadingsBuildNestedSections) {
  const std::string md =
      "Preamble text.\n"
      "\n"
      "# Guide #\n"
      "Intro paragraph\n"
      "spanning two lines.\n"
      "\n"
      "## Install\n"
      "Run the installer.\n"
      "\n"
      "Setup Notes\n"
      "-----------\n"
      "Notes body.\n"
      "\n"
      "Reference\n"
      "=========\n"
      "\n"
      "### Deep\n"
      "Deep body.\n";
  auto doc = MarkdownParser().Parse(md);
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->title, "Guide");
  EXPECT_EQ(doc->text,
            "Preamble text.\n\nGuide\n\nIntro paragraph\nspanning two lines.\n\nInstall\n\n"
            "Run the installer.\n\nSetup Notes\n\nNotes body.\n\nReference\n\nDeep\n\nDeep body.\n\n");
  EXPECT_EQ(PathAt(*doc, "Preamble"), Path{});
  EXPECT_EQ(PathAt(*doc, "Intro paragraph"), (Path{"Guide"}));
  EXPECT_EQ(PathAt(*doc, "Run the installer"), (Path{"Guide", "Install"}));
  EXPECT_EQ(PathAt(*doc, "Notes body"), (Path{"Guide", "Setup Notes"}));
  EXPECT_EQ(PathAt(*doc, "Deep body"), (Path{"Reference", "Deep"}));
  ASSERT_EQ(doc->sections.size(), 5u);
  EXPECT_EQ(SpanText(doc->text, doc->sections[1].span), "Install\n\nRun the installer.\n\n");
  EXPECT_EQ(ParagraphTexts(*doc),
            (std::vector<std::string>{"Preamble text.", "Guide", "Intro paragraph\nspanning two lines.",
                                      "Install", "Run the installer.", "Setup Notes", "Notes body.",
                                      "Reference", "Deep", "Deep body."}));
  ExpectWellFormed(*doc);
}

TEST(MarkdownParserTest, FencedCodeIsVerbatimAndNeverAHeading) {
  const std::string md =
      "# Script\n"
      "```bash\n"
      "# install deps\n"
      "apt-get install -y foo\n"
      "\n"
      "## not a heading either\n"
      "```\n"
      "~~~~\n"
      "Title\n"
      "=====\n"
      "~~~~\n"
      "After the code.\n";
  auto doc = MarkdownParser().Parse(md);
  ASSERT_TRUE(doc.ok()) << doc.status();
  ASSERT_EQ(doc->sections.size(), 1u);
  EXPECT_EQ(doc->sections[0].heading_path, (Path{"Script"}));
  EXPECT_NE(doc->text.find("```bash\n# install deps\napt-get install -y foo\n\n## not a heading "
                           "either\n```\n"),
            std::string::npos)
      << doc->text;
  EXPECT_NE(doc->text.find("~~~~\nTitle\n=====\n~~~~\n"), std::string::npos) << doc->text;
  EXPECT_EQ(PathAt(*doc, "After the code"), (Path{"Script"}));
  ExpectWellFormed(*doc);
}

TEST(MarkdownParserTest, UnclosedFenceRunsToTheEnd) {
  auto doc = MarkdownParser().Parse("```\n# comment\n");
  ASSERT_TRUE(doc.ok());
  EXPECT_TRUE(doc->sections.empty());
  EXPECT_EQ(doc->text, "```\n# comment\n");
}

TEST(MarkdownParserTest, ListsParagraphsAndNonHeadings) {
  const std::string md =
      "- first item\n"
      "- second item\n"
      "---\n"
      "#hashtag is not a heading\n"
      "    # indented code is not a heading\n"
      "1. numbered\n";
  auto doc = MarkdownParser().Parse(md);
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_TRUE(doc->sections.empty());
  EXPECT_EQ(doc->text,
            "- first item\n- second item\n\n#hashtag is not a heading\n"
            "    # indented code is not a heading\n1. numbered\n\n");
  ExpectWellFormed(*doc);
}

TEST(MarkdownParserTest, FrontMatterStaysVerbatim) {
  auto doc = MarkdownParser().Parse("---\ntitle: x\n---\n# Real\nbody\n");
  ASSERT_TRUE(doc.ok());
  ASSERT_EQ(doc->sections.size(), 1u);
  EXPECT_EQ(doc->sections[0].heading_path, (Path{"Real"}));
  EXPECT_EQ(doc->text.substr(0, 17), "---\ntitle: x\n---\n");
}

TEST(MarkdownParserTest, NonAsciiHeadingsAndInvalidUtf8) {
  auto doc = MarkdownParser().Parse("## \xD0\x93\xD0\xBB\xD0\xB0\xD0\xB2\xD0\xB0\n\xE6\x96\x87\n");
  ASSERT_TRUE(doc.ok());
  ASSERT_EQ(doc->sections.size(), 1u);
  EXPECT_EQ(doc->sections[0].heading_path, (Path{"\xD0\x93\xD0\xBB\xD0\xB0\xD0\xB2\xD0\xB0"}));
  EXPECT_EQ(doc->sections[0].span, (CharSpan{0, 10}));
  ExpectWellFormed(*doc);
  auto bad = MarkdownParser().Parse("# ok\n\xE2\x82");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("byte offset 5"), std::string::npos) << bad.status();
}

}  // namespace
}  // namespace tessera::ingest

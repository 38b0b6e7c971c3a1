#include "ingest/parse/html_parser.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ingest/parse/test_util.h"

namespace tessera::ingest {
namespace {

using Path = std::vector<std::string>;

TEST(HtmlParserTest, ExtractsVisibleTextTitleAndNestedHeadings) {
  const std::string html = R"(<!DOCTYPE html>
<html><head><title>  The &amp; Guide </title>
<style>body { color: red }</style>
<script>var hidden = "never shown";</script></head>
<body>
  <noscript>Enable JavaScript</noscript>
  <template><p>template text</p></template>
  <h1>Manual</h1>
  <p>Intro   with
     <b>bold</b> and <a href="#">a link</a>&nbsp;&copy; 2024.</p>
  <h2>Install</h2>
  <ul><li>Step one</li><li>Step two</li></ul>
  <h3>Linux</h3>
  <div>Use apt.<br>Then run it.</div>
  <h2>Usage</h2>
  <p hidden>secret</p>
  <table><tr><th>Key</th><td>Value</td></tr></table>
  <pre>  code   kept
    as is</pre>
</body></html>)";
  auto doc = HtmlParser().Parse(html);
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->title, "The & Guide");
  EXPECT_EQ(doc->text,
            "Manual\n\nIntro with bold and a link\xC2\xA0\xC2\xA9 2024.\n\nInstall\n\n"
            "Step one\nStep two\n\nLinux\n\nUse apt.\nThen run it.\n\nUsage\n\n"
            "Key\tValue\n\n  code   kept\n    as is\n\n");
  for (const char* dropped : {"color", "never shown", "Enable JavaScript", "template text", "secret"}) {
    EXPECT_EQ(doc->text.find(dropped), std::string::npos) << dropped;
  }
  ASSERT_EQ(doc->sections.size(), 4u);
  EXPECT_EQ(doc->sections[0].heading_path, (Path{"Manual"}));
  EXPECT_EQ(doc->sections[1].heading_path, (Path{"Manual", "Install"}));
  EXPECT_EQ(doc->sections[2].heading_path, (Path{"Manual", "Install", "Linux"}));
  EXPECT_EQ(doc->sections[3].heading_path, (Path{"Manual", "Usage"}));
  EXPECT_EQ(SpanText(doc->text, doc->sections[2].span), "Linux\n\nUse apt.\nThen run it.\n\n");
  EXPECT_EQ(ParagraphTexts(*doc),
            (std::vector<std::string>{"Manual", "Intro with bold and a link\xC2\xA0\xC2\xA9 2024.",
                                      "Install", "Step one", "Step two", "Linux",
                                      "Use apt.\nThen run it.", "Usage", "Key\tValue",
                                      "code   kept\n    as is"}));
  ExpectWellFormed(*doc);
}

TEST(HtmlParserTest, HeadingLevelsCanSkipAndReturn) {
  auto doc = HtmlParser().Parse(
      "<h2>A</h2><p>a</p><h4>B</h4><p>b</p><h3>C</h3><p>c</p><h1>D</h1><p>d</p>");
  ASSERT_TRUE(doc.ok());
  ASSERT_EQ(doc->sections.size(), 4u);
  EXPECT_EQ(doc->sections[1].heading_path, (Path{"A", "B"}));
  EXPECT_EQ(doc->sections[2].heading_path, (Path{"A", "C"}));
  EXPECT_EQ(doc->sections[3].heading_path, (Path{"D"}));
  ExpectWellFormed(*doc);
}

TEST(HtmlParserTest, TagSoupAndMixedScripts) {
  auto doc = HtmlParser().Parse(
      "<p>\xE4\xB8\xAD\xE6\x96\x87<p>\xD8\xB9\xD8\xB1\xD8\xA8\xD9\x8A <i>\xF0\x9F\x98\x80</p></div>"
      "&lt;tag&gt; &#x41;&#66;");
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(ParagraphTexts(*doc),
            (std::vector<std::string>{"\xE4\xB8\xAD\xE6\x96\x87",
                                      "\xD8\xB9\xD8\xB1\xD8\xA8\xD9\x8A \xF0\x9F\x98\x80",
                                      "<tag> AB"}));
  ExpectWellFormed(*doc);
}

TEST(HtmlParserTest, CarriageReturnReferencesBecomeLineFeeds) {
  // Found by //fuzz:html_fuzzer: &#13; inside <pre> put a CR into the text.
  auto doc = HtmlParser().Parse("<pre>a&#13;b&#x0d;&#10;c</pre><p>d&#13;e</p>");
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->text.find('\r'), std::string::npos);
  EXPECT_NE(doc->text.find("a\nb\nc"), std::string::npos) << doc->text;
  ExpectWellFormed(*doc);
}

TEST(HtmlParserTest, DeepNestingDoesNotRecurse) {
  std::string html;
  for (int i = 0; i < 20000; ++i) html += "<span>";
  html += "deep";
  auto doc = HtmlParser().Parse(html);
  ASSERT_TRUE(doc.ok());
  EXPECT_NE(doc->text.find("deep"), std::string::npos);
}

TEST(HtmlParserTest, EmptyAndInvalidInput) {
  auto empty = HtmlParser().Parse("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->text.empty());
  auto bad = HtmlParser().Parse("<p>ok\xC0</p>");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("byte offset 5"), std::string::npos) << bad.status();
}

}  // namespace
}  // namespace tessera::ingest

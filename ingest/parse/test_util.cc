#include "ingest/parse/test_util.h"

#include "common/utf8.h"
#include "gtest/gtest.h"
#include "ingest/parse/text_offsets.h"

namespace tessera::ingest {

std::string SpanText(absl::string_view text, CharSpan span) {
  OffsetCursor cursor(text);
  size_t begin = cursor.CharToByte(span.start);
  size_t end = cursor.CharToByte(span.end);
  return std::string(text.substr(begin, end - begin));
}

std::vector<std::string> ParagraphTexts(const ParsedDocument& doc) {
  std::vector<std::string> out;
  for (const CharSpan& p : doc.paragraphs) out.push_back(SpanText(doc.text, p));
  return out;
}

void ExpectWellFormed(const ParsedDocument& doc) {
  EXPECT_TRUE(ValidateUtf8(doc.text, "text").ok());
  auto nfc = NormalizeNfc(doc.text, "text");
  ASSERT_TRUE(nfc.ok());
  EXPECT_EQ(*nfc, doc.text) << "text is not NFC";
  const int64_t size = static_cast<int64_t>(CodePointCount(doc.text));
  int64_t previous_end = 0;
  for (const CharSpan& p : doc.paragraphs) {
    EXPECT_LE(previous_end, p.start);
    EXPECT_LT(p.start, p.end);
    EXPECT_LE(p.end, size);
    std::string t = SpanText(doc.text, p);
    ASSERT_FALSE(t.empty());
    EXPECT_FALSE(t.front() == ' ' || t.front() == '\n' || t.front() == '\t') << t;
    EXPECT_FALSE(t.back() == ' ' || t.back() == '\n' || t.back() == '\t') << t;
    previous_end = p.end;
  }
  for (size_t i = 0; i < doc.sections.size(); ++i) {
    EXPECT_LE(doc.sections[i].span.start, doc.sections[i].span.end);
    EXPECT_FALSE(doc.sections[i].heading_path.empty());
    if (i + 1 < doc.sections.size()) {
      EXPECT_EQ(doc.sections[i].span.end, doc.sections[i + 1].span.start);
    } else {
      EXPECT_EQ(doc.sections[i].span.end, size);
    }
  }
  for (size_t i = 0; i < doc.pages.size(); ++i) {
    EXPECT_EQ(doc.pages[i].number, static_cast<int32_t>(i + 1));
    if (i == 0) {
      EXPECT_EQ(doc.pages[i].span.start, 0);
    }
    if (i + 1 < doc.pages.size()) {
      EXPECT_EQ(doc.pages[i].span.end, doc.pages[i + 1].span.start);
    } else {
      EXPECT_EQ(doc.pages[i].span.end, size);
    }
  }
}

}  // namespace tessera::ingest

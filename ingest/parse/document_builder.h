// Accumulates text extracted by a parser together with its structure, then
// normalises it (NFC) and converts every structural offset to code points.
#ifndef TESSERA_INGEST_PARSE_DOCUMENT_BUILDER_H_
#define TESSERA_INGEST_PARSE_DOCUMENT_BUILDER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ingest/parse/parsed_document.h"

namespace tessera::ingest {

// Offsets are recorded in bytes of the raw (not yet normalised) text. Finish()
// normalises the text in segments cut at those offsets, so every offset maps
// exactly onto the normalised text. A cut is only made where normalisation cannot
// reach across it (before an ASCII byte, or after ASCII whitespace); other
// offsets move forward to the next such place.
class DocumentBuilder {
 public:
  // Appends valid UTF-8. Opens a paragraph at the first non-whitespace byte when
  // none is open.
  void Append(absl::string_view text);
  // Closes the open paragraph (if any) after its last non-whitespace byte.
  void EndParagraph();
  // Ends the open paragraph and makes the text end with at least `count` '\n'
  // (nothing at the very start of the text).
  void EndBlock(int count);
  // Starts a section (heading path, outermost first) at the current end.
  void StartSection(std::vector<std::string> heading_path);
  // Starts page `number` at the current end; the previous page ends here.
  void StartPage(int32_t number);

  void set_title(std::string title) { title_ = std::move(title); }
  std::string* mutable_text() { return &raw_; }
  bool empty() const { return raw_.empty(); }
  // True when the text ends with '\n' or is empty.
  bool AtLineStart() const { return raw_.empty() || raw_.back() == '\n'; }
  // True when the last byte is ASCII whitespace (or the text is empty).
  bool EndsWithSpace() const;

  // Normalises (NFC) and returns the document; INVALID_ARGUMENT when the text is
  // not valid UTF-8. The builder is left empty.
  absl::StatusOr<ParsedDocument> Finish();

 private:
  struct RawSection {
    std::vector<std::string> heading_path;
    int64_t start;
  };
  struct RawPage {
    int32_t number;
    int64_t start;
  };

  std::string raw_;
  std::string title_;
  std::vector<RawSection> sections_;
  std::vector<RawPage> pages_;
  std::vector<CharSpan> paragraphs_;  // byte offsets until Finish()
  bool paragraph_open_ = false;
  int64_t paragraph_start_ = 0;
  int64_t content_end_ = 0;  // after the last non-whitespace byte
};

// True for the ASCII whitespace bytes parsers treat as blank: space, \t, \n, \v, \f, \r.
inline bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

}  // namespace tessera::ingest

#endif  // TESSERA_INGEST_PARSE_DOCUMENT_BUILDER_H_

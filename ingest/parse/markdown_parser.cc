#include "ingest/parse/markdown_parser.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "common/utf8.h"
#include "ingest/parse/document_builder.h"
#include "ingest/parse/text_parser.h"

namespace tessera::ingest {
namespace {

// Number of leading spaces (tabs count as 4), stopping at `limit`.
int LeadingSpaces(absl::string_view line, int limit) {
  int n = 0;
  for (char c : line) {
    if (c == ' ') {
      ++n;
    } else if (c == '\t') {
      n += 4;
    } else {
      break;
    }
    if (n > limit) break;
  }
  return n;
}

absl::string_view StripIndent(absl::string_view line) {
  size_t i = 0;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  return line.substr(i);
}

bool IsBlank(absl::string_view line) { return absl::StripAsciiWhitespace(line).empty(); }

struct Fence {
  char marker = 0;
  size_t length = 0;
};

// An opening code fence: up to 3 spaces, then 3+ '`' or '~'.
bool ParseOpeningFence(absl::string_view line, Fence* fence) {
  if (LeadingSpaces(line, 3) > 3) return false;
  absl::string_view rest = StripIndent(line);
  if (rest.empty() || (rest[0] != '`' && rest[0] != '~')) return false;
  size_t n = 0;
  while (n < rest.size() && rest[n] == rest[0]) ++n;
  if (n < 3) return false;
  // A backtick fence's info string cannot contain backticks (that is inline code).
  if (rest[0] == '`' && rest.substr(n).find('`') != absl::string_view::npos) return false;
  fence->marker = rest[0];
  fence->length = n;
  return true;
}

bool IsClosingFence(absl::string_view line, const Fence& fence) {
  if (LeadingSpaces(line, 3) > 3) return false;
  absl::string_view rest = StripIndent(line);
  size_t n = 0;
  while (n < rest.size() && rest[n] == fence.marker) ++n;
  return n >= fence.length && IsBlank(rest.substr(n));
}

// "## Heading ##" -> level 2, "Heading". Level 0 when the line is not a heading.
int ParseAtxHeading(absl::string_view line, std::string* text) {
  if (LeadingSpaces(line, 3) > 3) return 0;
  absl::string_view rest = StripIndent(line);
  int level = 0;
  while (level < static_cast<int>(rest.size()) && rest[level] == '#') ++level;
  if (level == 0 || level > 6) return 0;
  rest.remove_prefix(level);
  if (!rest.empty() && rest[0] != ' ' && rest[0] != '\t') return 0;
  rest = absl::StripAsciiWhitespace(rest);
  // An optional closing run of '#' preceded by a space (or making up the whole content).
  size_t end = rest.size();
  while (end > 0 && rest[end - 1] == '#') --end;
  if (end == 0) {
    rest = absl::string_view();
  } else if (end < rest.size() && (rest[end - 1] == ' ' || rest[end - 1] == '\t')) {
    rest = absl::StripTrailingAsciiWhitespace(rest.substr(0, end));
  }
  *text = std::string(rest);
  return level;
}

// "====" -> 1, "----" -> 2, otherwise 0.
int ParseSetextUnderline(absl::string_view line) {
  if (LeadingSpaces(line, 3) > 3) return 0;
  absl::string_view rest = absl::StripTrailingAsciiWhitespace(StripIndent(line));
  if (rest.empty() || (rest[0] != '=' && rest[0] != '-')) return 0;
  for (char c : rest) {
    if (c != rest[0]) return 0;
  }
  return rest[0] == '=' ? 1 : 2;
}

// "***", "- - -", "___" (3+ of one marker, spaces allowed).
bool IsThematicBreak(absl::string_view line) {
  if (LeadingSpaces(line, 3) > 3) return false;
  absl::string_view rest = StripIndent(line);
  if (rest.empty() || (rest[0] != '*' && rest[0] != '-' && rest[0] != '_')) return false;
  int count = 0;
  for (char c : rest) {
    if (c == rest[0]) {
      ++count;
    } else if (c != ' ' && c != '\t') {
      return false;
    }
  }
  return count >= 3;
}

// Lines that start a list item or block quote cannot become setext headings.
bool StartsContainerBlock(absl::string_view line) {
  absl::string_view rest = StripIndent(line);
  if (rest.empty()) return false;
  if (rest[0] == '>') return true;
  if ((rest[0] == '-' || rest[0] == '*' || rest[0] == '+') &&
      (rest.size() == 1 || rest[1] == ' ' || rest[1] == '\t')) {
    return true;
  }
  size_t digits = 0;
  while (digits < rest.size() && digits < 9 && absl::ascii_isdigit(rest[digits])) ++digits;
  return digits > 0 && digits < rest.size() && (rest[digits] == '.' || rest[digits] == ')');
}

class MarkdownBuilder {
 public:
  void AddLine(absl::string_view line) {  // `line` without its '\n'
    if (in_fence_) {
      Emit(line);
      if (IsClosingFence(line, fence_)) {
        in_fence_ = false;
        builder_.EndBlock(2);
      }
      return;
    }
    if (IsBlank(line)) {
      FlushParagraph();
      return;
    }
    Fence fence;
    if (ParseOpeningFence(line, &fence)) {
      FlushParagraph();
      in_fence_ = true;
      fence_ = fence;
      Emit(line);
      return;
    }
    std::string heading;
    if (int level = ParseAtxHeading(line, &heading); level > 0) {
      FlushParagraph();
      AddHeading(level, heading);
      return;
    }
    if (!paragraph_.empty() && !StartsContainerBlock(paragraph_.front())) {
      if (int level = ParseSetextUnderline(line); level > 0) {
        std::vector<absl::string_view> parts;
        for (absl::string_view l : paragraph_) parts.push_back(absl::StripAsciiWhitespace(l));
        paragraph_.clear();
        AddHeading(level, absl::StrJoin(parts, " "));
        return;
      }
    }
    if (IsThematicBreak(line)) {
      FlushParagraph();
      return;
    }
    paragraph_.push_back(line);
  }

  // Front matter is one verbatim block.
  void AddVerbatimBlock(absl::string_view block) {
    Emit(block);
    builder_.EndBlock(2);
  }

  absl::StatusOr<ParsedDocument> Finish() {
    FlushParagraph();
    builder_.set_title(title_);
    return builder_.Finish();
  }

 private:
  void Emit(absl::string_view line) {
    builder_.Append(line);
    builder_.Append("\n");
  }

  void FlushParagraph() {
    if (paragraph_.empty()) return;
    for (absl::string_view line : paragraph_) Emit(line);
    paragraph_.clear();
    builder_.EndBlock(2);
  }

  void AddHeading(int level, const std::string& text) {
    if (text.empty()) return;
    while (!open_headings_.empty() && open_headings_.back().first >= level) {
      open_headings_.pop_back();
    }
    open_headings_.emplace_back(level, text);
    std::vector<std::string> path;
    for (const auto& [unused_level, heading] : open_headings_) path.push_back(heading);
    if (level == 1 && title_.empty()) title_ = text;
    builder_.EndBlock(2);
    builder_.StartSection(std::move(path));
    builder_.Append(text);
    builder_.EndBlock(2);
  }

  DocumentBuilder builder_;
  std::vector<absl::string_view> paragraph_;
  std::vector<std::pair<int, std::string>> open_headings_;
  bool in_fence_ = false;
  Fence fence_;
  std::string title_;
};

}  // namespace

absl::StatusOr<ParsedDocument> MarkdownParser::Parse(absl::string_view bytes) const {
  absl::Status valid = ValidateUtf8(bytes, "markdown");
  if (!valid.ok()) return valid;
  const std::string text = NormalizeLineEnds(bytes);
  MarkdownBuilder builder;
  absl::string_view rest(text);

  // YAML front matter: "---" on the first line up to a closing "---" or "...".
  if (rest.substr(0, 4) == "---\n") {
    size_t close = rest.find("\n---\n", 3);
    size_t close_dots = rest.find("\n...\n", 3);
    size_t end = std::min(close, close_dots);
    if (end != absl::string_view::npos) {
      builder.AddVerbatimBlock(rest.substr(0, end + 4));
      rest.remove_prefix(end + 5);
    }
  }
  while (!rest.empty()) {
    size_t newline = rest.find('\n');
    if (newline == absl::string_view::npos) {
      builder.AddLine(rest);
      break;
    }
    builder.AddLine(rest.substr(0, newline));
    rest.remove_prefix(newline + 1);
  }
  return builder.Finish();
}

}  // namespace tessera::ingest

#include "ingest/parse/html_parser.h"

#include <gumbo.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_replace.h"
#include "common/utf8.h"
#include "ingest/parse/document_builder.h"

namespace tessera::ingest {
namespace {

bool IsDropped(const GumboNode* node) {
  if (node->type == GUMBO_NODE_TEMPLATE) return true;
  if (node->type != GUMBO_NODE_ELEMENT) return false;
  switch (node->v.element.tag) {
    case GUMBO_TAG_SCRIPT:
    case GUMBO_TAG_STYLE:
    case GUMBO_TAG_NOSCRIPT:
    case GUMBO_TAG_TEMPLATE:
    case GUMBO_TAG_HEAD:
      return true;
    default:
      return gumbo_get_attribute(&node->v.element.attributes, "hidden") != nullptr;
  }
}

// Newlines that separate a block element from its neighbours; 0 for inline ones.
int BlockNewlines(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_P:
    case GUMBO_TAG_H1:
    case GUMBO_TAG_H2:
    case GUMBO_TAG_H3:
    case GUMBO_TAG_H4:
    case GUMBO_TAG_H5:
    case GUMBO_TAG_H6:
    case GUMBO_TAG_PRE:
    case GUMBO_TAG_BLOCKQUOTE:
    case GUMBO_TAG_UL:
    case GUMBO_TAG_OL:
    case GUMBO_TAG_DL:
    case GUMBO_TAG_TABLE:
    case GUMBO_TAG_SECTION:
    case GUMBO_TAG_ARTICLE:
    case GUMBO_TAG_HEADER:
    case GUMBO_TAG_FOOTER:
    case GUMBO_TAG_NAV:
    case GUMBO_TAG_ASIDE:
    case GUMBO_TAG_MAIN:
    case GUMBO_TAG_FIGURE:
    case GUMBO_TAG_FORM:
    case GUMBO_TAG_FIELDSET:
    case GUMBO_TAG_ADDRESS:
    case GUMBO_TAG_DETAILS:
    case GUMBO_TAG_HR:
      return 2;
    case GUMBO_TAG_DIV:
    case GUMBO_TAG_LI:
    case GUMBO_TAG_DT:
    case GUMBO_TAG_DD:
    case GUMBO_TAG_TR:
    case GUMBO_TAG_CAPTION:
    case GUMBO_TAG_FIGCAPTION:
    case GUMBO_TAG_SUMMARY:
    case GUMBO_TAG_LEGEND:
    case GUMBO_TAG_OPTION:
    case GUMBO_TAG_BODY:
      return 1;
    default:
      return 0;
  }
}

int HeadingLevel(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_H1: return 1;
    case GUMBO_TAG_H2: return 2;
    case GUMBO_TAG_H3: return 3;
    case GUMBO_TAG_H4: return 4;
    case GUMBO_TAG_H5: return 5;
    case GUMBO_TAG_H6: return 6;
    default: return 0;
  }
}

bool IsTextNode(const GumboNode* node) {
  return node->type == GUMBO_NODE_TEXT || node->type == GUMBO_NODE_WHITESPACE ||
         node->type == GUMBO_NODE_CDATA;
}

// Appends `text` to `out` with runs of ASCII whitespace collapsed to one space.
void AppendCollapsed(absl::string_view text, std::string* out) {
  for (char c : text) {
    if (IsAsciiSpace(c)) {
      if (!out->empty() && out->back() != ' ') out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
}

// The collapsed, trimmed text under `root` (for headings and the title).
std::string CollectText(const GumboNode* root) {
  std::string text;
  std::vector<const GumboNode*> stack = {root};
  while (!stack.empty()) {
    const GumboNode* node = stack.back();
    stack.pop_back();
    if (IsTextNode(node)) {
      AppendCollapsed(node->v.text.text, &text);
    } else if (node->type == GUMBO_NODE_ELEMENT && (node == root || !IsDropped(node))) {
      const GumboVector& children = node->v.element.children;
      for (unsigned i = children.length; i > 0; --i) {
        stack.push_back(static_cast<const GumboNode*>(children.data[i - 1]));
      }
    }
  }
  return std::string(absl::StripAsciiWhitespace(text));
}

const GumboNode* FindTitle(const GumboNode* root) {
  std::vector<const GumboNode*> stack = {root};
  while (!stack.empty()) {
    const GumboNode* node = stack.back();
    stack.pop_back();
    if (node->type != GUMBO_NODE_ELEMENT && node->type != GUMBO_NODE_DOCUMENT) continue;
    if (node->type == GUMBO_NODE_ELEMENT && node->v.element.tag == GUMBO_TAG_TITLE) return node;
    const GumboVector& children = node->type == GUMBO_NODE_DOCUMENT
                                      ? node->v.document.children
                                      : node->v.element.children;
    for (unsigned i = children.length; i > 0; --i) {
      stack.push_back(static_cast<const GumboNode*>(children.data[i - 1]));
    }
  }
  return nullptr;
}

class TextExtractor {
 public:
  // Walks the tree without recursion: deeply nested markup must not exhaust the stack.
  void Walk(const GumboNode* root) {
    struct Frame {
      const GumboNode* node;
      unsigned next_child;
    };
    std::vector<Frame> stack;
    Enter(root);
    stack.push_back({root, 0});
    while (!stack.empty()) {
      Frame& frame = stack.back();
      const GumboVector* children = Children(frame.node);
      if (children == nullptr || frame.next_child >= children->length) {
        Exit(frame.node);
        stack.pop_back();
        continue;
      }
      const GumboNode* child = static_cast<const GumboNode*>(children->data[frame.next_child++]);
      if (IsTextNode(child)) {
        AddText(child->v.text.text);
      } else if (child->type == GUMBO_NODE_ELEMENT && !IsDropped(child)) {
        Enter(child);
        stack.push_back({child, 0});
      }
    }
  }

  DocumentBuilder& builder() { return builder_; }

 private:
  static const GumboVector* Children(const GumboNode* node) {
    if (node->type == GUMBO_NODE_DOCUMENT) return &node->v.document.children;
    if (node->type == GUMBO_NODE_ELEMENT) return &node->v.element.children;
    return nullptr;
  }

  void Enter(const GumboNode* node) {
    if (node->type != GUMBO_NODE_ELEMENT) return;
    const GumboTag tag = node->v.element.tag;
    if (int level = HeadingLevel(tag); level > 0) {
      StartHeading(level, CollectText(node));
    } else if (int newlines = BlockNewlines(tag); newlines > 0) {
      EndBlock(newlines);
    }
    switch (tag) {
      case GUMBO_TAG_PRE:
      case GUMBO_TAG_TEXTAREA:
        ++preformatted_depth_;
        break;
      case GUMBO_TAG_BR:
        builder_.Append("\n");
        pending_space_ = false;
        break;
      case GUMBO_TAG_TD:
      case GUMBO_TAG_TH:
        if (!builder_.AtLineStart()) builder_.Append("\t");
        pending_space_ = false;
        break;
      default:
        break;
    }
  }

  void Exit(const GumboNode* node) {
    if (node->type != GUMBO_NODE_ELEMENT) return;
    const GumboTag tag = node->v.element.tag;
    if (tag == GUMBO_TAG_PRE || tag == GUMBO_TAG_TEXTAREA) --preformatted_depth_;
    if (int newlines = BlockNewlines(tag); newlines > 0) EndBlock(newlines);
  }

  void EndBlock(int newlines) {
    builder_.EndBlock(newlines);
    pending_space_ = false;
  }

  void StartHeading(int level, std::string text) {
    EndBlock(2);
    if (text.empty()) return;
    while (!open_headings_.empty() && open_headings_.back().first >= level) {
      open_headings_.pop_back();
    }
    open_headings_.emplace_back(level, std::move(text));
    std::vector<std::string> path;
    for (const auto& [unused_level, heading] : open_headings_) path.push_back(heading);
    builder_.StartSection(std::move(path));
  }

  void AddText(absl::string_view text) {
    if (preformatted_depth_ > 0) {
      // The tokenizer turns raw CRs into LF, but a character reference (&#13;)
      // still yields one; the text has '\n' line ends only.
      builder_.Append(absl::StrReplaceAll(text, {{"\r\n", "\n"}, {"\r", "\n"}}));
      pending_space_ = false;
      return;
    }
    size_t i = 0;
    while (i < text.size()) {
      if (IsAsciiSpace(text[i])) {
        pending_space_ = true;
        ++i;
        continue;
      }
      size_t run_end = i;
      while (run_end < text.size() && !IsAsciiSpace(text[run_end])) ++run_end;
      if (pending_space_ && !builder_.EndsWithSpace()) builder_.Append(" ");
      pending_space_ = false;
      builder_.Append(text.substr(i, run_end - i));
      i = run_end;
    }
  }

  DocumentBuilder builder_;
  std::vector<std::pair<int, std::string>> open_headings_;
  int preformatted_depth_ = 0;
  bool pending_space_ = false;
};

}  // namespace

absl::StatusOr<ParsedDocument> HtmlParser::Parse(absl::string_view bytes) const {
  absl::Status valid = ValidateUtf8(bytes, "html");
  if (!valid.ok()) return valid;
  GumboOutput* output = gumbo_parse_with_options(&kGumboDefaultOptions, bytes.data(), bytes.size());
  if (output == nullptr) return absl::InternalError("html: the HTML parser returned nothing");
  TextExtractor extractor;
  extractor.Walk(output->document);
  if (const GumboNode* title = FindTitle(output->document); title != nullptr) {
    extractor.builder().set_title(CollectText(title));
  }
  gumbo_destroy_output(&kGumboDefaultOptions, output);
  return extractor.builder().Finish();
}

}  // namespace tessera::ingest

// A small, safe expression language over the run state (no eval, no loops).
//
//   Conditions:  state.count < 3 && state.answer != ""
//                len(state.docs) > 0 || "refund" in state.intent
//                not (state.approved == true)
//   Templates:   "Answer using {{context}}: {{question}}", "{{state.user.name}}"
//
// Grammar (lowest precedence first):
//   or     := and (("||" | "or") and)*
//   and    := not (("&&" | "and") not)*
//   not    := ("!" | "not") not | cmp
//   cmp    := add (("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in") add)?
//   add    := mul (("+" | "-") mul)*
//   mul    := unary (("*" | "/" | "%") unary)*
//   unary  := "-" unary | postfix
//   postfix:= primary ("." IDENT | "[" or "]")*
//   primary:= NUMBER | STRING | true | false | null | "[" [or ("," or)*] "]"
//           | IDENT "(" [or ("," or)*] ")" | IDENT | "(" or ")"
// `state` is the whole state object; any other bare identifier is a channel, so
// `count` and `state.count` mean the same. Missing fields evaluate to null.
// Functions: len, lower, upper, trim, str, num, first, last, contains, exists.
// Limits: 4096 characters, 1024 tokens, nesting depth 48.
#ifndef TESSERA_AGENTS_EXPRESSION_H_
#define TESSERA_AGENTS_EXPRESSION_H_

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/json.h"

namespace tessera::agents {

struct ExprNode;

class Expression {
 public:
  static absl::StatusOr<Expression> Parse(absl::string_view text);

  // Evaluates against `state` (a JSON object of channel name -> value).
  absl::StatusOr<Json> Evaluate(const Json& state) const;
  // Evaluates and converts with Truthy().
  absl::StatusOr<bool> EvaluateCondition(const Json& state) const;

  // Channel names the expression reads; `all_channels_referenced` is set when it
  // reads `state` as a whole or with a computed key (so no static check is possible).
  const std::set<std::string>& referenced_channels() const { return channels_; }
  bool all_channels_referenced() const { return all_channels_; }
  const std::string& text() const { return text_; }

 private:
  std::shared_ptr<const ExprNode> root_;
  std::string text_;
  std::set<std::string> channels_;
  bool all_channels_ = false;
};

// Text with {{expression}} placeholders.
class Template {
 public:
  static absl::StatusOr<Template> Parse(absl::string_view text);

  // Values render as: string as-is; integral numbers without ".0"; null as "";
  // lists one rendered item per line; objects by their "text" field, else
  // "role: content" for chat messages, else compact JSON.
  absl::StatusOr<std::string> Render(const Json& state) const;

  std::set<std::string> ReferencedChannels() const;
  bool AllChannelsReferenced() const;

 private:
  struct Segment {
    std::string literal;
    std::shared_ptr<Expression> expression;  // Null for a literal segment.
  };
  std::vector<Segment> segments_;
};

// JavaScript-like truthiness: null, false, 0, "", [] and {} are false.
bool Truthy(const Json& value);
// How a value is rendered inside a template (see Template::Render).
std::string RenderValue(const Json& value);

}  // namespace tessera::agents

#endif  // TESSERA_AGENTS_EXPRESSION_H_

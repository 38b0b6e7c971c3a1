// Arithmetic evaluation for the `calculator` tool: a tokenizer and a
// recursive-descent parser (no eval).
//   expr  := term (("+" | "-") term)*
//   term  := unary (("*" | "/" | "%") unary)*
//   unary := ("-" | "+") unary | power
//   power := primary ("^" unary)?            (right-associative: 2^3^2 = 2^9)
//   primary := NUMBER | CONSTANT | FUNCTION "(" expr ("," expr)* ")" | "(" expr ")"
// so -2^2 = -4. Constants: pi, e. Functions: sqrt, log (natural), exp, sin, cos,
// abs (one argument), min, max (one or more). Errors: division or modulo by zero,
// sqrt of a negative, log of a non-positive, non-finite results, malformed input.
#ifndef TESSERA_AGENTS_TOOLS_CALCULATOR_H_
#define TESSERA_AGENTS_TOOLS_CALCULATOR_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "agents/tools/tool.h"

namespace tessera::agents {

// At most 2000 characters and 100 levels of nesting.
absl::StatusOr<double> EvaluateArithmetic(absl::string_view expression);

// Arguments {"expression": string}; result: a number.
class CalculatorTool : public Tool {
 public:
  std::string name() const override { return "calculator"; }
  std::string description() const override;
  Json parameters_schema() const override;
  std::string result_type() const override { return "number"; }
  absl::StatusOr<Json> Invoke(const Json& arguments, absl::Time deadline) override;
};

}  // namespace tessera::agents

#endif  // TESSERA_AGENTS_TOOLS_CALCULATOR_H_

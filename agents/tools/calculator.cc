#include "agents/tools/calculator.h"

#include <cctype>
#include <cmath>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tessera::agents {

namespace {

constexpr size_t kMaxChars = 2000;
constexpr int kMaxDepth = 100;

class ArithmeticParser {
 public:
  explicit ArithmeticParser(absl::string_view text) : text_(text) {}

  absl::StatusOr<double> Run() {
    absl::StatusOr<double> value = Expr(0);
    if (!value.ok()) return value;
    SkipSpace();
    if (pos_ < text_.size()) return Error(absl::StrCat("unexpected '", text_.substr(pos_, 1), "'"));
    if (!std::isfinite(*value)) return absl::InvalidArgumentError("result is not a finite number");
    return value;
  }

 private:
  absl::Status Error(absl::string_view message) const {
    return absl::InvalidArgumentError(absl::StrCat("calculator: ", message, " at position ", pos_ + 1));
  }
  void SkipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool Accept(char c) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  absl::StatusOr<double> Expr(int depth) {
    if (depth > kMaxDepth) return Error("expression nested too deeply");
    absl::StatusOr<double> left = Term(depth + 1);
    if (!left.ok()) return left;
    double value = *left;
    while (true) {
      if (Accept('+')) {
        absl::StatusOr<double> right = Term(depth + 1);
        if (!right.ok()) return right;
        value += *right;
      } else if (Accept('-')) {
        absl::StatusOr<double> right = Term(depth + 1);
        if (!right.ok()) return right;
        value -= *right;
      } else {
        return value;
      }
    }
  }

  absl::StatusOr<double> Term(int depth) {
    absl::StatusOr<double> left = Unary(depth + 1);
    if (!left.ok()) return left;
    double value = *left;
    while (true) {
      char op = 0;
      if (Accept('*')) op = '*';
      else if (Accept('/')) op = '/';
      else if (Accept('%')) op = '%';
      else return value;
      size_t op_pos = pos_;
      absl::StatusOr<double> right = Unary(depth + 1);
      if (!right.ok()) return right;
      if (op == '*') {
        value *= *right;
      } else if (*right == 0) {
        pos_ = op_pos;
        return Error(op == '/' ? "division by zero" : "modulo by zero");
      } else if (op == '/') {
        value /= *right;
      } else {
        value = std::fmod(value, *right);
      }
    }
  }

  absl::StatusOr<double> Unary(int depth) {
    if (depth > kMaxDepth) return Error("expression nested too deeply");
    if (Accept('-')) {
      absl::StatusOr<double> operand = Unary(depth + 1);
      if (!operand.ok()) return operand;
      return -*operand;
    }
    if (Accept('+')) return Unary(depth + 1);
    return Power(depth + 1);
  }

  absl::StatusOr<double> Power(int depth) {
    absl::StatusOr<double> base = Primary(depth + 1);
    if (!base.ok()) return base;
    if (!Accept('^')) return base;
    absl::StatusOr<double> exponent = Unary(depth + 1);
    if (!exponent.ok()) return exponent;
    double value = std::pow(*base, *exponent);
    if (std::isnan(value)) return Error("power is undefined (negative base with a fractional exponent?)");
    return value;
  }

  absl::StatusOr<double> Primary(int depth) {
    if (depth > kMaxDepth) return Error("expression nested too deeply");
    SkipSpace();
    if (pos_ >= text_.size()) return Error("unexpected end of expression");
    char c = text_[pos_];
    if (c == '(') {
      ++pos_;
      absl::StatusOr<double> inner = Expr(depth + 1);
      if (!inner.ok()) return inner;
      if (!Accept(')')) return Error("expected ')'");
      return inner;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') return Number();
    if (std::isalpha(static_cast<unsigned char>(c))) return Identifier(depth);
    return Error(absl::StrCat("unexpected '", std::string(1, c), "'"));
  }

  absl::StatusOr<double> Number() {
    size_t start = pos_;
    while (pos_ < text_.size() && (std::isdigit(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '.')) ++pos_;
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      size_t save = pos_++;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
        while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) ++pos_;
      } else {
        pos_ = save;
      }
    }
    absl::string_view literal = text_.substr(start, pos_ - start);
    double value = 0;
    if (literal.find('.') != literal.rfind('.') || !absl::SimpleAtod(literal, &value)) {
      pos_ = start;
      return Error(absl::StrCat("malformed number '", literal, "'"));
    }
    return value;
  }

  absl::StatusOr<double> Identifier(int depth) {
    size_t start = pos_;
    while (pos_ < text_.size() && std::isalnum(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    std::string name(text_.substr(start, pos_ - start));
    if (name == "pi") return M_PI;
    if (name == "e") return M_E;
    static const char* const kFunctions[] = {"sqrt", "log", "exp", "sin", "cos", "abs", "min", "max"};
    bool known = false;
    for (const char* fn : kFunctions) known = known || name == fn;
    if (!known) {
      pos_ = start;
      return Error(absl::StrCat("unknown name '", name, "'"));
    }
    if (!Accept('(')) return Error(absl::StrCat("expected '(' after ", name));
    std::vector<double> args;
    do {
      absl::StatusOr<double> arg = Expr(depth + 1);
      if (!arg.ok()) return arg;
      args.push_back(*arg);
    } while (Accept(','));
    if (!Accept(')')) return Error(absl::StrCat("expected ')' to close ", name, "("));
    bool variadic = name == "min" || name == "max";
    if (!variadic && args.size() != 1) {
      return Error(absl::StrCat(name, "() takes one argument, got ", args.size()));
    }
    double x = args[0];
    if (name == "sqrt") {
      if (x < 0) return Error("sqrt of a negative number");
      return std::sqrt(x);
    }
    if (name == "log") {
      if (x <= 0) return Error("log of a non-positive number");
      return std::log(x);
    }
    if (name == "exp") return std::exp(x);
    if (name == "sin") return std::sin(x);
    if (name == "cos") return std::cos(x);
    if (name == "abs") return std::fabs(x);
    double best = x;
    for (double v : args) best = name == "min" ? std::min(best, v) : std::max(best, v);
    return best;
  }

  absl::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

absl::StatusOr<double> EvaluateArithmetic(absl::string_view expression) {
  if (expression.size() > kMaxChars) {
    return absl::InvalidArgumentError(absl::StrCat("calculator: expression longer than ", kMaxChars, " characters"));
  }
  ArithmeticParser parser(expression);
  return parser.Run();
}

std::string CalculatorTool::description() const {
  return "Evaluates an arithmetic expression: + - * / ^ %, parentheses, sqrt, log, exp, sin, "
         "cos, abs, min, max, pi, e.";
}

Json CalculatorTool::parameters_schema() const {
  return Json::parse(R"({
    "type": "object",
    "properties": {"expression": {"type": "string", "minLength": 1, "maxLength": 2000}},
    "required": ["expression"],
    "additionalProperties": false
  })");
}

absl::StatusOr<Json> CalculatorTool::Invoke(const Json& arguments, absl::Time deadline) {
  auto expression = arguments.find("expression");
  if (!arguments.is_object() || expression == arguments.end() || !expression->is_string()) {
    return absl::InvalidArgumentError("calculator: argument 'expression' (a string) is required");
  }
  absl::StatusOr<double> value = EvaluateArithmetic(expression->get<std::string>());
  if (!value.ok()) return value.status();
  double number = *value;
  if (number == std::floor(number) && std::fabs(number) < 9.0e15) return Json(static_cast<int64_t>(number));
  return Json(number);
}

}  // namespace tessera::agents

#include "agents/expression.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tessera::agents {

namespace {

constexpr size_t kMaxExpressionChars = 4096;
constexpr size_t kMaxTokens = 1024;
constexpr int kMaxDepth = 48;

enum class TokenKind { kNumber, kString, kIdent, kOp, kEnd };

struct Token {
  TokenKind kind;
  std::string text;  // Operator spelling, identifier, or decoded string.
  double number = 0;
  size_t column = 0;  // 1-based.
};

absl::Status SyntaxError(absl::string_view source, size_t column, absl::string_view message) {
  return absl::InvalidArgumentError(
      absl::StrCat("expression \"", source, "\": column ", column, ": ", message));
}

absl::StatusOr<std::vector<Token>> Tokenize(absl::string_view source) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < source.size()) {
    char c = source[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    if (tokens.size() >= kMaxTokens) {
      return SyntaxError(source, i + 1, absl::StrCat("more than ", kMaxTokens, " tokens"));
    }
    size_t column = i + 1;
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '.' && i + 1 < source.size() && std::isdigit(static_cast<unsigned char>(source[i + 1])))) {
      size_t start = i;
      while (i < source.size() && (std::isdigit(static_cast<unsigned char>(source[i])) || source[i] == '.')) ++i;
      if (i < source.size() && (source[i] == 'e' || source[i] == 'E')) {
        size_t save = i++;
        if (i < source.size() && (source[i] == '+' || source[i] == '-')) ++i;
        if (i < source.size() && std::isdigit(static_cast<unsigned char>(source[i]))) {
          while (i < source.size() && std::isdigit(static_cast<unsigned char>(source[i]))) ++i;
        } else {
          i = save;
        }
      }
      double value = 0;
      if (!absl::SimpleAtod(source.substr(start, i - start), &value)) {
        return SyntaxError(source, column,
                           absl::StrCat("malformed number '", source.substr(start, i - start), "'"));
      }
      tokens.push_back({TokenKind::kNumber, std::string(source.substr(start, i - start)), value, column});
      continue;
    }
    if (c == '"' || c == '\'') {
      char quote = c;
      std::string decoded;
      ++i;
      bool closed = false;
      while (i < source.size()) {
        char d = source[i++];
        if (d == quote) {
          closed = true;
          break;
        }
        if (d == '\\') {
          if (i >= source.size()) break;
          char e = source[i++];
          switch (e) {
            case 'n': decoded += '\n'; break;
            case 't': decoded += '\t'; break;
            case '\\': decoded += '\\'; break;
            case '"': decoded += '"'; break;
            case '\'': decoded += '\''; break;
            default:
              return SyntaxError(source, i - 1, absl::StrCat("unknown escape '\\", std::string(1, e), "'"));
          }
          continue;
        }
        decoded += d;
      }
      if (!closed) return SyntaxError(source, column, "unterminated string");
      tokens.push_back({TokenKind::kString, std::move(decoded), 0, column});
      continue;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t start = i;
      while (i < source.size() && (std::isalnum(static_cast<unsigned char>(source[i])) || source[i] == '_')) ++i;
      tokens.push_back({TokenKind::kIdent, std::string(source.substr(start, i - start)), 0, column});
      continue;
    }
    static const char* const kTwoCharOps[] = {"==", "!=", "<=", ">=", "&&", "||"};
    bool matched = false;
    for (const char* op : kTwoCharOps) {
      if (source.substr(i, 2) == op) {
        tokens.push_back({TokenKind::kOp, op, 0, column});
        i += 2;
        matched = true;
        break;
      }
    }
    if (matched) continue;
    if (absl::string_view("+-*/%<>!().[],").find(c) != absl::string_view::npos) {
      tokens.push_back({TokenKind::kOp, std::string(1, c), 0, column});
      ++i;
      continue;
    }
    if (c == '=') return SyntaxError(source, column, "'=' is not an operator; use '=='");
    if (c == '&' || c == '|') {
      return SyntaxError(source, column, absl::StrCat("use '", std::string(2, c), "'"));
    }
    return SyntaxError(source, column, absl::StrCat("unexpected character '", std::string(1, c), "'"));
  }
  tokens.push_back({TokenKind::kEnd, "", 0, source.size() + 1});
  return tokens;
}

}  // namespace

enum class ExprKind { kLiteral, kList, kChannel, kState, kMember, kIndex, kCall, kUnary, kBinary };

struct ExprNode {
  ExprKind kind;
  Json literal;      // kLiteral
  std::string name;  // channel, member field, function or operator
  std::vector<std::shared_ptr<const ExprNode>> children;
  size_t column = 0;
};

namespace {

using NodePtr = std::shared_ptr<const ExprNode>;

std::shared_ptr<ExprNode> MakeNode(ExprKind kind, size_t column) {
  auto node = std::make_shared<ExprNode>();
  node->kind = kind;
  node->column = column;
  return node;
}

const std::set<std::string>& KnownFunctions() {
  static const auto* const kFunctions = new std::set<std::string>{
      "len", "lower", "upper", "trim", "str", "num", "first", "last", "contains", "exists"};
  return *kFunctions;
}

class Parser {
 public:
  Parser(absl::string_view source, std::vector<Token> tokens)
      : source_(source), tokens_(std::move(tokens)) {}

  absl::StatusOr<NodePtr> ParseAll() {
    absl::StatusOr<NodePtr> root = ParseOr(0);
    if (!root.ok()) return root;
    if (Peek().kind != TokenKind::kEnd) {
      return Error(Peek(), absl::StrCat("unexpected '", Peek().text, "' after the expression"));
    }
    return root;
  }

 private:
  const Token& Peek(size_t ahead = 0) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }
  bool IsOp(absl::string_view op, size_t ahead = 0) const {
    return Peek(ahead).kind == TokenKind::kOp && Peek(ahead).text == op;
  }
  bool IsWord(absl::string_view word, size_t ahead = 0) const {
    return Peek(ahead).kind == TokenKind::kIdent && Peek(ahead).text == word;
  }
  absl::Status Error(const Token& token, absl::string_view message) const {
    return SyntaxError(source_, token.column, message);
  }
  absl::Status CheckDepth(int depth) const {
    if (depth > kMaxDepth) {
      return Error(Peek(), absl::StrCat("nested deeper than ", kMaxDepth, " levels"));
    }
    return absl::OkStatus();
  }

  NodePtr Binary(absl::string_view op, NodePtr left, NodePtr right, size_t column) {
    auto node = MakeNode(ExprKind::kBinary, column);
    node->name = std::string(op);
    node->children = {std::move(left), std::move(right)};
    return node;
  }

  absl::StatusOr<NodePtr> ParseOr(int depth) {
    if (absl::Status s = CheckDepth(depth); !s.ok()) return s;
    absl::StatusOr<NodePtr> left = ParseAnd(depth + 1);
    if (!left.ok()) return left;
    NodePtr result = *left;
    while (IsOp("||") || IsWord("or")) {
      size_t column = Peek().column;
      ++pos_;
      absl::StatusOr<NodePtr> right = ParseAnd(depth + 1);
      if (!right.ok()) return right;
      result = Binary("||", result, *right, column);
    }
    return result;
  }

  absl::StatusOr<NodePtr> ParseAnd(int depth) {
    absl::StatusOr<NodePtr> left = ParseNot(depth + 1);
    if (!left.ok()) return left;
    NodePtr result = *left;
    while (IsOp("&&") || IsWord("and")) {
      size_t column = Peek().column;
      ++pos_;
      absl::StatusOr<NodePtr> right = ParseNot(depth + 1);
      if (!right.ok()) return right;
      result = Binary("&&", result, *right, column);
    }
    return result;
  }

  absl::StatusOr<NodePtr> ParseNot(int depth) {
    if (absl::Status s = CheckDepth(depth); !s.ok()) return s;
    if (IsOp("!") || (IsWord("not") && !IsWord("in", 1))) {
      size_t column = Peek().column;
      ++pos_;
      absl::StatusOr<NodePtr> operand = ParseNot(depth + 1);
      if (!operand.ok()) return operand;
      auto node = MakeNode(ExprKind::kUnary, column);
      node->name = "!";
      node->children = {*operand};
      return NodePtr(node);
    }
    return ParseComparison(depth + 1);
  }

  absl::StatusOr<NodePtr> ParseComparison(int depth) {
    absl::StatusOr<NodePtr> left = ParseAdditive(depth + 1);
    if (!left.ok()) return left;
    static const char* const kOps[] = {"==", "!=", "<", "<=", ">", ">="};
    std::string op;
    for (const char* candidate : kOps) {
      if (IsOp(candidate)) op = candidate;
    }
    size_t column = Peek().column;
    if (!op.empty()) {
      ++pos_;
    } else if (IsWord("in")) {
      op = "in";
      ++pos_;
    } else if (IsWord("not") && IsWord("in", 1)) {
      op = "not in";
      pos_ += 2;
    } else {
      return left;
    }
    absl::StatusOr<NodePtr> right = ParseAdditive(depth + 1);
    if (!right.ok()) return right;
    NodePtr result = Binary(op, *left, *right, column);
    for (const char* candidate : kOps) {
      if (IsOp(candidate) || IsWord("in")) {
        return Error(Peek(), "comparisons cannot be chained; use '&&'");
      }
    }
    return result;
  }

  absl::StatusOr<NodePtr> ParseAdditive(int depth) {
    if (absl::Status s = CheckDepth(depth); !s.ok()) return s;
    absl::StatusOr<NodePtr> left = ParseMultiplicative(depth + 1);
    if (!left.ok()) return left;
    NodePtr result = *left;
    while (IsOp("+") || IsOp("-")) {
      std::string op = Peek().text;
      size_t column = Peek().column;
      ++pos_;
      absl::StatusOr<NodePtr> right = ParseMultiplicative(depth + 1);
      if (!right.ok()) return right;
      result = Binary(op, result, *right, column);
    }
    return result;
  }

  absl::StatusOr<NodePtr> ParseMultiplicative(int depth) {
    absl::StatusOr<NodePtr> left = ParseUnary(depth + 1);
    if (!left.ok()) return left;
    NodePtr result = *left;
    while (IsOp("*") || IsOp("/") || IsOp("%")) {
      std::string op = Peek().text;
      size_t column = Peek().column;
      ++pos_;
      absl::StatusOr<NodePtr> right = ParseUnary(depth + 1);
      if (!right.ok()) return right;
      result = Binary(op, result, *right, column);
    }
    return result;
  }

  absl::StatusOr<NodePtr> ParseUnary(int depth) {
    if (absl::Status s = CheckDepth(depth); !s.ok()) return s;
    if (IsOp("-")) {
      size_t column = Peek().column;
      ++pos_;
      absl::StatusOr<NodePtr> operand = ParseUnary(depth + 1);
      if (!operand.ok()) return operand;
      auto node = MakeNode(ExprKind::kUnary, column);
      node->name = "-";
      node->children = {*operand};
      return NodePtr(node);
    }
    return ParsePostfix(depth + 1);
  }

  absl::StatusOr<NodePtr> ParsePostfix(int depth) {
    absl::StatusOr<NodePtr> primary = ParsePrimary(depth + 1);
    if (!primary.ok()) return primary;
    NodePtr result = *primary;
    while (IsOp(".") || IsOp("[")) {
      size_t column = Peek().column;
      if (IsOp(".")) {
        ++pos_;
        if (Peek().kind != TokenKind::kIdent) return Error(Peek(), "expected a field name after '.'");
        auto node = MakeNode(ExprKind::kMember, column);
        node->name = Peek().text;
        node->children = {result};
        ++pos_;
        result = node;
      } else {
        ++pos_;
        absl::StatusOr<NodePtr> index = ParseOr(depth + 1);
        if (!index.ok()) return index;
        if (!IsOp("]")) return Error(Peek(), "expected ']'");
        ++pos_;
        auto node = MakeNode(ExprKind::kIndex, column);
        node->children = {result, *index};
        result = node;
      }
    }
    return result;
  }

  absl::StatusOr<std::vector<NodePtr>> ParseList(absl::string_view close, int depth) {
    std::vector<NodePtr> items;
    if (IsOp(close)) {
      ++pos_;
      return items;
    }
    while (true) {
      absl::StatusOr<NodePtr> item = ParseOr(depth + 1);
      if (!item.ok()) return item.status();
      items.push_back(*item);
      if (IsOp(",")) {
        ++pos_;
        continue;
      }
      if (IsOp(close)) {
        ++pos_;
        return items;
      }
      return Error(Peek(), absl::StrCat("expected ',' or '", close, "'"));
    }
  }

  absl::StatusOr<NodePtr> ParsePrimary(int depth) {
    if (absl::Status s = CheckDepth(depth); !s.ok()) return s;
    const Token& token = Peek();
    switch (token.kind) {
      case TokenKind::kNumber: {
        auto node = MakeNode(ExprKind::kLiteral, token.column);
        double value = token.number;
        if (value == std::floor(value) && std::fabs(value) < 9.0e15) {
          node->literal = static_cast<int64_t>(value);
        } else {
          node->literal = value;
        }
        ++pos_;
        return NodePtr(node);
      }
      case TokenKind::kString: {
        auto node = MakeNode(ExprKind::kLiteral, token.column);
        node->literal = token.text;
        ++pos_;
        return NodePtr(node);
      }
      case TokenKind::kIdent: {
        ++pos_;
        if (token.text == "true" || token.text == "false" || token.text == "null") {
          auto node = MakeNode(ExprKind::kLiteral, token.column);
          if (token.text != "null") node->literal = token.text == "true";
          return NodePtr(node);
        }
        if (token.text == "and" || token.text == "or" || token.text == "not" || token.text == "in") {
          return Error(token, absl::StrCat("unexpected keyword '", token.text, "'"));
        }
        if (IsOp("(")) {
          if (KnownFunctions().count(token.text) == 0) {
            return Error(token, absl::StrCat("unknown function '", token.text, "' (known: ",
                                             absl::StrJoin(KnownFunctions(), ", "), ")"));
          }
          ++pos_;
          absl::StatusOr<std::vector<NodePtr>> args = ParseList(")", depth);
          if (!args.ok()) return args.status();
          auto node = MakeNode(ExprKind::kCall, token.column);
          node->name = token.text;
          node->children = std::move(*args);
          return NodePtr(node);
        }
        auto node = MakeNode(token.text == "state" ? ExprKind::kState : ExprKind::kChannel, token.column);
        node->name = token.text;
        return NodePtr(node);
      }
      case TokenKind::kOp:
        if (token.text == "(") {
          ++pos_;
          absl::StatusOr<NodePtr> inner = ParseOr(depth + 1);
          if (!inner.ok()) return inner;
          if (!IsOp(")")) return Error(Peek(), "expected ')'");
          ++pos_;
          return inner;
        }
        if (token.text == "[") {
          ++pos_;
          absl::StatusOr<std::vector<NodePtr>> items = ParseList("]", depth);
          if (!items.ok()) return items.status();
          auto node = MakeNode(ExprKind::kList, token.column);
          node->children = std::move(*items);
          return NodePtr(node);
        }
        return Error(token, absl::StrCat("unexpected '", token.text, "'"));
      case TokenKind::kEnd:
        return Error(token, "unexpected end of expression");
    }
    return Error(token, "unexpected token");
  }

  absl::string_view source_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

void CollectChannels(const ExprNode& node, std::set<std::string>* channels, bool* all) {
  switch (node.kind) {
    case ExprKind::kChannel:
      channels->insert(node.name);
      return;
    case ExprKind::kState:
      *all = true;  // `state` used as a whole; narrowed below for state.x / state["x"].
      return;
    case ExprKind::kMember:
      if (node.children[0]->kind == ExprKind::kState) {
        channels->insert(node.name);
        return;
      }
      break;
    case ExprKind::kIndex:
      if (node.children[0]->kind == ExprKind::kState &&
          node.children[1]->kind == ExprKind::kLiteral && node.children[1]->literal.is_string()) {
        channels->insert(node.children[1]->literal.get<std::string>());
        return;
      }
      break;
    default:
      break;
  }
  for (const auto& child : node.children) CollectChannels(*child, channels, all);
}

// ---- Evaluation ----

class Evaluator {
 public:
  Evaluator(const std::string& source, const Json& state) : source_(source), state_(state) {}

  absl::StatusOr<Json> Eval(const ExprNode& node) {
    switch (node.kind) {
      case ExprKind::kLiteral:
        return node.literal;
      case ExprKind::kList: {
        Json list = Json::array();
        for (const auto& child : node.children) {
          absl::StatusOr<Json> item = Eval(*child);
          if (!item.ok()) return item;
          list.push_back(std::move(*item));
        }
        return list;
      }
      case ExprKind::kState:
        return state_;
      case ExprKind::kChannel:
        return Field(state_, node.name);
      case ExprKind::kMember: {
        absl::StatusOr<Json> base = Eval(*node.children[0]);
        if (!base.ok()) return base;
        if (base->is_null()) return Json(nullptr);
        if (!base->is_object()) {
          return Error(node, absl::StrCat("cannot read field '", node.name, "' of a ",
                                          JsonTypeName(*base)));
        }
        return Field(*base, node.name);
      }
      case ExprKind::kIndex:
        return EvalIndex(node);
      case ExprKind::kCall:
        return EvalCall(node);
      case ExprKind::kUnary: {
        absl::StatusOr<Json> operand = Eval(*node.children[0]);
        if (!operand.ok()) return operand;
        if (node.name == "!") return Json(!Truthy(*operand));
        if (!operand->is_number()) {
          return Error(node, absl::StrCat("cannot negate a ", JsonTypeName(*operand)));
        }
        return Number(-operand->get<double>());
      }
      case ExprKind::kBinary:
        return EvalBinary(node);
    }
    return Error(node, "unknown expression node");
  }

 private:
  absl::Status Error(const ExprNode& node, absl::string_view message) const {
    return absl::InvalidArgumentError(
        absl::StrCat("expression \"", source_, "\": column ", node.column, ": ", message));
  }

  static Json Field(const Json& object, const std::string& name) {
    if (!object.is_object()) return nullptr;
    auto it = object.find(name);
    return it == object.end() ? Json(nullptr) : *it;
  }

  static Json Number(double value) {
    if (value == std::floor(value) && std::fabs(value) < 9.0e15) return static_cast<int64_t>(value);
    return value;
  }

  absl::StatusOr<Json> EvalIndex(const ExprNode& node) {
    absl::StatusOr<Json> base = Eval(*node.children[0]);
    if (!base.ok()) return base;
    absl::StatusOr<Json> index = Eval(*node.children[1]);
    if (!index.ok()) return index;
    if (base->is_null()) return Json(nullptr);
    if (base->is_object()) {
      if (!index->is_string()) return Error(node, "an object is indexed by a string");
      return Field(*base, index->get<std::string>());
    }
    if (base->is_array() || base->is_string()) {
      if (!index->is_number()) return Error(node, "a list is indexed by a number");
      double position = index->get<double>();
      if (position != std::floor(position)) return Error(node, "index must be a whole number");
      int64_t size = base->is_array() ? static_cast<int64_t>(base->size())
                                      : static_cast<int64_t>(base->get_ref<const std::string&>().size());
      // Out of range before the cast: a double beyond int64 does not convert.
      if (!(position >= -static_cast<double>(size) && position < static_cast<double>(size))) {
        return Json(nullptr);
      }
      int64_t i = static_cast<int64_t>(position);
      if (i < 0) i += size;  // Python-style: -1 is the last item.
      if (i < 0 || i >= size) return Json(nullptr);
      if (base->is_array()) return (*base)[static_cast<size_t>(i)];
      return Json(std::string(1, base->get_ref<const std::string&>()[static_cast<size_t>(i)]));
    }
    return Error(node, absl::StrCat("cannot index a ", JsonTypeName(*base)));
  }

  absl::StatusOr<Json> EvalCall(const ExprNode& node) {
    std::vector<Json> args;
    for (const auto& child : node.children) {
      absl::StatusOr<Json> arg = Eval(*child);
      if (!arg.ok()) return arg;
      args.push_back(std::move(*arg));
    }
    const std::string& fn = node.name;
    size_t expected = (fn == "contains") ? 2 : 1;
    if (args.size() != expected) {
      return Error(node, absl::StrCat(fn, "() takes ", expected, " argument",
                                      expected == 1 ? "" : "s", ", got ", args.size()));
    }
    const Json& arg = args[0];
    if (fn == "len") {
      if (arg.is_null()) return Json(0);
      if (arg.is_string()) {
        // Count code points, not bytes.
        int64_t count = 0;
        for (unsigned char c : arg.get_ref<const std::string&>()) count += (c & 0xC0) != 0x80;
        return Json(count);
      }
      if (arg.is_array() || arg.is_object()) return Json(static_cast<int64_t>(arg.size()));
      return Error(node, absl::StrCat("len() of a ", JsonTypeName(arg)));
    }
    if (fn == "lower" || fn == "upper" || fn == "trim") {
      if (!arg.is_string()) return Error(node, absl::StrCat(fn, "() needs a string, got ", JsonTypeName(arg)));
      std::string text = arg.get<std::string>();
      if (fn == "lower") return Json(absl::AsciiStrToLower(text));
      if (fn == "upper") return Json(absl::AsciiStrToUpper(text));
      return Json(std::string(absl::StripAsciiWhitespace(text)));
    }
    if (fn == "str") return Json(RenderValue(arg));
    if (fn == "num") {
      if (arg.is_number()) return arg;
      if (arg.is_boolean()) return Json(arg.get<bool>() ? 1 : 0);
      double value = 0;
      if (arg.is_string() && absl::SimpleAtod(absl::StripAsciiWhitespace(arg.get<std::string>()), &value)) {
        return Number(value);
      }
      return Error(node, absl::StrCat("num() cannot convert ", DumpJson(arg).substr(0, 60)));
    }
    if (fn == "first" || fn == "last") {
      if (arg.is_null()) return Json(nullptr);
      if (!arg.is_array()) return Error(node, absl::StrCat(fn, "() needs a list, got ", JsonTypeName(arg)));
      if (arg.empty()) return Json(nullptr);
      return fn == "first" ? arg.front() : arg.back();
    }
    if (fn == "contains") return Contains(node, args[0], args[1]);
    if (fn == "exists") return Json(!arg.is_null());
    return Error(node, absl::StrCat("unknown function '", fn, "'"));
  }

  absl::StatusOr<Json> Contains(const ExprNode& node, const Json& haystack, const Json& needle) {
    if (haystack.is_null()) return Json(false);
    if (haystack.is_string()) {
      if (!needle.is_string()) {
        return Error(node, absl::StrCat("'in' a string needs a string, got ", JsonTypeName(needle)));
      }
      return Json(haystack.get_ref<const std::string&>().find(needle.get_ref<const std::string&>()) !=
                  std::string::npos);
    }
    if (haystack.is_array()) {
      for (const Json& item : haystack) {
        if (item == needle) return Json(true);
      }
      return Json(false);
    }
    if (haystack.is_object()) {
      if (!needle.is_string()) return Error(node, "'in' an object needs a string key");
      return Json(haystack.contains(needle.get<std::string>()));
    }
    return Error(node, absl::StrCat("'in' needs a string, list or object on the right, got ",
                                    JsonTypeName(haystack)));
  }

  absl::StatusOr<Json> EvalBinary(const ExprNode& node) {
    const std::string& op = node.name;
    absl::StatusOr<Json> left = Eval(*node.children[0]);
    if (!left.ok()) return left;
    if (op == "&&") {
      if (!Truthy(*left)) return Json(false);
      absl::StatusOr<Json> right = Eval(*node.children[1]);
      if (!right.ok()) return right;
      return Json(Truthy(*right));
    }
    if (op == "||") {
      if (Truthy(*left)) return Json(true);
      absl::StatusOr<Json> right = Eval(*node.children[1]);
      if (!right.ok()) return right;
      return Json(Truthy(*right));
    }
    absl::StatusOr<Json> right = Eval(*node.children[1]);
    if (!right.ok()) return right;
    const Json& a = *left;
    const Json& b = *right;
    if (op == "==") return Json(a == b);
    if (op == "!=") return Json(a != b);
    if (op == "in") return Contains(node, b, a);
    if (op == "not in") {
      absl::StatusOr<Json> in = Contains(node, b, a);
      if (!in.ok()) return in;
      return Json(!in->get<bool>());
    }
    if (op == "<" || op == "<=" || op == ">" || op == ">=") {
      int order = 0;
      if (a.is_number() && b.is_number()) {
        double x = a.get<double>(), y = b.get<double>();
        order = x < y ? -1 : (x > y ? 1 : 0);
      } else if (a.is_string() && b.is_string()) {
        int c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
        order = c < 0 ? -1 : (c > 0 ? 1 : 0);
      } else {
        return Error(node, absl::StrCat("cannot compare ", JsonTypeName(a), " with ", JsonTypeName(b),
                                        " using '", op, "'"));
      }
      if (op == "<") return Json(order < 0);
      if (op == "<=") return Json(order <= 0);
      if (op == ">") return Json(order > 0);
      return Json(order >= 0);
    }
    if (op == "+") {
      if (a.is_string() && b.is_string()) {
        return Json(a.get<std::string>() + b.get<std::string>());
      }
      if (a.is_array() && b.is_array()) {
        Json joined = a;
        for (const Json& item : b) joined.push_back(item);
        return joined;
      }
    }
    if (!a.is_number() || !b.is_number()) {
      return Error(node, absl::StrCat("cannot apply '", op, "' to ", JsonTypeName(a), " and ",
                                      JsonTypeName(b)));
    }
    double x = a.get<double>(), y = b.get<double>();
    if (op == "+") return Number(x + y);
    if (op == "-") return Number(x - y);
    if (op == "*") return Number(x * y);
    if (y == 0) return Error(node, op == "/" ? "division by zero" : "modulo by zero");
    if (op == "/") return Number(x / y);
    return Number(std::fmod(x, y));
  }

  const std::string& source_;
  const Json& state_;
};

}  // namespace

absl::StatusOr<Expression> Expression::Parse(absl::string_view text) {
  if (text.size() > kMaxExpressionChars) {
    return absl::InvalidArgumentError(
        absl::StrCat("expression is longer than ", kMaxExpressionChars, " characters"));
  }
  if (absl::StripAsciiWhitespace(text).empty()) {
    return absl::InvalidArgumentError("expression is empty");
  }
  absl::StatusOr<std::vector<Token>> tokens = Tokenize(text);
  if (!tokens.ok()) return tokens.status();
  Parser parser(text, std::move(*tokens));
  absl::StatusOr<NodePtr> root = parser.ParseAll();
  if (!root.ok()) return root.status();
  Expression expression;
  expression.root_ = *root;
  expression.text_ = std::string(text);
  CollectChannels(**root, &expression.channels_, &expression.all_channels_);
  return expression;
}

absl::StatusOr<Json> Expression::Evaluate(const Json& state) const {
  Evaluator evaluator(text_, state);
  return evaluator.Eval(*root_);
}

absl::StatusOr<bool> Expression::EvaluateCondition(const Json& state) const {
  absl::StatusOr<Json> value = Evaluate(state);
  if (!value.ok()) return value.status();
  return Truthy(*value);
}

bool Truthy(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return false;
    case Json::value_t::boolean:
      return value.get<bool>();
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return value.get<double>() != 0;
    case Json::value_t::string:
    case Json::value_t::array:
    case Json::value_t::object:
      return !value.empty();
    default:
      return false;
  }
}

std::string RenderValue(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "";
    case Json::value_t::string:
      return value.get<std::string>();
    case Json::value_t::number_float: {
      double number = value.get<double>();
      if (number == std::floor(number) && std::fabs(number) < 9.0e15) {
        return absl::StrCat(static_cast<int64_t>(number));
      }
      return DumpJson(value);
    }
    case Json::value_t::array: {
      std::vector<std::string> lines;
      for (const Json& item : value) lines.push_back(RenderValue(item));
      return absl::StrJoin(lines, "\n");
    }
    case Json::value_t::object: {
      auto text = value.find("text");
      if (text != value.end() && text->is_string()) return text->get<std::string>();
      auto content = value.find("content");
      auto role = value.find("role");
      if (content != value.end() && content->is_string()) {
        if (role != value.end() && role->is_string()) {
          return absl::StrCat(role->get<std::string>(), ": ", content->get<std::string>());
        }
        return content->get<std::string>();
      }
      return DumpJson(value);
    }
    default:
      return DumpJson(value);
  }
}

absl::StatusOr<Template> Template::Parse(absl::string_view text) {
  Template result;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find("{{", pos);
    if (open == absl::string_view::npos) {
      result.segments_.push_back({std::string(text.substr(pos)), nullptr});
      break;
    }
    if (open > pos) result.segments_.push_back({std::string(text.substr(pos, open - pos)), nullptr});
    size_t close = text.find("}}", open + 2);
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("template: '{{' at offset ", open, " has no closing '}}'"));
    }
    absl::StatusOr<Expression> expression = Expression::Parse(text.substr(open + 2, close - open - 2));
    if (!expression.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("template placeholder at offset ", open, ": ", expression.status().message()));
    }
    result.segments_.push_back({"", std::make_shared<Expression>(std::move(*expression))});
    pos = close + 2;
  }
  return result;
}

absl::StatusOr<std::string> Template::Render(const Json& state) const {
  std::string out;
  for (const Segment& segment : segments_) {
    if (segment.expression == nullptr) {
      out += segment.literal;
      continue;
    }
    absl::StatusOr<Json> value = segment.expression->Evaluate(state);
    if (!value.ok()) return value.status();
    out += RenderValue(*value);
  }
  return out;
}

std::set<std::string> Template::ReferencedChannels() const {
  std::set<std::string> channels;
  for (const Segment& segment : segments_) {
    if (segment.expression != nullptr) {
      channels.insert(segment.expression->referenced_channels().begin(),
                      segment.expression->referenced_channels().end());
    }
  }
  return channels;
}

bool Template::AllChannelsReferenced() const {
  for (const Segment& segment : segments_) {
    if (segment.expression != nullptr && segment.expression->all_channels_referenced()) return true;
  }
  return false;
}

}  // namespace tessera::agents

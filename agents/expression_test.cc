#include "agents/expression.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace tessera::agents {
namespace {

const Json kState = Json::parse(R"({
  "count": 2, "answer": "", "intent": "I want a Refund please", "docs": [{"text": "a"}, {"text": "b"}],
  "user": {"name": "Ada", "tags": ["x", "y"]}, "ratio": 0.5, "messages": [{"role": "user", "content": "hi"}]
})");

Json Eval(const std::string& text) {
  absl::StatusOr<Expression> expression = Expression::Parse(text);
  EXPECT_TRUE(expression.ok()) << text << ": " << expression.status();
  if (!expression.ok()) return "PARSE ERROR";
  absl::StatusOr<Json> value = expression->Evaluate(kState);
  EXPECT_TRUE(value.ok()) << text << ": " << value.status();
  return value.ok() ? *value : Json("EVAL ERROR");
}

std::string ParseError(const std::string& text) {
  absl::StatusOr<Expression> expression = Expression::Parse(text);
  EXPECT_FALSE(expression.ok()) << text;
  return expression.ok() ? "" : std::string(expression.status().message());
}

std::string EvalError(const std::string& text) {
  absl::StatusOr<Expression> expression = Expression::Parse(text);
  EXPECT_TRUE(expression.ok()) << expression.status();
  if (!expression.ok()) return "";
  absl::StatusOr<Json> value = expression->Evaluate(kState);
  EXPECT_FALSE(value.ok()) << text << " = " << value->dump();
  return value.ok() ? "" : std::string(value.status().message());
}

TEST(ExpressionTest, ConditionsFromTheSpec) {
  EXPECT_EQ(Eval("state.count < 3 && state.answer != \"\""), false);
  EXPECT_EQ(Eval("state.count < 3 && state.answer == \"\""), true);
  EXPECT_EQ(Eval("len(state.docs) > 0"), true);
  EXPECT_EQ(Eval("\"Refund\" in state.intent"), true);
  EXPECT_EQ(Eval("\"refund\" in state.intent"), false);  // Case-sensitive...
  EXPECT_EQ(Eval("\"refund\" in lower(state.intent)"), true);  // ...unless lowered.
}

TEST(ExpressionTest, PrecedenceArithmeticAndAccess) {
  EXPECT_EQ(Eval("1 + 2 * 3"), 7);
  EXPECT_EQ(Eval("(1 + 2) * 3"), 9);
  EXPECT_EQ(Eval("-count + 10 % 4"), 0);
  EXPECT_EQ(Eval("7 / 2"), 3.5);
  EXPECT_EQ(Eval("ratio * 4"), 2);
  EXPECT_EQ(Eval("not count == 2 or true"), true);
  EXPECT_EQ(Eval("!(count == 2) || false"), false);
  EXPECT_EQ(Eval("user.name + \"!\""), "Ada!");
  EXPECT_EQ(Eval("state[\"user\"].tags[-1]"), "y");
  EXPECT_EQ(Eval("docs[5]"), nullptr);
  EXPECT_EQ(Eval("docs[1e300] == docs[-1e300]"), true);  // Far out of range: null, no overflow.
  EXPECT_EQ(Eval("user.missing.deeper"), nullptr);
  EXPECT_EQ(Eval("\"x\" in user.tags && \"z\" not in user.tags"), true);
  EXPECT_EQ(Eval("\"name\" in user"), true);
  EXPECT_EQ(Eval("last(messages).content"), "hi");
  EXPECT_EQ(Eval("[1, 2] + [3]"), Json::array({1, 2, 3}));
  EXPECT_EQ(Eval("num(\" 4.5 \") + 1"), 5.5);
  EXPECT_EQ(Eval("str(count) + \"x\""), "2x");
  EXPECT_EQ(Eval("len(\"héllo\")"), 5);  // Code points.
  EXPECT_EQ(Eval("exists(user.name) && !exists(user.age)"), true);
  EXPECT_EQ(Eval("'single' == \"single\""), true);
}

TEST(ExpressionTest, ReferencedChannels) {
  absl::StatusOr<Expression> e = Expression::Parse("state.count < len(docs) && user.name == state[\"intent\"]");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->referenced_channels(), (std::set<std::string>{"count", "docs", "user", "intent"}));
  EXPECT_FALSE(e->all_channels_referenced());
  EXPECT_TRUE(Expression::Parse("len(state) > 0")->all_channels_referenced());
}

TEST(ExpressionTest, SyntaxErrorsNameTheColumn) {
  EXPECT_TRUE(absl::StrContains(ParseError("count <"), "column 8: unexpected end of expression"));
  EXPECT_TRUE(absl::StrContains(ParseError("count = 1"), "'=' is not an operator; use '=='"));
  EXPECT_TRUE(absl::StrContains(ParseError("a & b"), "use '&&'"));
  EXPECT_TRUE(absl::StrContains(ParseError("\"open"), "unterminated string"));
  EXPECT_TRUE(absl::StrContains(ParseError("eval(x)"), "unknown function 'eval'"));
  EXPECT_TRUE(absl::StrContains(ParseError("1 < 2 < 3"), "cannot be chained"));
  EXPECT_TRUE(absl::StrContains(ParseError("(1 + 2"), "expected ')'"));
  EXPECT_TRUE(absl::StrContains(ParseError("a ) b"), "unexpected ')' after the expression"));
  EXPECT_TRUE(absl::StrContains(ParseError("#"), "unexpected character '#'"));
  EXPECT_TRUE(absl::StrContains(ParseError("   "), "expression is empty"));
}

TEST(ExpressionTest, LimitsOnSizeAndDepth) {
  EXPECT_TRUE(absl::StrContains(ParseError(std::string(5000, '1')), "longer than 4096"));
  EXPECT_TRUE(absl::StrContains(ParseError(std::string(200, '(') + "1" + std::string(200, ')')), "nested deeper"));
  std::string many;
  for (int i = 0; i < 600; ++i) many += "1+";
  EXPECT_TRUE(absl::StrContains(ParseError(many + "1"), "more than 1024 tokens"));
}

TEST(ExpressionTest, EvaluationErrors) {
  EXPECT_TRUE(absl::StrContains(EvalError("count / 0"), "division by zero"));
  EXPECT_TRUE(absl::StrContains(EvalError("count < \"3\""), "cannot compare number with string"));
  EXPECT_TRUE(absl::StrContains(EvalError("count.field"), "cannot read field 'field' of a number"));
  EXPECT_TRUE(absl::StrContains(EvalError("1 in count"), "'in' needs a string, list or object"));
  EXPECT_TRUE(absl::StrContains(EvalError("len(1, 2)"), "len() takes 1 argument, got 2"));
  EXPECT_TRUE(absl::StrContains(EvalError("num(\"abc\")"), "num() cannot convert"));
  EXPECT_TRUE(absl::StrContains(EvalError("user - 1"), "cannot apply '-' to object and number"));
}

TEST(TemplateTest, RendersValuesAndReportsChannels) {
  absl::StatusOr<Template> t =
      Template::Parse("Hi {{ user.name }}, count={{count}} ratio={{ratio}} docs:\n{{docs}}\n{{messages}}{{answer}}");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*t->Render(kState), "Hi Ada, count=2 ratio=0.5 docs:\na\nb\nuser: hi");
  EXPECT_EQ(t->ReferencedChannels(), (std::set<std::string>{"user", "count", "ratio", "docs", "messages", "answer"}));
  EXPECT_FALSE(Template::Parse("broken {{ count").ok());
  EXPECT_FALSE(Template::Parse("bad {{ count < }}").ok());
  EXPECT_EQ(*Template::Parse("no placeholders")->Render(kState), "no placeholders");
}

}  // namespace
}  // namespace tessera::agents

#include "agents/tools/calculator.h"

#include <cmath>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace tessera::agents {
namespace {

double Eval(const std::string& text) {
  absl::StatusOr<double> value = EvaluateArithmetic(text);
  EXPECT_TRUE(value.ok()) << text << ": " << value.status();
  return value.ok() ? *value : NAN;
}

std::string Error(const std::string& text) {
  absl::StatusOr<double> value = EvaluateArithmetic(text);
  EXPECT_FALSE(value.ok()) << text << " = " << *value;
  return value.ok() ? "" : std::string(value.status().message());
}

TEST(CalculatorTest, ArithmeticAndPrecedence) {
  EXPECT_DOUBLE_EQ(Eval("1 + 2 * 3"), 7);
  EXPECT_DOUBLE_EQ(Eval("(1 + 2) * 3"), 9);
  EXPECT_DOUBLE_EQ(Eval("2 ^ 3 ^ 2"), 512);  // Right-associative.
  EXPECT_DOUBLE_EQ(Eval("-2 ^ 2"), -4);
  EXPECT_DOUBLE_EQ(Eval("2 ^ -1"), 0.5);
  EXPECT_DOUBLE_EQ(Eval("--3"), 3);
  EXPECT_DOUBLE_EQ(Eval("10 % 4 + 7 / 2"), 5.5);
  EXPECT_DOUBLE_EQ(Eval("1.5e3 + .5"), 1500.5);
  EXPECT_DOUBLE_EQ(Eval("  8 - 2 - 1 "), 5);  // Left-associative.
}

TEST(CalculatorTest, FunctionsAndConstants) {
  EXPECT_DOUBLE_EQ(Eval("sqrt(16) + abs(-2)"), 6);
  EXPECT_NEAR(Eval("sin(pi / 2) + cos(0)"), 2, 1e-12);
  EXPECT_NEAR(Eval("log(e ^ 3)"), 3, 1e-12);
  EXPECT_NEAR(Eval("exp(1)"), M_E, 1e-12);
  EXPECT_DOUBLE_EQ(Eval("min(3, -1, 2) + max(4, 9)"), 8);
}

TEST(CalculatorTest, Errors) {
  EXPECT_TRUE(absl::StrContains(Error("1 / 0"), "division by zero"));
  EXPECT_TRUE(absl::StrContains(Error("5 % (2 - 2)"), "modulo by zero"));
  EXPECT_TRUE(absl::StrContains(Error("sqrt(-1)"), "sqrt of a negative"));
  EXPECT_TRUE(absl::StrContains(Error("log(0)"), "log of a non-positive"));
  EXPECT_TRUE(absl::StrContains(Error("1 +"), "unexpected end"));
  EXPECT_TRUE(absl::StrContains(Error("(1 + 2"), "expected ')'"));
  EXPECT_TRUE(absl::StrContains(Error("1 2"), "unexpected '2'"));
  EXPECT_TRUE(absl::StrContains(Error("1.2.3"), "malformed number"));
  EXPECT_TRUE(absl::StrContains(Error("system(1)"), "unknown name 'system'"));
  EXPECT_TRUE(absl::StrContains(Error("sqrt(1, 2)"), "takes one argument"));
  EXPECT_TRUE(absl::StrContains(Error("10 ^ 400"), "not a finite number"));
  EXPECT_TRUE(absl::StrContains(Error("(-8) ^ 0.5"), "undefined"));
  EXPECT_TRUE(absl::StrContains(Error(""), "unexpected end"));
  EXPECT_TRUE(absl::StrContains(Error(std::string(500, '(') + "1" + std::string(500, ')')), "nested too deeply"));
}

TEST(CalculatorTest, ToolInterface) {
  CalculatorTool tool;
  EXPECT_EQ(*tool.Invoke({{"expression", "6*7"}}, absl::InfiniteFuture()), 42);
  EXPECT_EQ(*tool.Invoke({{"expression", "1/4"}}, absl::InfiniteFuture()), 0.25);
  EXPECT_FALSE(tool.Invoke({{"expr", "1"}}, absl::InfiniteFuture()).ok());
  EXPECT_FALSE(ValidateToolArguments(tool, {{"expression", 5}}).ok());
}

}  // namespace
}  // namespace tessera::agents

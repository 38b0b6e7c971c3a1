#include "eval/report.h"

#include <gumbo.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace tessera::eval {
namespace {

v1::JudgeResult Score(const std::string& judge, double score, bool weighted = false) {
  v1::JudgeResult result;
  result.set_judge(judge);
  result.set_score(score);
  result.set_logprob_weighted(weighted);
  return result;
}

v1::JudgeResult Pair(const std::string& preference) {
  v1::JudgeResult result;
  result.set_judge("pairwise");
  result.set_preference(preference);
  result.set_score(preference == "A" ? 1 : preference == "B" ? 0 : 0.5);
  return result;
}

// Three cases: pointwise 5, 4, 2 on outputs of 30, 20 and 10 characters; G-Eval
// 4.5, 3.5, 1.2 (two logprob-weighted); pairwise A, TIE, B; faithfulness 1, .5, 0.
ReportInput Input() {
  ReportInput input;
  input.job.set_id("eval-1");
  input.job.mutable_spec()->set_name("smoke <test>");
  input.job.mutable_spec()->mutable_dataset()->set_content_hash(std::string(64, 'a'));
  input.job.set_state(v1::SUCCEEDED);
  input.job.set_cases_total(4);
  input.job.set_cases_done(4);
  input.job.set_cases_failed(1);
  input.job.mutable_usage()->set_total_tokens(1234);
  const std::vector<double> pointwise = {5, 4, 2}, geval = {4.5, 3.5, 1.2}, faith = {1, 0.5, 0};
  const std::vector<std::string> prefs = {"A", "TIE", "B"};
  for (int i = 0; i < 3; ++i) {
    v1::CaseResult& result = input.results.emplace_back();
    result.set_job_id("eval-1");
    result.set_case_id("c" + std::to_string(i));
    result.set_output(std::string(30 - 10 * i, 'x'));
    *result.add_judges() = Score("pointwise", pointwise[i]);
    *result.add_judges() = Score("g_eval", geval[i], i < 2);
    *result.add_judges() = Pair(prefs[i]);
    (*result.mutable_metrics())["faithfulness"] = faith[i];
  }
  v1::CaseResult& failed = input.results.emplace_back();
  failed.set_case_id("c3");
  failed.set_error("judge pointwise: no score & <nothing>");
  input.human_pairs["pointwise"] = {{"c0", 5, 5}, {"c1", 4, 3}, {"c2", 2, 2}};
  return input;
}

TEST(ReportTest, SummaryMatchesHandComputation) {
  auto summary = Summarize(Input().results);
  EXPECT_NEAR(summary["pointwise"], 11.0 / 3, 1e-12);
  EXPECT_NEAR(summary["g_eval"], 9.2 / 3, 1e-12);
  EXPECT_NEAR(summary["g_eval.logprob_weighted"], 2.0 / 3, 1e-12);
  // Scores fall as outputs shorten: perfect rank correlation with length.
  EXPECT_NEAR(summary["pointwise.length_spearman"], 1.0, 1e-12);
  // Win share (1 + .5 + 0) / 3.
  EXPECT_NEAR(summary["pairwise.win_rate"], 0.5, 1e-12);
  const Interval ci = WilsonInterval(1.5, 3);
  EXPECT_NEAR(summary["pairwise.win_rate_low"], ci.low, 1e-12);
  EXPECT_NEAR(summary["pairwise.win_rate_high"], ci.high, 1e-12);
  EXPECT_EQ(summary.count("pairwise.length_spearman"), 0u);
  EXPECT_NEAR(summary["faithfulness"], 0.5, 1e-12);
}

TEST(ReportTest, JsonSummaryCarriesHistogramsCalibrationAndCases) {
  Json json = JsonSummary(Input());
  EXPECT_EQ(json["job"]["state"], "SUCCEEDED");
  EXPECT_EQ(json["judges"]["pointwise"]["histogram"], Json({0, 1, 0, 1, 1}));
  EXPECT_EQ(json["judges"]["pairwise"]["wins_output"], 1);
  EXPECT_EQ(json["judges"]["pairwise"]["ties"], 1);
  EXPECT_EQ(json["calibration"]["pointwise"]["labelled_cases"], 3);
  EXPECT_EQ(json["failed_cases"].size(), 1u);
  EXPECT_EQ(json["cases"]["c1"]["g_eval"], 3.5);
  EXPECT_EQ(json["usage"]["total_tokens"], 1234);
}

TEST(ReportTest, MarkdownHasEverySection) {
  const std::string md = MarkdownReport(Input());
  for (const char* part : {"# Evaluation report: smoke <test>", "## Judges (1-5)", "## Pairwise",
                           "## Metrics", "## Judge vs human", "## Failed cases", "| faithfulness | 3 | 0.500",
                           "| pairwise | 3 | 1 | 1 | 1 | 0.500"}) {
    EXPECT_NE(md.find(part), std::string::npos) << part << "\n" << md;
  }
}

// --- HTML, parsed as a browser would (gumbo implements the HTML5 parser) ---

std::string Name(const GumboNode* node) {
  if (node->v.element.tag != GUMBO_TAG_UNKNOWN) return gumbo_normalized_tagname(node->v.element.tag);
  GumboStringPiece piece = node->v.element.original_tag;
  gumbo_tag_from_original_text(&piece);
  return absl::AsciiStrToLower(std::string(piece.data, piece.length));
}

std::string Attribute(const GumboNode* node, const char* name) {
  const GumboAttribute* attribute = gumbo_get_attribute(&node->v.element.attributes, name);
  return attribute == nullptr ? "" : attribute->value;
}

struct Chart {
  std::string kind;
  std::map<std::string, int> elements;  // Element name -> count inside the svg.
  bool svg_namespace = true;
};

void Collect(const GumboNode* node, std::vector<Chart>* charts, Chart* current,
             std::map<std::string, int>* page) {
  if (node->type != GUMBO_NODE_ELEMENT) return;
  const std::string name = Name(node);
  ++(*page)[name];
  Chart* inside = current;
  if (name == "svg") {
    charts->push_back({});
    inside = &charts->back();
    std::string kind = Attribute(node, "class");
    inside->kind = kind.substr(kind.find(' ') + 1);
  } else if (current != nullptr) {
    ++current->elements[name];
    current->svg_namespace &= node->v.element.tag_namespace == GUMBO_NAMESPACE_SVG;
  }
  const GumboVector& children = node->v.element.children;
  for (unsigned i = 0; i < children.length; ++i) {
    Collect(static_cast<const GumboNode*>(children.data[i]), charts, inside, page);
  }
}

TEST(ReportTest, HtmlIsSelfContainedAndDrawsEveryChart) {
  const std::string html = HtmlReport(Input());
  GumboOutput* output = gumbo_parse(html.c_str());
  std::vector<Chart> charts;
  charts.reserve(16);
  std::map<std::string, int> page;
  Collect(output->root, &charts, nullptr, &page);
  const unsigned parse_errors = output->errors.length;
  gumbo_destroy_output(&kGumboDefaultOptions, output);
  EXPECT_EQ(parse_errors, 0u) << "the HTML5 parser reported errors";
  EXPECT_EQ(page["script"], 0);
  EXPECT_EQ(page["link"], 0);
  EXPECT_EQ(page["img"], 0);
  EXPECT_EQ(html.find("src="), std::string::npos);
  std::map<std::string, int> kinds;
  for (const Chart& chart : charts) {
    ++kinds[chart.kind];
    EXPECT_TRUE(chart.svg_namespace) << chart.kind;
  }
  EXPECT_EQ(kinds["histogram"], 2);  // pointwise and g_eval.
  EXPECT_EQ(kinds["criteria"], 1);
  EXPECT_EQ(kinds["winrates"], 1);
  EXPECT_EQ(kinds["confusion"], 1);
  for (const Chart& chart : charts) {
    if (chart.kind == "histogram") EXPECT_EQ(chart.elements.at("rect"), 5);
    // 4 rows (3 judges + 1 metric): track + bar each.
    if (chart.kind == "criteria") EXPECT_EQ(chart.elements.at("rect"), 8);
    if (chart.kind == "winrates") {
      EXPECT_EQ(chart.elements.at("rect"), 3);
      EXPECT_EQ(chart.elements.at("circle"), 1);
    }
    if (chart.kind == "confusion") EXPECT_EQ(chart.elements.at("rect"), 25);
  }
  // Text from the job is escaped.
  EXPECT_NE(html.find("smoke &lt;test&gt;"), std::string::npos);
  EXPECT_NE(html.find("no score &amp; &lt;nothing&gt;"), std::string::npos);
}

TEST(ReportTest, WritesTheThreeFiles) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string out = std::string(dir != nullptr ? dir : "/tmp") + "/reports/eval-1";
  auto html = WriteReports(Input(), out);
  ASSERT_TRUE(html.ok()) << html.status();
  EXPECT_EQ(*html, out + "/report.html");
  std::ifstream json_file(out + "/report.json");
  std::stringstream text;
  text << json_file.rdbuf();
  auto json = ParseJson(text.str());
  ASSERT_TRUE(json.ok());
  EXPECT_EQ((*json)["job"]["id"], "eval-1");
  EXPECT_TRUE(std::ifstream(out + "/report.md").good());
}

TEST(ReportTest, ComparisonFlagsARegressionAndNotNoise) {
  Json base = {{"cases", Json::object()}}, worse = base, same = base;
  for (int i = 0; i < 30; ++i) {
    const std::string id = "c" + std::to_string(i);
    const double score = 3 + (i % 3);
    base["cases"][id] = {{"pointwise", score}, {"faithfulness", 0.8}};
    worse["cases"][id] = {{"pointwise", score - 1 - (i % 2) * 0.5}, {"faithfulness", 0.8}};
    same["cases"][id] = {{"pointwise", score + (i % 2 == 0 ? 1 : -1)}, {"faithfulness", 0.8}};
  }
  auto regression = CompareRuns(base, worse);
  ASSERT_TRUE(regression.ok()) << regression.status();
  ASSERT_EQ(regression->size(), 2u);
  const ScoreComparison& faith = (*regression)[0];
  const ScoreComparison& pointwise = (*regression)[1];
  EXPECT_EQ(faith.key, "faithfulness");
  EXPECT_FALSE(faith.regression);
  EXPECT_EQ(pointwise.key, "pointwise");
  EXPECT_NEAR(pointwise.test.mean_difference, -1.25, 1e-12);
  EXPECT_TRUE(pointwise.regression);
  EXPECT_LT(pointwise.test.p_value, 0.05);
  auto noise = CompareRuns(base, same);
  ASSERT_TRUE(noise.ok());
  EXPECT_FALSE((*noise)[1].regression);
  EXPECT_FALSE((*noise)[1].improvement);
  EXPECT_NE(ComparisonMarkdown(*regression).find("REGRESSION"), std::string::npos);
  EXPECT_EQ(CompareRuns(Json::object(), base).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CompareRuns(base, Json{{"cases", {{"other", {{"x", 1}}}}}}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tessera::eval

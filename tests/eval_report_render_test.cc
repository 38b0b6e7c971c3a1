// Renders the evaluation job's HTML report in headless Chromium and checks that
// every kind of chart is drawn: score distributions, per-criterion bars,
// pairwise win rates with intervals and the judge-vs-human confusion matrix.
//  - --dump-dom of a copy of the report with a measuring script appended: the
//    browser's own layout gives each chart's size and the boxes of its marks;
//  - --screenshot of the report as written (no script in it): the picture is
//    not blank (python3 counts the non-white pixels).
// Skips, saying so, when no Chromium is installed (apt-get install chromium).

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/json.h"
#include "eval/report.h"
#include "gtest/gtest.h"
#include "tests/chromium_render.h"
#include "tests/server_process.h"

namespace tessera {
namespace {

// Twelve cases with two 1-5 judges, a pairwise judge, two RAG metrics and human
// labels for one judge: every chart of the report has something to draw.
eval::ReportInput EveryChartInput() {
  eval::ReportInput input;
  input.job.set_id("render-1");
  input.job.mutable_spec()->set_name("render check");
  input.job.set_state(eval::v1::SUCCEEDED);
  input.job.set_cases_total(12);
  input.job.set_cases_done(12);
  const char* preferences[] = {"A", "A", "B", "TIE"};
  for (int i = 0; i < 12; ++i) {
    eval::v1::CaseResult& result = input.results.emplace_back();
    result.set_job_id("render-1");
    result.set_case_id(absl::StrCat("case-", i));
    result.set_output(std::string(10 + 7 * i, 'y'));
    eval::v1::JudgeResult* helpfulness = result.add_judges();
    helpfulness->set_judge("helpfulness");
    helpfulness->set_score(1 + i % 5);
    eval::v1::JudgeResult* coherence = result.add_judges();
    coherence->set_judge("coherence");
    coherence->set_score(1.5 + (i % 4) * 0.9);
    coherence->set_logprob_weighted(true);
    eval::v1::JudgeResult* pairwise = result.add_judges();
    pairwise->set_judge("versus_baseline");
    pairwise->set_preference(preferences[i % 4]);
    pairwise->set_score(i % 4 == 2 ? 0 : i % 4 == 3 ? 0.5 : 1);
    (*result.mutable_metrics())["faithfulness"] = (i % 3) / 2.0;
    (*result.mutable_metrics())["answer_relevance"] = 0.25 + (i % 2) * 0.5;
    input.human_pairs["helpfulness"].push_back(
        {result.case_id(), static_cast<double>(1 + i % 5), static_cast<double>(1 + (i + i / 6) % 5)});
  }
  return input;
}

TEST(EvalReportRenderTest, ChartsRenderInHeadlessChromium) {
  const std::string chromium = testing::FindChromium();
  if (chromium.empty()) {
    GTEST_SKIP() << "no Chromium found (apt-get install chromium, or set TESSERA_CHROMIUM): "
                    "the HTML report was not rendered";
  }
  const std::string dir = testing::MakeTempDir("render-report");
  auto html_path = eval::WriteReports(EveryChartInput(), dir);
  ASSERT_TRUE(html_path.ok()) << html_path.status();
  std::stringstream html;
  html << std::ifstream(*html_path).rdbuf();
  ASSERT_EQ(html.str().find("<script"), std::string::npos) << "the report itself must work without scripts";

  // 1. Layout, measured by the browser.
  auto charts = testing::MeasureCharts(chromium, *html_path);
  ASSERT_TRUE(charts.ok()) << charts.status();
  std::map<std::string, std::vector<Json>> by_kind;
  for (const Json& chart : *charts) {
    EXPECT_GT(chart["width"].get<double>(), 100) << chart.dump();
    EXPECT_GT(chart["height"].get<double>(), 50) << chart.dump();
    EXPECT_GT(chart["texts"].get<int>(), 0) << chart.dump();
    by_kind[chart["kind"].get<std::string>()].push_back(chart);
  }
  // One histogram per 1-5 judge; its drawn bars are the non-empty bins (1-5
  // for helpfulness, four values for coherence).
  ASSERT_EQ(by_kind["histogram"].size(), 2u) << charts->dump();
  int histogram_bars = 0;
  for (const Json& chart : by_kind["histogram"]) histogram_bars += chart["rects"].get<int>();
  EXPECT_GE(histogram_bars, 5 + 3);
  // Per-criterion: a track and a bar per judge and metric (the pairwise one as
  // its win rate), with interval lines.
  ASSERT_EQ(by_kind["criteria"].size(), 1u);
  EXPECT_GE(by_kind["criteria"][0]["rects"].get<int>(), 5 + 4);
  EXPECT_GE(by_kind["criteria"][0]["lines"].get<int>(), 4);
  // Win rates: wins, ties, losses as bars, the rate as a dot, the interval as a line.
  ASSERT_EQ(by_kind["winrates"].size(), 1u);
  EXPECT_EQ(by_kind["winrates"][0]["circles"].get<int>(), 1);
  EXPECT_EQ(by_kind["winrates"][0]["rects"].get<int>(), 3);
  EXPECT_GE(by_kind["winrates"][0]["lines"].get<int>(), 1);
  // Judge vs human: a 5x5 matrix.
  ASSERT_EQ(by_kind["confusion"].size(), 1u);
  EXPECT_EQ(by_kind["confusion"][0]["rects"].get<int>(), 25);

  // 2. The report as written, as a picture.
  auto drawn = testing::DrawnShare(chromium, *html_path, dir + "/report.png");
  ASSERT_TRUE(drawn.ok()) << drawn.status();
  const double share = *drawn;
  // Bars, cells and text cover several percent of the page; a blank or
  // unstyled failure page would not.
  EXPECT_GT(share, 0.02);
  std::printf("rendered %zu charts; %.1f%% of the screenshot is drawn\n", charts->size(), 100 * share);
}

}  // namespace
}  // namespace tessera

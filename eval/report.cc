#include "eval/report.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace tessera::eval {
namespace {

struct JudgeStats {
  bool pairwise = false;
  std::vector<double> scores;
  std::vector<double> lengths;  // Output length in characters, beside each score.
  int weighted = 0;             // G-Eval scores that are logprob-weighted.
  int wins_a = 0, wins_b = 0, ties = 0;
  std::vector<std::pair<std::string, double>> per_case;
};

struct MetricStats {
  std::vector<double> values;
};

struct Aggregates {
  std::map<std::string, JudgeStats> judges;
  std::map<std::string, MetricStats> metrics;
};

Aggregates Aggregate(const std::vector<v1::CaseResult>& results) {
  Aggregates out;
  for (const v1::CaseResult& result : results) {
    for (const v1::JudgeResult& judge : result.judges()) {
      JudgeStats& stats = out.judges[judge.judge()];
      stats.scores.push_back(judge.score());
      stats.lengths.push_back(static_cast<double>(result.output().size()));
      stats.weighted += judge.logprob_weighted();
      if (!judge.preference().empty()) {
        stats.pairwise = true;
        stats.wins_a += judge.preference() == "A";
        stats.wins_b += judge.preference() == "B";
        stats.ties += judge.preference() == "TIE";
      }
    }
    for (const auto& [name, value] : result.metrics()) out.metrics[name].values.push_back(value);
  }
  return out;
}

double WinShare(const JudgeStats& stats) { return stats.wins_a + 0.5 * stats.ties; }

std::string Fixed(double value, int digits = 3) { return absl::StrFormat("%.*f", digits, value); }

Json IntervalJson(const Interval& interval) { return Json::array({interval.low, interval.high}); }

std::string HtmlEscape(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"},
                                    {"\"", "&quot;"}, {"'", "&#39;"}});
}

std::string MarkdownCell(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"|", "\\|"}, {"\n", " "}});
}

std::map<std::string, v1::CalibrationReport> Calibrations(const ReportInput& input) {
  std::map<std::string, v1::CalibrationReport> out;
  for (const auto& [judge, pairs] : input.human_pairs) {
    auto report = Calibrate(judge, pairs);
    if (report.ok()) out[judge] = *report;
  }
  return out;
}

// --- SVG -------------------------------------------------------------------

std::string SvgOpen(const std::string& kind, const std::string& label, int width, int height) {
  return absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart %s\" role=\"img\" "
      "aria-label=\"%s\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n<title>%s</title>\n",
      kind, HtmlEscape(label), width, height, width, height, HtmlEscape(label));
}

std::string SvgRect(double x, double y, double w, double h, const std::string& css_class,
                    const std::string& tooltip, const std::string& style = "") {
  return absl::StrFormat(
      "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"%s><title>%s</title></rect>\n",
      css_class, x, y, std::max(0.0, w), std::max(0.0, h),
      style.empty() ? "" : absl::StrCat(" style=\"", style, "\""), HtmlEscape(tooltip));
}

std::string SvgText(double x, double y, const std::string& text, const std::string& anchor = "start",
                    const std::string& css_class = "label") {
  return absl::StrFormat("<text class=\"%s\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>\n",
                         css_class, x, y, anchor, HtmlEscape(text));
}

std::string SvgLine(double x1, double y1, double x2, double y2, const std::string& css_class) {
  return absl::StrFormat(
      "<line class=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", css_class, x1, y1, x2, y2);
}

std::string HistogramSvg(const std::string& judge, const JudgeStats& stats) {
  std::vector<int> counts(5, 0);
  for (double score : stats.scores) ++counts[ScoreBucket(score) - 1];
  const int max_count = std::max(1, *std::max_element(counts.begin(), counts.end()));
  constexpr int kWidth = 360, kHeight = 200, kLeft = 30, kBottom = 30, kTop = 20;
  const double slot = (kWidth - kLeft - 10) / 5.0;
  const double plot = kHeight - kBottom - kTop;
  std::string svg = SvgOpen("histogram", absl::StrCat("Score distribution of ", judge), kWidth, kHeight);
  svg += SvgLine(kLeft, kHeight - kBottom, kWidth - 10, kHeight - kBottom, "axis");
  for (int bin = 0; bin < 5; ++bin) {
    const double h = plot * counts[bin] / max_count;
    const double x = kLeft + bin * slot + slot * 0.15;
    const double y = kHeight - kBottom - h;
    svg += SvgRect(x, y, slot * 0.7, h, "bar",
                   absl::StrCat("score ", bin + 1, ": ", counts[bin], " cases"));
    svg += SvgText(x + slot * 0.35, y - 4, absl::StrCat(counts[bin]), "middle", "value");
    svg += SvgText(x + slot * 0.35, kHeight - kBottom + 16, absl::StrCat(bin + 1), "middle");
  }
  svg += "</svg>\n";
  return svg;
}

// One bar per judge and metric, each on its own 0-1 scale: 1-5 scores as
// (mean - 1) / 4, pairwise judges as the win rate, metrics as they are.
std::string CriterionBarsSvg(const Aggregates& aggregates) {
  struct Row {
    std::string label;
    double value, low, high;  // On the 0-1 scale.
    std::string shown;
  };
  std::vector<Row> rows;
  for (const auto& [name, stats] : aggregates.judges) {
    if (stats.pairwise) {
      const Interval ci = WilsonInterval(WinShare(stats), static_cast<int64_t>(stats.scores.size()));
      const double rate = WinShare(stats) / std::max<size_t>(1, stats.scores.size());
      rows.push_back({name + " (win rate)", rate, ci.low, ci.high, Fixed(rate)});
    } else {
      const double mean = Mean(stats.scores);
      const Interval ci = BootstrapMeanInterval(stats.scores);
      rows.push_back({name, (mean - 1) / 4, (ci.low - 1) / 4, (ci.high - 1) / 4,
                      absl::StrCat(Fixed(mean, 2), " / 5")});
    }
  }
  for (const auto& [name, stats] : aggregates.metrics) {
    const Interval ci = BootstrapMeanInterval(stats.values);
    rows.push_back({name, Mean(stats.values), ci.low, ci.high, Fixed(Mean(stats.values))});
  }
  constexpr int kLabel = 200, kBar = 300, kRow = 26;
  const int height = kRow * static_cast<int>(rows.size()) + 30;
  std::string svg = SvgOpen("criteria", "Per-criterion means with 95% intervals", kLabel + kBar + 90, height);
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& row = rows[i];
    const double y = 10 + kRow * i;
    svg += SvgText(kLabel - 6, y + 15, row.label, "end");
    svg += SvgRect(kLabel, y + 3, kBar, kRow - 8, "track", "");
    svg += SvgRect(kLabel, y + 3, kBar * std::clamp(row.value, 0.0, 1.0), kRow - 8, "bar",
                   absl::StrCat(row.label, ": ", row.shown));
    svg += SvgLine(kLabel + kBar * std::clamp(row.low, 0.0, 1.0), y + kRow / 2.0,
                   kLabel + kBar * std::clamp(row.high, 0.0, 1.0), y + kRow / 2.0, "ci");
    svg += SvgText(kLabel + kBar + 6, y + 15, row.shown, "start", "value");
  }
  svg += SvgText(kLabel, height - 4, "0", "middle");
  svg += SvgText(kLabel + kBar, height - 4, "1 (5 for 1-5 judges)", "middle");
  svg += "</svg>\n";
  return svg;
}

std::string WinRateSvg(const Aggregates& aggregates) {
  constexpr int kLabel = 200, kBar = 300, kRow = 30;
  int rows = 0;
  for (const auto& [name, stats] : aggregates.judges) rows += stats.pairwise;
  std::string svg = SvgOpen("winrates", "Pairwise win rates of output over output_b with 95% intervals",
                            kLabel + kBar + 120, kRow * rows + 30);
  int i = 0;
  for (const auto& [name, stats] : aggregates.judges) {
    if (!stats.pairwise) continue;
    const double n = std::max<size_t>(1, stats.scores.size());
    const double y = 10 + kRow * i++;
    double x = kLabel;
    svg += SvgText(kLabel - 6, y + 17, name, "end");
    for (const auto& [count, css, what] :
         std::vector<std::tuple<int, std::string, std::string>>{{stats.wins_a, "win", "output wins"},
                                                                {stats.ties, "tie", "ties"},
                                                                {stats.wins_b, "loss", "output_b wins"}}) {
      const double w = kBar * count / n;
      svg += SvgRect(x, y + 4, w, kRow - 10, css, absl::StrCat(what, ": ", count));
      x += w;
    }
    const double rate = WinShare(stats) / n;
    const Interval ci = WilsonInterval(WinShare(stats), static_cast<int64_t>(stats.scores.size()));
    svg += SvgLine(kLabel + kBar * ci.low, y + kRow / 2.0, kLabel + kBar * ci.high, y + kRow / 2.0, "ci");
    svg += absl::StrFormat("<circle class=\"point\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\"><title>%s</title></circle>\n",
                           kLabel + kBar * rate, y + kRow / 2.0,
                           HtmlEscape(absl::StrCat("win rate ", Fixed(rate), " [", Fixed(ci.low), ", ",
                                                   Fixed(ci.high), "]")));
    svg += SvgText(kLabel + kBar + 6, y + 17,
                   absl::StrCat(Fixed(rate, 2), " [", Fixed(ci.low, 2), ", ", Fixed(ci.high, 2), "]"),
                   "start", "value");
  }
  svg += "</svg>\n";
  return svg;
}

std::string ConfusionSvg(const std::string& judge, const v1::CalibrationReport& report) {
  constexpr int kCell = 36, kLeft = 60, kTop = 30;
  int64_t max_count = 1;
  for (int64_t count : report.confusion_matrix()) max_count = std::max(max_count, count);
  std::string svg = SvgOpen("confusion", absl::StrCat("Judge ", judge, " vs human scores"),
                            kLeft + 5 * kCell + 20, kTop + 5 * kCell + 40);
  for (int row = 0; row < 5; ++row) {
    svg += SvgText(kLeft - 8, kTop + row * kCell + kCell / 2.0 + 4, absl::StrCat(row + 1), "end");
    for (int col = 0; col < 5; ++col) {
      const int64_t count = report.confusion_matrix(row * 5 + col);
      const double x = kLeft + col * kCell, y = kTop + row * kCell;
      svg += SvgRect(x, y, kCell - 2, kCell - 2, "cell",
                     absl::StrCat("judge ", row + 1, ", human ", col + 1, ": ", count),
                     absl::StrFormat("fill-opacity:%.2f", 0.08 + 0.92 * count / max_count));
      svg += SvgText(x + kCell / 2.0 - 1, y + kCell / 2.0 + 4, absl::StrCat(count), "middle", "value");
    }
  }
  for (int col = 0; col < 5; ++col) {
    svg += SvgText(kLeft + col * kCell + kCell / 2.0, kTop - 8, absl::StrCat(col + 1), "middle");
  }
  svg += SvgText(kLeft + 2.5 * kCell, kTop + 5 * kCell + 20, "human score (columns); judge score (rows)", "middle");
  svg += "</svg>\n";
  return svg;
}

constexpr char kStyle[] = R"css(
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 980px; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
td, th { border: 1px solid #ccc; padding: 4px 8px; text-align: left; }
figure { display: inline-block; margin: 0 1em 1em 0; }
svg.chart { background: #fafafa; border: 1px solid #eee; }
.bar { fill: #4c78a8; } .track { fill: #e8e8e8; } .ci { stroke: #222; stroke-width: 2; }
.axis { stroke: #888; } .win { fill: #54a24b; } .tie { fill: #bab0ac; } .loss { fill: #e45756; }
.point { fill: #222; } .cell { fill: #4c78a8; }
.label { font-size: 12px; fill: #333; } .value { font-size: 11px; fill: #111; }
)css";

}  // namespace

std::map<std::string, double> Summarize(const std::vector<v1::CaseResult>& results) {
  std::map<std::string, double> summary;
  const Aggregates aggregates = Aggregate(results);
  for (const auto& [name, stats] : aggregates.judges) {
    summary[name] = Mean(stats.scores);
    if (stats.pairwise) {
      const int64_t n = static_cast<int64_t>(stats.scores.size());
      const Interval ci = WilsonInterval(WinShare(stats), n);
      summary[name + ".win_rate"] = n > 0 ? WinShare(stats) / n : 0;
      summary[name + ".win_rate_low"] = ci.low;
      summary[name + ".win_rate_high"] = ci.high;
      continue;
    }
    if (stats.weighted > 0) {
      summary[name + ".logprob_weighted"] = static_cast<double>(stats.weighted) / stats.scores.size();
    }
    if (auto rho = Spearman(stats.scores, stats.lengths)) summary[name + ".length_spearman"] = *rho;
  }
  for (const auto& [name, stats] : aggregates.metrics) summary[name] = Mean(stats.values);
  return summary;
}

Json JsonSummary(const ReportInput& input) {
  const v1::Job& job = input.job;
  const Aggregates aggregates = Aggregate(input.results);
  Json out;
  out["job"] = {{"id", job.id()},
                {"name", job.spec().name()},
                {"state", v1::JobState_Name(job.state())},
                {"dataset_hash", job.spec().dataset().content_hash()},
                {"cases_total", job.cases_total()},
                {"cases_done", job.cases_done()},
                {"cases_failed", job.cases_failed()}};
  out["usage"] = {{"prompt_tokens", job.usage().prompt_tokens()},
                  {"completion_tokens", job.usage().completion_tokens()},
                  {"total_tokens", job.usage().total_tokens()},
                  {"cost_micros", job.usage().cost_micros()}};
  Json summary = Json::object();
  for (const auto& [key, value] : Summarize(input.results)) summary[key] = value;
  out["summary"] = summary;
  Json judges = Json::object();
  for (const auto& [name, stats] : aggregates.judges) {
    Json entry = {{"n", stats.scores.size()}, {"mean", Mean(stats.scores)}};
    if (stats.pairwise) {
      const int64_t n = static_cast<int64_t>(stats.scores.size());
      entry["kind"] = "pairwise";
      entry["wins_output"] = stats.wins_a;
      entry["wins_output_b"] = stats.wins_b;
      entry["ties"] = stats.ties;
      entry["win_rate"] = n > 0 ? WinShare(stats) / n : 0;
      entry["win_rate_ci95"] = IntervalJson(WilsonInterval(WinShare(stats), n));
    } else {
      std::vector<int> histogram(5, 0);
      for (double score : stats.scores) ++histogram[ScoreBucket(score) - 1];
      entry["kind"] = "score";
      entry["ci95"] = IntervalJson(BootstrapMeanInterval(stats.scores));
      entry["histogram"] = histogram;
      entry["logprob_weighted"] = stats.weighted;
      auto rho = Spearman(stats.scores, stats.lengths);
      entry["length_spearman"] = rho.has_value() ? Json(*rho) : Json(nullptr);
    }
    judges[name] = entry;
  }
  out["judges"] = judges;
  Json metrics = Json::object();
  for (const auto& [name, stats] : aggregates.metrics) {
    metrics[name] = {{"n", stats.values.size()},
                     {"mean", Mean(stats.values)},
                     {"ci95", IntervalJson(BootstrapMeanInterval(stats.values))}};
  }
  out["metrics"] = metrics;
  Json calibration = Json::object();
  for (const auto& [judge, report] : Calibrations(input)) {
    calibration[judge] = {{"labelled_cases", report.labelled_cases()},
                          {"cohen_kappa", report.cohen_kappa()},
                          {"quadratic_kappa", report.quadratic_kappa()},
                          {"spearman", report.spearman()},
                          {"confusion_matrix", std::vector<int64_t>(report.confusion_matrix().begin(),
                                                                    report.confusion_matrix().end())}};
  }
  out["calibration"] = calibration;
  Json failed = Json::array();
  Json cases = Json::object();
  for (const v1::CaseResult& result : input.results) {
    if (!result.error().empty()) failed.push_back({{"case_id", result.case_id()}, {"error", result.error()}});
    Json scores = Json::object();
    for (const v1::JudgeResult& judge : result.judges()) scores[judge.judge()] = judge.score();
    for (const auto& [name, value] : result.metrics()) scores[name] = value;
    cases[result.case_id()] = scores;
  }
  out["failed_cases"] = failed;
  out["cases"] = cases;
  return out;
}

std::string MarkdownReport(const ReportInput& input) {
  const v1::Job& job = input.job;
  const Aggregates aggregates = Aggregate(input.results);
  std::string md = absl::StrCat("# Evaluation report: ", job.spec().name().empty() ? job.id() : job.spec().name(), "\n\n");
  absl::StrAppend(&md, "| job | state | dataset (SHA-256) | cases | failed | tokens |\n|---|---|---|---|---|---|\n",
                  "| ", job.id(), " | ", v1::JobState_Name(job.state()), " | `",
                  job.spec().dataset().content_hash().substr(0, 16), "` | ", job.cases_done(), "/",
                  job.cases_total(), " | ", job.cases_failed(), " | ", job.usage().total_tokens(), " |\n\n");
  bool any_score = false, any_pairwise = false;
  for (const auto& [name, stats] : aggregates.judges) (stats.pairwise ? any_pairwise : any_score) = true;
  if (any_score) {
    md += "## Judges (1-5)\n\n| judge | n | mean | 95% CI | 1 | 2 | 3 | 4 | 5 | logprob-weighted | length bias (Spearman) |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|\n";
    for (const auto& [name, stats] : aggregates.judges) {
      if (stats.pairwise) continue;
      std::vector<int> histogram(5, 0);
      for (double score : stats.scores) ++histogram[ScoreBucket(score) - 1];
      const Interval ci = BootstrapMeanInterval(stats.scores);
      auto rho = Spearman(stats.scores, stats.lengths);
      absl::StrAppend(&md, "| ", MarkdownCell(name), " | ", stats.scores.size(), " | ", Fixed(Mean(stats.scores), 2),
                      " | [", Fixed(ci.low, 2), ", ", Fixed(ci.high, 2), "] | ", absl::StrJoin(histogram, " | "),
                      " | ", stats.weighted, "/", stats.scores.size(), " | ",
                      rho.has_value() ? Fixed(*rho, 2) : "n/a", " |\n");
    }
    md += "\n";
  }
  if (any_pairwise) {
    md += "## Pairwise (output vs output_b, both orders)\n\n| judge | n | output wins | ties | output_b wins | win rate | 95% CI |\n"
          "|---|---|---|---|---|---|---|\n";
    for (const auto& [name, stats] : aggregates.judges) {
      if (!stats.pairwise) continue;
      const int64_t n = static_cast<int64_t>(stats.scores.size());
      const Interval ci = WilsonInterval(WinShare(stats), n);
      absl::StrAppend(&md, "| ", MarkdownCell(name), " | ", n, " | ", stats.wins_a, " | ", stats.ties, " | ",
                      stats.wins_b, " | ", Fixed(n > 0 ? WinShare(stats) / n : 0, 3), " | [", Fixed(ci.low, 3),
                      ", ", Fixed(ci.high, 3), "] |\n");
    }
    md += "\n";
  }
  if (!aggregates.metrics.empty()) {
    md += "## Metrics\n\n| metric | n | mean | 95% CI |\n|---|---|---|---|\n";
    for (const auto& [name, stats] : aggregates.metrics) {
      const Interval ci = BootstrapMeanInterval(stats.values);
      absl::StrAppend(&md, "| ", name, " | ", stats.values.size(), " | ", Fixed(Mean(stats.values)), " | [",
                      Fixed(ci.low), ", ", Fixed(ci.high), "] |\n");
    }
    md += "\n";
  }
  const auto calibrations = Calibrations(input);
  if (!calibrations.empty()) {
    md += "## Judge vs human\n\n| judge | labelled | Cohen's kappa | quadratic kappa | Spearman |\n|---|---|---|---|---|\n";
    for (const auto& [judge, report] : calibrations) {
      absl::StrAppend(&md, "| ", MarkdownCell(judge), " | ", report.labelled_cases(), " | ",
                      Fixed(report.cohen_kappa()), " | ", Fixed(report.quadratic_kappa()), " | ",
                      Fixed(report.spearman()), " |\n");
    }
    md += "\n";
  }
  int shown = 0;
  for (const v1::CaseResult& result : input.results) {
    if (result.error().empty()) continue;
    if (shown == 0) md += "## Failed cases\n\n";
    if (++shown > 20) {
      md += "- ...\n";
      break;
    }
    absl::StrAppend(&md, "- `", result.case_id(), "`: ", MarkdownCell(result.error()), "\n");
  }
  return md;
}

std::string HtmlReport(const ReportInput& input) {
  const v1::Job& job = input.job;
  const Aggregates aggregates = Aggregate(input.results);
  const std::string title =
      absl::StrCat("Evaluation report: ", job.spec().name().empty() ? job.id() : job.spec().name());
  std::string html = absl::StrCat("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>",
                                  HtmlEscape(title), "</title>\n<style>", kStyle, "</style>\n</head>\n<body>\n<h1>",
                                  HtmlEscape(title), "</h1>\n");
  absl::StrAppend(&html, "<table class=\"meta\"><tr><th>job</th><th>state</th><th>dataset (SHA-256)</th>"
                         "<th>cases</th><th>failed</th><th>tokens</th></tr>\n<tr><td>",
                  HtmlEscape(job.id()), "</td><td>", v1::JobState_Name(job.state()), "</td><td><code>",
                  HtmlEscape(job.spec().dataset().content_hash()), "</code></td><td>", job.cases_done(), "/",
                  job.cases_total(), "</td><td>", job.cases_failed(), "</td><td>", job.usage().total_tokens(),
                  "</td></tr></table>\n");
  bool any_score = false, any_pairwise = false;
  for (const auto& [name, stats] : aggregates.judges) (stats.pairwise ? any_pairwise : any_score) = true;
  if (any_score) {
    html += "<h2>Score distributions</h2>\n";
    for (const auto& [name, stats] : aggregates.judges) {
      if (stats.pairwise) continue;
      absl::StrAppend(&html, "<figure>\n", HistogramSvg(name, stats), "<figcaption>", HtmlEscape(name),
                      ": mean ", Fixed(Mean(stats.scores), 2), " over ", stats.scores.size(),
                      " cases</figcaption>\n</figure>\n");
    }
  }
  if (!aggregates.judges.empty() || !aggregates.metrics.empty()) {
    absl::StrAppend(&html, "<h2>Per-criterion means</h2>\n<figure>\n", CriterionBarsSvg(aggregates),
                    "<figcaption>Bars: means on a 0-1 scale (1-5 judges as (mean - 1) / 4); lines: 95% "
                    "intervals (bootstrap; Wilson for win rates)</figcaption>\n</figure>\n");
  }
  if (any_pairwise) {
    absl::StrAppend(&html, "<h2>Pairwise win rates</h2>\n<figure>\n", WinRateSvg(aggregates),
                    "<figcaption>Green: output wins; grey: ties (including orders that disagreed); red: "
                    "output_b wins; dot and line: win rate (ties count half) with its 95% Wilson "
                    "interval</figcaption>\n</figure>\n");
  }
  const auto calibrations = Calibrations(input);
  if (!calibrations.empty()) {
    html += "<h2>Judge vs human</h2>\n";
    for (const auto& [judge, report] : calibrations) {
      absl::StrAppend(&html, "<figure>\n", ConfusionSvg(judge, report), "<figcaption>", HtmlEscape(judge),
                      ": kappa ", Fixed(report.cohen_kappa()), ", quadratic kappa ",
                      Fixed(report.quadratic_kappa()), ", Spearman ", Fixed(report.spearman()), " (",
                      report.labelled_cases(), " labelled cases)</figcaption>\n</figure>\n");
    }
  }
  std::string failed;
  for (const v1::CaseResult& result : input.results) {
    if (!result.error().empty()) {
      absl::StrAppend(&failed, "<li><code>", HtmlEscape(result.case_id()), "</code>: ", HtmlEscape(result.error()),
                      "</li>\n");
    }
  }
  if (!failed.empty()) absl::StrAppend(&html, "<h2>Failed cases</h2>\n<ul>\n", failed, "</ul>\n");
  html += "</body>\n</html>\n";
  return html;
}

absl::StatusOr<std::string> WriteReports(const ReportInput& input, const std::string& directory) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) {
    return absl::InternalError(absl::StrCat("cannot create ", directory, ": ", error.message()));
  }
  const std::vector<std::pair<std::string, std::string>> files = {
      {"report.md", MarkdownReport(input)},
      {"report.json", DumpJson(JsonSummary(input), 2) + "\n"},
      {"report.html", HtmlReport(input)}};
  for (const auto& [name, text] : files) {
    const std::string path = directory + "/" + name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  }
  return directory + "/report.html";
}

absl::StatusOr<std::vector<ScoreComparison>> CompareRuns(const Json& base, const Json& candidate) {
  auto cases_of = [](const Json& summary, const char* which) -> absl::StatusOr<const Json*> {
    if (!summary.is_object() || !summary.contains("cases") || !summary["cases"].is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the ", which, " summary has no per-case scores (\"cases\")"));
    }
    return &summary["cases"];
  };
  auto base_cases = cases_of(base, "base");
  if (!base_cases.ok()) return base_cases.status();
  auto candidate_cases = cases_of(candidate, "candidate");
  if (!candidate_cases.ok()) return candidate_cases.status();
  std::map<std::string, std::vector<std::pair<double, double>>> paired;
  for (const auto& [case_id, scores] : (*base_cases)->items()) {
    auto other = (*candidate_cases)->find(case_id);
    if (other == (*candidate_cases)->end() || !scores.is_object() || !other->is_object()) continue;
    for (const auto& [key, value] : scores.items()) {
      auto matching = other->find(key);
      if (matching == other->end() || !value.is_number() || !matching->is_number()) continue;
      paired[key].push_back({value.get<double>(), matching->get<double>()});
    }
  }
  if (paired.empty()) return absl::InvalidArgumentError("the two runs share no scored case");
  std::vector<ScoreComparison> comparisons;
  for (const auto& [key, pairs] : paired) {
    ScoreComparison comparison;
    comparison.key = key;
    std::vector<double> base_values, candidate_values, differences;
    for (const auto& [b, c] : pairs) {
      base_values.push_back(b);
      candidate_values.push_back(c);
      differences.push_back(c - b);
    }
    comparison.base_mean = Mean(base_values);
    comparison.candidate_mean = Mean(candidate_values);
    comparison.test = PairedBootstrap(differences);
    const bool significant = comparison.test.p_value < 0.05;
    comparison.regression = significant && comparison.test.mean_difference < 0;
    comparison.improvement = significant && comparison.test.mean_difference > 0;
    comparisons.push_back(comparison);
  }
  return comparisons;
}

std::string ComparisonMarkdown(const std::vector<ScoreComparison>& comparisons) {
  std::string md =
      "| score | cases | base | candidate | change | 95% CI | p (bootstrap) | verdict |\n"
      "|---|---|---|---|---|---|---|---|\n";
  for (const ScoreComparison& c : comparisons) {
    absl::StrAppend(&md, "| ", MarkdownCell(c.key), " | ", c.test.n, " | ", Fixed(c.base_mean), " | ",
                    Fixed(c.candidate_mean), " | ", absl::StrFormat("%+.3f", c.test.mean_difference), " | [",
                    Fixed(c.test.interval.low), ", ", Fixed(c.test.interval.high), "] | ",
                    Fixed(c.test.p_value, 4), " | ",
                    c.regression ? "REGRESSION" : c.improvement ? "improvement" : "no significant change",
                    " |\n");
  }
  return md;
}

}  // namespace tessera::eval

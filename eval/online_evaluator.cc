#include "eval/online_evaluator.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "eval/job_spec.h"
#include "eval/judges.h"
#include "eval/model_call.h"

namespace tessera::eval {
namespace {

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS eval_online_scores (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant TEXT NOT NULL,
  request_id TEXT NOT NULL,
  route TEXT NOT NULL,
  variant TEXT NOT NULL,
  judge TEXT NOT NULL,
  score REAL,
  error TEXT NOT NULL DEFAULT '',
  prompt TEXT NOT NULL,
  output TEXT NOT NULL,
  created_us INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS eval_online_by_variant ON eval_online_scores (route, variant);
CREATE INDEX IF NOT EXISTS eval_online_by_tenant ON eval_online_scores (tenant, request_id);
)sql";

// What is kept of a prompt or output: enough to review a score.
constexpr size_t kMaxStoredBytes = 16 * 1024;

constexpr char kSampled[] = "tessera_online_eval_sampled_total";
constexpr char kDropped[] = "tessera_online_eval_dropped_total";
constexpr char kJudged[] = "tessera_online_eval_judged_total";
constexpr char kFailed[] = "tessera_online_eval_judge_failures_total";
constexpr char kMeanScore[] = "tessera_online_eval_mean_score";
constexpr char kFeedback[] = "tessera_online_eval_feedback";
constexpr char kPositiveRate[] = "tessera_online_eval_feedback_positive_rate";
constexpr char kQueueDepth[] = "tessera_online_eval_queue_depth";

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::string Clip(const std::string& text) {
  return text.size() <= kMaxStoredBytes ? text : text.substr(0, kMaxStoredBytes);
}

// +1 positive, -1 negative, 0 no opinion (comment or correction only).
int Polarity(const tessera::common::v1::Feedback& feedback) {
  using tessera::common::v1::Feedback;
  if (feedback.rating() == Feedback::THUMBS_UP) return 1;
  if (feedback.rating() == Feedback::THUMBS_DOWN) return -1;
  if (feedback.score() >= 4) return 1;
  if (feedback.score() >= 1) return -1;
  return 0;
}

absl::Status FieldError(const std::string& field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("online_eval.", field, ": ", problem));
}

}  // namespace

struct OnlineEvaluator::RouteState {
  OnlineRouteConfig config;
  std::string judge_name;
  std::shared_ptr<agents::ChatModel> model;
  absl::Mutex steps_mu;
  std::optional<std::string> steps ABSL_GUARDED_BY(steps_mu);  // G-Eval, written once
};

absl::StatusOr<OnlineEvalConfig> ParseOnlineEvalConfig(const Json& json) {
  if (!json.is_object()) return FieldError("", absl::StrCat("an object, not ", JsonTypeName(json)));
  OnlineEvalConfig config;
  auto read_int = [&](const char* key, int64_t low, int64_t* out) -> absl::Status {
    if (!json.contains(key)) return absl::OkStatus();
    const Json& value = json[key];
    if (!value.is_number_integer() || value.get<int64_t>() < low) {
      return FieldError(key, absl::StrCat("an integer >= ", low));
    }
    *out = value.get<int64_t>();
    return absl::OkStatus();
  };
  int64_t capacity = static_cast<int64_t>(config.queue_capacity), concurrency = config.concurrency,
          window = config.feedback_window, min_scored = config.min_scored,
          refresh = absl::ToInt64Seconds(config.refresh_interval);
  for (auto [key, low, out] : {std::tuple<const char*, int64_t, int64_t*>{"queue_capacity", 1, &capacity},
                               {"concurrency", 1, &concurrency},
                               {"feedback_window", 1, &window},
                               {"min_scored", 1, &min_scored},
                               {"refresh_seconds", 1, &refresh}}) {
    if (absl::Status status = read_int(key, low, out); !status.ok()) return status;
  }
  if (concurrency > kMaxConcurrency) return FieldError("concurrency", absl::StrCat("at most ", kMaxConcurrency));
  config.queue_capacity = static_cast<size_t>(capacity);
  config.concurrency = static_cast<int>(concurrency);
  config.feedback_window = static_cast<int>(window);
  config.min_scored = static_cast<int>(min_scored);
  config.refresh_interval = absl::Seconds(refresh);
  static const std::set<std::string> kKnown = {"queue_capacity", "concurrency", "feedback_window",
                                               "min_scored",     "refresh_seconds", "routes"};
  for (const auto& [key, value] : json.items()) {
    if (!kKnown.count(key)) return FieldError(key, "unknown field");
  }
  if (!json.contains("routes")) return config;
  if (!json["routes"].is_array()) return FieldError("routes", "a list");
  for (size_t i = 0; i < json["routes"].size(); ++i) {
    const Json& entry = json["routes"][i];
    const std::string where = absl::StrCat("routes[", i, "]");
    if (!entry.is_object()) return FieldError(where, "an object");
    OnlineRouteConfig route;
    if (!entry.contains("route") || !entry["route"].is_string() || entry["route"].get<std::string>().empty()) {
      return FieldError(where + ".route", "a route name is required");
    }
    route.route = entry["route"].get<std::string>();
    if (!entry.contains("sample_rate") || !entry["sample_rate"].is_number()) {
      return FieldError(where + ".sample_rate", "a number from 0 to 1 is required");
    }
    route.sample_rate = entry["sample_rate"].get<double>();
    if (!entry.contains("judge")) return FieldError(where + ".judge", "required");
    // A judge as in job files, parsed by the job spec's own reader.
    auto spec = ParseJobSpec(DumpJson(Json{{"judges", Json::array({entry["judge"]})}}));
    if (!spec.ok()) return FieldError(where + ".judge", spec.status().message());
    route.judge = spec->judges(0);
    for (const auto& [key, value] : entry.items()) {
      if (key != "route" && key != "sample_rate" && key != "judge") return FieldError(where + "." + key, "unknown field");
    }
    config.routes.push_back(std::move(route));
  }
  return config;
}

absl::StatusOr<std::unique_ptr<OnlineEvaluator>> OnlineEvaluator::Create(OnlineEvaluatorOptions options) {
  const OnlineEvalConfig& config = options.config;
  if (config.queue_capacity == 0) return FieldError("queue_capacity", "at least 1");
  if (config.concurrency < 1) return FieldError("concurrency", "at least 1");
  if (options.models == nullptr) options.models = std::make_shared<agents::ModelRegistry>();
  std::map<std::string, std::unique_ptr<RouteState>> routes;
  for (size_t i = 0; i < config.routes.size(); ++i) {
    const OnlineRouteConfig& route = config.routes[i];
    const std::string where = absl::StrCat("routes[", i, "]");
    if (!(route.sample_rate >= 0 && route.sample_rate <= 1)) {
      return FieldError(where + ".sample_rate", absl::StrCat(route.sample_rate, " is not within 0..1"));
    }
    if (route.judge.kind() != v1::Judge::POINTWISE && route.judge.kind() != v1::Judge::G_EVAL) {
      return FieldError(where + ".judge.kind",
                        "POINTWISE or G_EVAL (a live exchange has one output, so no PAIRWISE)");
    }
    if (routes.count(route.route)) return FieldError(where + ".route", absl::StrCat("\"", route.route, "\" twice"));
    auto state = std::make_unique<RouteState>();
    state->config = route;
    state->judge_name = JudgeName(route.judge);
    state->model = options.models->Find(route.judge.model());
    if (state->model == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "online_eval.", where, ".judge: model \"", route.judge.model(), "\" is not available",
          route.judge.model().empty() ? " (no default model: the server has no generator loaded)" : ""));
    }
    routes[route.route] = std::move(state);
  }
  auto db = SqliteDatabase::Open(options.database_path);
  if (!db.ok()) return db.status();
  if (absl::Status status = (*db)->Execute(kSchema); !status.ok()) return status;
  if (options.seed == 0) options.seed = static_cast<uint64_t>(absl::GetCurrentTimeNanos());
  auto evaluator = std::unique_ptr<OnlineEvaluator>(new OnlineEvaluator(std::move(options), std::move(*db)));
  evaluator->routes_ = std::move(routes);
  evaluator->Refresh();  // figures of earlier runs are exported from the start
  for (int w = 0; w < evaluator->options_.config.concurrency; ++w) {
    evaluator->workers_.emplace_back([raw = evaluator.get()] { raw->Work(); });
  }
  return evaluator;
}

OnlineEvaluator::OnlineEvaluator(OnlineEvaluatorOptions options, std::unique_ptr<SqliteDatabase> db)
    : options_(std::move(options)), db_(std::move(db)) {
  MetricsRegistry* metrics = options_.metrics;
  metrics->Describe(kSampled, "Live exchanges sampled for online evaluation.");
  metrics->Describe(kDropped, "Sampled exchanges dropped because the judging queue was full.");
  metrics->Describe(kJudged, "Sampled exchanges the online judge scored.");
  metrics->Describe(kFailed, "Sampled exchanges the online judge gave no score.");
  metrics->Describe(kMeanScore, "Mean online judge score (1-5) per route and variant.");
  metrics->Describe(kFeedback, "Judged exchanges with user feedback (thumbs or rating).");
  metrics->Describe(kPositiveRate, "Share of positive user feedback on judged exchanges.");
  metrics->Describe(kQueueDepth, "Exchanges waiting for the online judge.");
}

OnlineEvaluator::~OnlineEvaluator() {
  size_t abandoned = 0;
  {
    absl::MutexLock lock(&queue_mu_);
    stop_ = true;
    abandoned = queue_.size();
    queue_.clear();
  }
  for (std::thread& worker : workers_) worker.join();
  if (abandoned > 0) spdlog::info("online eval: {} queued exchanges not judged at shutdown", abandoned);
}

bool OnlineEvaluator::Sample(double rate) {
  if (rate <= 0) return false;
  if (rate >= 1) return true;
  const uint64_t draw = SplitMix64(options_.seed + draws_.fetch_add(1, std::memory_order_relaxed));
  return static_cast<double>(draw >> 11) * 0x1.0p-53 < rate;
}

void OnlineEvaluator::OnCompleted(const gateway::CompletedExchange& exchange) {
  if (exchange.cache_hit || exchange.route.empty()) return;  // a cached answer was judged already
  auto found = routes_.find(exchange.route);
  if (found == routes_.end() || !Sample(found->second->config.sample_rate)) return;
  const MetricLabels labels = {{"route", exchange.route}, {"variant", exchange.variant}};
  size_t depth = 0;
  {
    absl::MutexLock lock(&queue_mu_);
    if (stop_) return;
    if (queue_.size() >= options_.config.queue_capacity) {
      ++dropped_;
      options_.metrics->IncrementCounter(kDropped, labels);
      return;
    }
    queue_.push_back(Pending{exchange, found->second.get()});
    depth = queue_.size();
  }
  ++sampled_;
  options_.metrics->IncrementCounter(kSampled, labels);
  options_.metrics->SetGauge(kQueueDepth, {}, static_cast<double>(depth));
}

void OnlineEvaluator::Work() {
  while (true) {
    Pending pending;
    bool have = false;
    {
      absl::MutexLock lock(&queue_mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_) { return stop_ || !queue_.empty(); };
      queue_mu_.AwaitWithTimeout(absl::Condition(&ready), options_.config.refresh_interval);
      if (stop_) return;
      if (!queue_.empty()) {
        pending = std::move(queue_.front());
        queue_.pop_front();
        ++in_flight_;
        have = true;
        options_.metrics->SetGauge(kQueueDepth, {}, static_cast<double>(queue_.size()));
      }
    }
    if (have) Judge(pending);
    // Also when idle: feedback given since the last judged exchange.
    Refresh();
    if (have) {
      absl::MutexLock lock(&queue_mu_);
      --in_flight_;
    }
  }
}

void OnlineEvaluator::Judge(const Pending& pending) {
  RouteState& route = *pending.route;
  const v1::Judge& judge = route.config.judge;
  v1::EvalCase c;
  c.set_id(pending.exchange.request_id);
  c.set_input(pending.exchange.prompt);
  c.set_output(pending.exchange.output);
  ModelCaller caller(route.model.get(), JudgeSampling(judge.sampling()));
  absl::StatusOr<v1::JudgeResult> result;
  if (judge.kind() == v1::Judge::G_EVAL) {
    std::string steps;
    {
      absl::MutexLock lock(&route.steps_mu);
      if (!route.steps.has_value()) {
        auto written = GEvalSteps(caller, judge);
        if (written.ok()) route.steps = *written;
        else result = written.status();
      }
      if (route.steps.has_value()) steps = *route.steps;
    }
    if (!steps.empty()) result = JudgeGEval(caller, judge, steps, c);
  } else {
    result = JudgePointwise(caller, judge, c);
  }
  const MetricLabels labels = {{"route", pending.exchange.route}, {"variant", pending.exchange.variant}};
  if (result.ok()) {
    ++judged_;
    options_.metrics->IncrementCounter(kJudged, labels);
  } else {
    ++failed_;
    options_.metrics->IncrementCounter(kFailed, labels);
  }
  absl::Status stored = Store(pending.exchange, route.judge_name, result);
  if (!stored.ok()) spdlog::warn("online eval: cannot store a score: {}", stored.ToString());
}

absl::Status OnlineEvaluator::Store(const gateway::CompletedExchange& exchange, const std::string& judge,
                                    const absl::StatusOr<v1::JudgeResult>& result) {
  absl::MutexLock lock(&db_mu_);
  auto insert = db_->Prepare(
      "INSERT INTO eval_online_scores (tenant, request_id, route, variant, judge, score, error, prompt, "
      "output, created_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!insert.ok()) return insert.status();
  insert->BindText(1, exchange.tenant)
      .BindText(2, exchange.request_id)
      .BindText(3, exchange.route)
      .BindText(4, exchange.variant)
      .BindText(5, judge);
  if (result.ok()) {
    insert->Bind(6, result->score()).BindText(7, "");
  } else {
    insert->BindNull(6).BindText(7, result.status().message());
  }
  insert->BindText(8, Clip(exchange.prompt))
      .BindText(9, Clip(exchange.output))
      .Bind(10, static_cast<int64_t>(absl::ToUnixMicros(absl::Now())));
  auto done = insert->Step();
  return done.ok() ? absl::OkStatus() : done.status();
}

absl::StatusOr<std::vector<VariantSummary>> OnlineEvaluator::Summary(const std::string& tenant) {
  std::map<std::pair<std::string, std::string>, VariantSummary> by_variant;
  struct Judged {
    std::string tenant, request_id, route, variant;
  };
  std::vector<Judged> recent;
  {
    absl::MutexLock lock(&db_mu_);
    auto totals = db_->Prepare(
        "SELECT route, variant, COUNT(score), AVG(score), SUM(score IS NULL) FROM eval_online_scores "
        "WHERE (?1 = '' OR tenant = ?1) GROUP BY route, variant");
    if (!totals.ok()) return totals.status();
    totals->BindText(1, tenant);
    while (true) {
      auto row = totals->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      VariantSummary& summary = by_variant[{totals->ColumnText(0), totals->ColumnText(1)}];
      summary.route = totals->ColumnText(0);
      summary.variant = totals->ColumnText(1);
      summary.judged = totals->ColumnInt(2);
      summary.mean_score = totals->ColumnIsNull(3) ? 0 : totals->ColumnDouble(3);
      summary.failed = totals->ColumnInt(4);
    }
    if (options_.feedback != nullptr) {
      auto latest = db_->Prepare(
          "SELECT tenant, request_id, route, variant FROM eval_online_scores "
          "WHERE request_id != '' AND (?1 = '' OR tenant = ?1) ORDER BY id DESC LIMIT ?2");
      if (!latest.ok()) return latest.status();
      latest->BindText(1, tenant).Bind(2, static_cast<int64_t>(options_.config.feedback_window));
      while (true) {
        auto row = latest->Step();
        if (!row.ok()) return row.status();
        if (!*row) break;
        recent.push_back({latest->ColumnText(0), latest->ColumnText(1), latest->ColumnText(2),
                          latest->ColumnText(3)});
      }
    }
  }
  // Feedback by request id, outside the store's lock (another database).
  std::map<std::pair<std::string, std::string>, int64_t> positive;
  std::set<std::pair<std::string, std::string>> seen;  // an exchange judged twice counts once
  for (const Judged& judged : recent) {
    if (!seen.insert({judged.tenant, judged.request_id}).second) continue;
    auto feedback = options_.feedback->List(judged.tenant, judged.request_id);
    if (!feedback.ok()) return feedback.status();
    int polarity = 0;
    for (const auto& item : *feedback) {
      if (Polarity(item) != 0) polarity = Polarity(item);  // the latest opinion wins
    }
    if (polarity == 0) continue;
    VariantSummary& summary = by_variant[{judged.route, judged.variant}];
    ++summary.feedback;
    if (polarity > 0) ++positive[{judged.route, judged.variant}];
  }
  std::vector<VariantSummary> summaries;
  for (auto& [key, summary] : by_variant) {
    if (summary.feedback > 0) {
      summary.feedback_positive_rate = static_cast<double>(positive[key]) / static_cast<double>(summary.feedback);
    }
    summaries.push_back(summary);
  }
  return summaries;
}

void OnlineEvaluator::Refresh() {
  absl::MutexLock refreshing(&refresh_mu_);
  auto summaries = Summary("");
  if (!summaries.ok()) {
    spdlog::warn("online eval: cannot summarise scores: {}", summaries.status().ToString());
    return;
  }
  std::map<std::pair<std::string, std::string>, VariantSummary> latest;
  for (const VariantSummary& summary : *summaries) {
    const MetricLabels labels = {{"route", summary.route}, {"variant", summary.variant}};
    if (summary.judged > 0) options_.metrics->SetGauge(kMeanScore, labels, summary.mean_score);
    options_.metrics->SetGauge(kFeedback, labels, static_cast<double>(summary.feedback));
    if (summary.feedback > 0) options_.metrics->SetGauge(kPositiveRate, labels, summary.feedback_positive_rate);
    latest[{summary.route, summary.variant}] = summary;
  }
  absl::MutexLock lock(&scores_mu_);
  latest_ = std::move(latest);
}

std::optional<double> OnlineEvaluator::QualityScore(const std::string& route, const std::string& variant) const {
  absl::MutexLock lock(&scores_mu_);
  auto found = latest_.find({route, variant});
  if (found == latest_.end() || found->second.judged < options_.config.min_scored) return std::nullopt;
  return found->second.mean_score;
}

bool OnlineEvaluator::WaitIdle(absl::Duration timeout) {
  absl::MutexLock lock(&queue_mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_) { return queue_.empty() && in_flight_ == 0; };
  return queue_mu_.AwaitWithTimeout(absl::Condition(&idle), timeout);
}

OnlineEvaluator::Counters OnlineEvaluator::counters() const {
  return Counters{sampled_.load(), dropped_.load(), judged_.load(), failed_.load()};
}

}  // namespace tessera::eval

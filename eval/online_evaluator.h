// Online evaluation of live router traffic: a configured share of the completed
// exchanges of each route is judged asynchronously with the job runner's
// judges (pointwise or G-Eval, the judge model resolved in the same registry),
// scores are stored per tenant in SQLite, user feedback (thumbs/ratings by
// request id from the gateway's feedback store) is joined to them, and per
// (route, variant) figures are exported as Prometheus metrics and as a
// quality score the router's canary policy can consult.
//
// The request path only samples and enqueues: the queue is bounded and an
// exchange that finds it full is dropped and counted, never waited for.
#ifndef TESSERA_EVAL_ONLINE_EVALUATOR_H_
#define TESSERA_EVAL_ONLINE_EVALUATOR_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agents/chat_model.h"
#include "common/json.h"
#include "common/metrics.h"
#include "common/sqlite.h"
#include "gateway/feedback_store.h"
#include "gateway/traffic_observer.h"
#include "tessera/eval/v1/eval.pb.h"

namespace tessera::eval {

struct OnlineRouteConfig {
  std::string route;
  double sample_rate = 0;  // 0..1
  v1::Judge judge;         // POINTWISE or G_EVAL; judge.model "" = the default model
};

struct OnlineEvalConfig {
  std::vector<OnlineRouteConfig> routes;
  size_t queue_capacity = 256;
  int concurrency = 1;  // judging workers
  // Feedback is joined over this many most recent judged exchanges.
  int feedback_window = 1000;
  // Feedback arriving after an exchange was judged is picked up this often.
  absl::Duration refresh_interval = absl::Seconds(10);
  // A variant needs this many scored exchanges before QualityScore answers.
  int min_scored = 1;
};

// The "online_eval" section of the server config:
// {"queue_capacity": 256, "concurrency": 1, "feedback_window": 1000,
//  "refresh_seconds": 10, "min_scored": 5,
//  "routes": [{"route": "chat", "sample_rate": 0.05,
//              "judge": {"kind": "g_eval", "criterion": "helpfulness"}}]}
// (a judge as in job files). InvalidArgument naming the field.
absl::StatusOr<OnlineEvalConfig> ParseOnlineEvalConfig(const Json& json);

struct VariantSummary {
  std::string route;
  std::string variant;
  int64_t judged = 0;  // scored exchanges
  int64_t failed = 0;  // judge calls that gave no score
  double mean_score = 0;  // over the scored ones (1-5)
  int64_t feedback = 0;   // judged exchanges with thumbs or a rating
  double feedback_positive_rate = 0;  // thumbs up or rating >= 4, over `feedback`
};

struct OnlineEvaluatorOptions {
  OnlineEvalConfig config;
  std::string database_path;  // e.g. <data_dir>/eval.db
  std::shared_ptr<agents::ModelRegistry> models;
  gateway::FeedbackStore* feedback = nullptr;  // may be null (no feedback join)
  MetricsRegistry* metrics = &MetricsRegistry::Global();
  uint64_t seed = 0;  // sampling; 0 = from the clock
};

class OnlineEvaluator final : public gateway::TrafficObserver {
 public:
  // Checks the config (rates, judge kinds, judge models present) and starts
  // the workers.
  static absl::StatusOr<std::unique_ptr<OnlineEvaluator>> Create(OnlineEvaluatorOptions options);
  // Stops the workers after the exchanges being judged; queued ones are dropped.
  ~OnlineEvaluator() override;

  // Request path: samples and enqueues; never blocks on judging.
  void OnCompleted(const gateway::CompletedExchange& exchange) override;

  // True once nothing is queued or being judged (false after `timeout`).
  bool WaitIdle(absl::Duration timeout);

  // Per (route, variant), sorted; `tenant` "" = every tenant.
  absl::StatusOr<std::vector<VariantSummary>> Summary(const std::string& tenant = "");
  // Mean judge score (1-5) of a variant over every tenant, once it has
  // `min_scored` scores; nullopt before. Cheap (cached; refreshed after each
  // judged exchange and every refresh_interval).
  std::optional<double> QualityScore(const std::string& route, const std::string& variant) const;

  struct Counters {
    int64_t sampled = 0;
    int64_t dropped = 0;  // queue full
    int64_t judged = 0;
    int64_t failed = 0;
  };
  Counters counters() const;

 private:
  struct RouteState;
  struct Pending {
    gateway::CompletedExchange exchange;
    RouteState* route = nullptr;
  };

  OnlineEvaluator(OnlineEvaluatorOptions options, std::unique_ptr<SqliteDatabase> db);
  void Work();
  void Judge(const Pending& pending);
  absl::Status Store(const gateway::CompletedExchange& exchange, const std::string& judge,
                     const absl::StatusOr<v1::JudgeResult>& result);
  // Recomputes the per-variant summaries and exports them.
  void Refresh();
  bool Sample(double rate);

  OnlineEvaluatorOptions options_;
  std::map<std::string, std::unique_ptr<RouteState>> routes_;  // fixed after Create
  std::atomic<uint64_t> draws_{0};
  std::atomic<int64_t> sampled_{0}, dropped_{0}, judged_{0}, failed_{0};

  mutable absl::Mutex queue_mu_;
  std::deque<Pending> queue_ ABSL_GUARDED_BY(queue_mu_);
  int in_flight_ ABSL_GUARDED_BY(queue_mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(queue_mu_) = false;

  absl::Mutex db_mu_;
  std::unique_ptr<SqliteDatabase> db_ ABSL_GUARDED_BY(db_mu_);

  absl::Mutex refresh_mu_;  // one refresh at a time
  mutable absl::Mutex scores_mu_;
  std::map<std::pair<std::string, std::string>, VariantSummary> latest_ ABSL_GUARDED_BY(scores_mu_);

  std::vector<std::thread> workers_;
};

}  // namespace tessera::eval

#endif  // TESSERA_EVAL_ONLINE_EVALUATOR_H_

#include "eval/job_runner.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "eval/calibration.h"
#include "eval/job_spec.h"
#include "eval/judges.h"
#include "eval/rag_metrics.h"
#include "eval/report.h"
#include "eval/retrieval_metrics.h"
#include "gateway/rate_limiter.h"

namespace tessera::eval {
namespace {

constexpr char kDefaultRagTemplate[] =
    "Answer the question using only the context below.\n\nContext:\n{context}\n\nQuestion: "
    "{question}\nAnswer:";
constexpr int kDefaultRagTopK = 5;
// Documents ranked for retrieval metrics (Recall@100), from twice as many
// passages since a document's chunks collapse into one entry (as `tessera
// eval retrieval` does).
constexpr int kRankingDepth = 100;

absl::StatusOr<std::shared_ptr<agents::ChatModel>> FindModel(const agents::ModelRegistry& models,
                                                            const std::string& name,
                                                            const std::string& user) {
  std::shared_ptr<agents::ChatModel> model = models.Find(name);
  if (model != nullptr) return model;
  return absl::FailedPreconditionError(absl::StrCat(
      user, ": model \"", name, "\" is not available",
      name.empty() ? " (no default model: the server has no generator loaded)" : ""));
}

bool NeedsJudgedMetric(const v1::JobSpec& spec) {
  for (int metric : spec.metrics()) {
    if (!IsRetrievalMetric(static_cast<v1::Metric>(metric))) return true;
  }
  return false;
}

bool NeedsRanking(const v1::JobSpec& spec) {
  for (int metric : spec.metrics()) {
    if (IsRetrievalMetric(static_cast<v1::Metric>(metric))) return true;
  }
  return false;
}

std::string TargetModelName(const v1::Target& target) {
  return target.has_rag() ? target.rag().model() : target.model();
}

bool HasGeneratingTarget(const v1::Target& target) {
  return target.kind_case() == v1::Target::kModel || target.has_rag();
}

agents::SamplingParams TargetSampling() {
  agents::SamplingParams sampling;
  sampling.set_temperature(0);
  sampling.set_max_tokens(256);
  return sampling;
}

absl::StatusOr<double> RetrievalMetric(v1::Metric metric, const std::vector<std::string>& ranking,
                                       const v1::EvalCase& c) {
  auto relevant = c.labels().find(kRelevantLabel);
  if (relevant == c.labels().end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("case has no labels.relevant (judged documents; see dataset.qrels_path)"));
  }
  auto judgments = ParseRelevantLabel(relevant->second);
  if (!judgments.ok()) return judgments.status();
  switch (metric) {
    case v1::NDCG_AT_10:
      return NdcgAtK(ranking, *judgments, 10);
    case v1::RECALL_AT_100:
      return RecallAtK(ranking, *judgments, 100);
    case v1::MRR:
      return ReciprocalRankAtK(ranking, *judgments, 10);
    default:
      return AveragePrecision(ranking, *judgments);
  }
}

absl::StatusOr<MetricValue> JudgedMetric(v1::Metric metric, ModelCaller& caller,
                                         const v1::EvalCase& c) {
  switch (metric) {
    case v1::FAITHFULNESS:
      return Faithfulness(caller, c);
    case v1::ANSWER_RELEVANCE:
      return AnswerRelevance(caller, c);
    case v1::CONTEXT_PRECISION:
      return ContextPrecision(caller, c);
    default:
      return ContextRecall(caller, c);
  }
}

}  // namespace

struct JobRunner::Plan {
  StoredJob stored;
  Cases cases;
  std::vector<std::shared_ptr<agents::ChatModel>> judge_models;
  std::shared_ptr<agents::ChatModel> metrics_model;
  std::shared_ptr<agents::ChatModel> target_model;
  std::map<std::string, std::string> steps;  // G-Eval steps by judge name.
  std::unique_ptr<gateway::RateLimiter> limiter;
  std::vector<size_t> pending;  // Dataset positions still to evaluate.
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  absl::Mutex mu;
  absl::Status fatal ABSL_GUARDED_BY(mu);
};

namespace {

struct CaseOutcome {
  v1::CaseResult result;
  bool failed = false;
  int judge_calls = 0;  // Model calls of the judges (not the target or metrics).
  std::optional<v1::ReviewItem> review;
};

}  // namespace

absl::Status CheckJobModels(const v1::JobSpec& spec, const agents::ModelRegistry& models,
                            const agents::Retriever* retriever, const GraphRunner* graphs) {
  for (const v1::Judge& judge : spec.judges()) {
    auto model = FindModel(models, judge.model(), absl::StrCat("judge \"", JudgeName(judge), "\""));
    if (!model.ok()) return model.status();
  }
  if (NeedsJudgedMetric(spec)) {
    auto model = FindModel(models, spec.metrics_model(), "metrics_model");
    if (!model.ok()) return model.status();
  }
  if (HasGeneratingTarget(spec.target())) {
    auto model = FindModel(models, TargetModelName(spec.target()), "target");
    if (!model.ok()) return model.status();
  }
  if (spec.target().has_rag() && retriever == nullptr) {
    return absl::FailedPreconditionError("target.rag: this server has no retriever");
  }
  if (spec.target().kind_case() == v1::Target::kGraphId && graphs == nullptr) {
    return absl::FailedPreconditionError("target.graph_id: this server runs no agent graphs");
  }
  return absl::OkStatus();
}

JobRunner::JobRunner(JobResources resources, std::string job_id, JobProgress progress)
    : resources_(std::move(resources)), job_id_(std::move(job_id)), progress_(std::move(progress)) {
  if (!resources_.sleep) resources_.sleep = [](absl::Duration d) { absl::SleepFor(d); };
  if (resources_.clock == nullptr) resources_.clock = gateway::Clock::Real();
}

JobRunner::~JobRunner() {
  RequestStop();
  Wait();
}

void JobRunner::Start() {
  thread_ = std::thread([this] {
    absl::Status status = Execute();
    if (!status.ok()) {
      spdlog::warn("eval job {} failed: {}", job_id_, status.ToString());
      auto job = resources_.store->UpdateJob(job_id_, v1::FAILED, std::string(status.message()));
      if (job.ok()) Report(*job);
    }
    finished_ = true;
  });
}

void JobRunner::RequestStop() { stop_ = true; }

void JobRunner::Wait() {
  if (thread_.joinable()) thread_.join();
}

void JobRunner::Report(const v1::Job& job) {
  if (progress_) progress_(job);
}

absl::Status JobRunner::Admit() {
  if (plan_ == nullptr || plan_->limiter == nullptr) return absl::OkStatus();
  while (true) {
    if (stop_ || plan_->failed) return absl::CancelledError("the job is stopping");
    gateway::RateDecision decision = plan_->limiter->Acquire(job_id_, 0);
    if (decision.allowed) return absl::OkStatus();
    // Short naps so that a stop request is seen promptly.
    resources_.sleep(std::min(decision.retry_after, absl::Milliseconds(200)));
  }
}

namespace {

// Evaluates one case. Errors of the target, judges and metrics are recorded
// in the result; only a stop (CANCELLED) is returned as an error.
absl::StatusOr<CaseOutcome> EvaluateCase(const JobRunner::Plan& plan, const JobResources& resources,
                                         const AdmitCall& admit, v1::EvalCase c) {
  const v1::JobSpec& spec = plan.stored.job.spec();
  CaseOutcome outcome;
  v1::CaseResult& result = outcome.result;
  result.set_job_id(plan.stored.job.id());
  result.set_case_id(c.id());
  agents::Usage usage;
  std::vector<std::string> errors;
  auto note = [&](const std::string& who, const absl::Status& status) -> bool {
    if (status.code() == absl::StatusCode::kCancelled) return false;
    errors.push_back(absl::StrCat(who, ": ", status.message()));
    return true;
  };

  std::vector<std::string> ranking;
  bool have_ranking = false;
  const bool rag = spec.target().has_rag();
  if (rag && (c.output().empty() || c.contexts_size() == 0 || NeedsRanking(spec))) {
    const v1::RagTarget& target = spec.target().rag();
    const int top_k = target.top_k() > 0 ? target.top_k() : kDefaultRagTopK;
    const int depth = NeedsRanking(spec) ? std::max(top_k, 2 * kRankingDepth) : top_k;
    auto passages = resources.retriever->Retrieve(plan.stored.tenant, target.collection(), c.input(), depth);
    if (!passages.ok()) {
      note("retrieval", passages.status());
    } else {
      const bool fill_contexts = c.contexts_size() == 0;
      std::set<std::string> seen;
      for (size_t i = 0; i < passages->size(); ++i) {
        const agents::RetrievedPassage& passage = (*passages)[i];
        if (fill_contexts && static_cast<int>(i) < top_k) c.add_contexts(passage.text);
        auto document = passage.metadata.find("document_id");
        std::string id = document != passage.metadata.end() && document->is_string()
                             ? document->get<std::string>()
                             : passage.id;
        if (ranking.size() < kRankingDepth && seen.insert(id).second) ranking.push_back(std::move(id));
      }
      have_ranking = true;
    }
  }
  if (c.output().empty() && spec.target().kind_case() == v1::Target::kGraphId) {
    auto ran = resources.graphs->Run(plan.stored.tenant, spec.target().graph_id(), c);
    if (ran.ok()) {
      c.set_output(ran->output);
      if (c.contexts_size() == 0) {
        for (const std::string& context : ran->contexts) c.add_contexts(context);
      }
      AddUsage(ran->usage, &usage);
    } else {
      note("target", ran.status());
    }
  }
  if (errors.empty() && c.output().empty() && HasGeneratingTarget(spec.target())) {
    ModelCaller caller(plan.target_model.get(), TargetSampling(), admit);
    std::string prompt = c.input();
    if (rag) {
      std::string context;
      for (int i = 0; i < c.contexts_size(); ++i) absl::StrAppend(&context, "[", i + 1, "] ", c.contexts(i), "\n");
      const std::string& pattern = spec.target().rag().prompt_template();
      prompt = absl::StrReplaceAll(pattern.empty() ? kDefaultRagTemplate : pattern,
                                   {{"{context}", context}, {"{question}", c.input()}});
    }
    auto reply = caller.Call("", prompt);
    AddUsage(caller.usage(), &usage);
    if (reply.ok()) {
      c.set_output(reply->text);
    } else if (!note("target", reply.status())) {
      return reply.status();
    }
  }
  result.set_output(c.output());
  if (!errors.empty()) {
    // Without an output (or its retrieval) there is nothing to judge.
    result.set_error(absl::StrJoin(errors, "; "));
    *result.mutable_usage() = usage;
    outcome.failed = true;
    return outcome;
  }

  for (int i = 0; i < spec.judges_size(); ++i) {
    const v1::Judge& judge = spec.judges(i);
    ModelCaller caller(plan.judge_models[i].get(), JudgeSampling(judge.sampling()), admit);
    absl::StatusOr<v1::JudgeResult> judged;
    switch (judge.kind()) {
      case v1::Judge::PAIRWISE:
        judged = JudgePairwise(caller, judge, c);
        break;
      case v1::Judge::G_EVAL:
        judged = JudgeGEval(caller, judge, plan.steps.at(JudgeName(judge)), c);
        break;
      default:
        judged = JudgePointwise(caller, judge, c);
        break;
    }
    AddUsage(caller.usage(), &usage);
    outcome.judge_calls += caller.calls();
    if (judged.ok()) {
      *result.add_judges() = *std::move(judged);
    } else if (!note(absl::StrCat("judge ", JudgeName(judge)), judged.status())) {
      return judged.status();
    }
  }
  for (int metric_number : spec.metrics()) {
    const auto metric = static_cast<v1::Metric>(metric_number);
    const std::string name = MetricName(metric);
    if (IsRetrievalMetric(metric)) {
      std::vector<std::string> listed;
      auto retrieved = c.labels().find("retrieved");
      if (!have_ranking && retrieved != c.labels().end()) {
        listed = absl::StrSplit(retrieved->second, ',', absl::SkipWhitespace());
      }
      if (!have_ranking && listed.empty()) {
        note(name, absl::FailedPreconditionError(
                       "no ranking: use a target.rag or give labels.retrieved (comma-separated ids)"));
        continue;
      }
      auto value = RetrievalMetric(metric, have_ranking ? ranking : listed, c);
      if (value.ok()) {
        (*result.mutable_metrics())[name] = *value;
      } else {
        note(name, value.status());
      }
      continue;
    }
    ModelCaller caller(plan.metrics_model.get(), JudgeSampling({}), admit);
    auto value = JudgedMetric(metric, caller, c);
    AddUsage(caller.usage(), &usage);
    if (value.ok()) {
      (*result.mutable_metrics())[name] = value->value;
    } else if (!note(name, value.status())) {
      return value.status();
    }
  }
  outcome.review = DisagreementItem(result, c, spec.disagreement_threshold());
  result.set_error(absl::StrJoin(errors, "; "));
  *result.mutable_usage() = usage;
  outcome.failed = !errors.empty();
  return outcome;
}

}  // namespace

absl::Status JobRunner::Execute() {
  EvalStore* store = resources_.store;
  auto stored = store->GetJobAnyTenant(job_id_);
  if (!stored.ok()) return stored.status();
  const v1::JobState state = stored->job.state();
  if (state != v1::QUEUED && state != v1::RUNNING) return absl::OkStatus();  // Already over.
  auto plan = std::make_unique<Plan>();
  plan->stored = *std::move(stored);
  const v1::JobSpec& spec = plan->stored.job.spec();
  auto cases = store->GetDataset(plan->stored.dataset_id);
  if (!cases.ok()) return cases.status();
  plan->cases = *std::move(cases);

  absl::Status models =
      CheckJobModels(spec, *resources_.models, resources_.retriever.get(), resources_.graphs.get());
  if (!models.ok()) return models;
  for (const v1::Judge& judge : spec.judges()) plan->judge_models.push_back(resources_.models->Find(judge.model()));
  plan->metrics_model = resources_.models->Find(spec.metrics_model());
  if (HasGeneratingTarget(spec.target())) {
    plan->target_model = resources_.models->Find(TargetModelName(spec.target()));
  }
  if (spec.requests_per_minute() > 0) {
    gateway::TenantLimits limits;
    limits.requests_per_minute = spec.requests_per_minute();
    plan->limiter = std::make_unique<gateway::RateLimiter>(limits, resources_.clock);
  }
  plan_ = std::move(plan);
  Plan& run = *plan_;
  AdmitCall admit = [this] { return Admit(); };

  if (state == v1::QUEUED) {
    auto running = store->UpdateJob(job_id_, v1::RUNNING, "");
    if (!running.ok()) return running.status();
    Report(*running);
  }

  // G-Eval steps: written once per job and kept, so a resumed job scores
  // its remaining cases with the same steps.
  Json steps = run.stored.judge_steps.is_object() ? run.stored.judge_steps : Json::object();
  agents::Usage steps_usage;
  bool new_steps = false;
  for (int i = 0; i < spec.judges_size(); ++i) {
    const v1::Judge& judge = spec.judges(i);
    const std::string name = JudgeName(judge);
    if (judge.kind() != v1::Judge::G_EVAL) continue;
    if (!steps.contains(name) || !steps[name].is_string()) {
      ModelCaller caller(run.judge_models[i].get(), JudgeSampling(judge.sampling()), admit);
      auto written = GEvalSteps(caller, judge);
      AddUsage(caller.usage(), &steps_usage);
      if (!written.ok()) {
        if (written.status().code() == absl::StatusCode::kCancelled) return absl::OkStatus();
        return absl::Status(written.status().code(),
                            absl::StrCat("judge ", name, ": evaluation steps: ", written.status().message()));
      }
      steps[name] = *written;
      new_steps = true;
    }
    run.steps[name] = steps[name].get<std::string>();
  }
  if (new_steps) {
    absl::Status saved = store->SaveJudgeSteps(job_id_, steps, steps_usage);
    if (!saved.ok()) return saved;
  }

  auto finished = store->FinishedCaseIds(job_id_);
  if (!finished.ok()) return finished.status();
  for (size_t i = 0; i < run.cases.size(); ++i) {
    if (!finished->count(run.cases[i].id())) run.pending.push_back(i);
  }
  const int concurrency =
      std::min<int>(std::max(1, spec.concurrency()), std::max<int>(1, static_cast<int>(run.pending.size())));
  spdlog::info("eval job {}: {} cases, {} to evaluate on {} workers", job_id_, run.cases.size(),
               run.pending.size(), concurrency);
  std::vector<std::thread> workers;
  for (int w = 0; w < concurrency; ++w) {
    workers.emplace_back([this, &run, &admit] {
      while (!stop_ && !run.failed) {
        const size_t i = run.next.fetch_add(1);
        if (i >= run.pending.size()) break;
        const size_t position = run.pending[i];
        auto outcome = EvaluateCase(run, resources_, admit, run.cases[position]);
        if (!outcome.ok()) break;  // Stopping: the case stays unfinished.
        std::vector<v1::ReviewItem> review;
        if (outcome->review.has_value()) review.push_back(*outcome->review);
        auto job = resources_.store->RecordCase(job_id_, static_cast<int64_t>(position), outcome->result,
                                                outcome->failed, review);
        if (!job.ok()) {
          absl::MutexLock lock(&run.mu);
          if (run.fatal.ok()) run.fatal = job.status();
          run.failed = true;
          break;
        }
        // One line per checkpointed case: a resumed job shows which cases it ran.
        spdlog::debug("eval job {}: case {} recorded after {} judge calls", job_id_,
                      outcome->result.case_id(), outcome->judge_calls);
        Report(*job);
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  {
    absl::MutexLock lock(&run.mu);
    if (!run.fatal.ok()) return run.fatal;
  }
  if (stop_) {
    spdlog::info("eval job {} stopped; finished cases are checkpointed", job_id_);
    return absl::OkStatus();
  }
  auto ended = FinishJob(store, job_id_, resources_.reports_dir);
  if (!ended.ok()) return ended.status();
  Report(*ended);
  return absl::OkStatus();
}

absl::StatusOr<JudgedCases> LoadJudgedCases(EvalStore* store, const StoredJob& job) {
  JudgedCases judged;
  auto results = store->AllResults(job.job.id());
  if (!results.ok()) return results.status();
  judged.results = *std::move(results);
  auto cases = store->GetDataset(job.dataset_id);
  if (!cases.ok()) return cases.status();
  auto reviewed = store->AllReviewItems(job.tenant, job.job.id());
  if (!reviewed.ok()) return reviewed.status();
  judged.human_pairs = HumanScorePairs(judged.results, *cases, *reviewed);
  return judged;
}

absl::StatusOr<std::string> WriteJobReports(EvalStore* store, const StoredJob& job,
                                            const std::string& reports_dir) {
  auto judged = LoadJudgedCases(store, job);
  if (!judged.ok()) return judged.status();
  ReportInput input;
  input.job = job.job;
  input.results = std::move(judged->results);
  input.human_pairs = std::move(judged->human_pairs);
  return WriteReports(input, absl::StrCat(reports_dir, "/", job.job.id()));
}

absl::StatusOr<v1::Job> FinishJob(EvalStore* store, const std::string& job_id,
                                  const std::string& reports_dir) {
  auto stored = store->GetJobAnyTenant(job_id);
  if (!stored.ok()) return stored.status();
  auto results = store->AllResults(job_id);
  if (!results.ok()) return results.status();
  const std::map<std::string, double> summary = Summarize(*results);
  v1::Job& job = stored->job;
  const bool all_failed = job.cases_done() > 0 && job.cases_failed() == job.cases_done();
  const v1::JobState state = all_failed ? v1::FAILED : v1::SUCCEEDED;
  std::string error;
  if (all_failed) {
    error = absl::StrCat("every case failed; first: ", results->empty() ? "" : results->front().error());
  }
  std::string report_path;
  if (!reports_dir.empty()) {
    // The report shows the job as it ends.
    job.set_state(state);
    job.set_error(error);
    for (const auto& [key, value] : summary) (*job.mutable_summary())[key] = value;
    auto written = WriteJobReports(store, *stored, reports_dir);
    if (written.ok()) {
      report_path = *written;
    } else {
      spdlog::warn("eval job {}: {}", job_id, written.status().ToString());
    }
  }
  return store->UpdateJob(job_id, state, error, &summary, report_path.empty() ? nullptr : &report_path);
}

}  // namespace tessera::eval

#include "engine/serving/serving_engine.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/metrics.h"

namespace tessera::serving {
namespace {

double Millis(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

constexpr absl::Duration kRateWindow = absl::Seconds(5);

}  // namespace

Completion ServingRequest::Wait() {
  absl::MutexLock lock(&mu_, absl::Condition(&done_));
  return completion_;
}

bool ServingRequest::WaitFor(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(&done_), timeout);
}

bool ServingRequest::done() const {
  absl::MutexLock lock(&mu_);
  return done_;
}

absl::StatusOr<std::unique_ptr<ServingEngine>> ServingEngine::Create(
    const llama::LlamaModel& model, std::unique_ptr<ModelExecutor> executor,
    ServingOptions options) {
  if (executor == nullptr) return absl::InvalidArgumentError("no executor");
  if (options.max_batch_tokens < 1 || options.max_running < 1) {
    return absl::InvalidArgumentError("max_batch_tokens and max_running must be positive");
  }
  if (options.speculative_tokens < 0 || options.speculative_tokens > 32 ||
      options.speculative_ngram < 1) {
    return absl::InvalidArgumentError(
        "speculative_tokens must be in [0, 32] and speculative_ngram positive");
  }
  const llama::LlamaHParams& a = model.hparams();
  const llama::LlamaHParams& b = executor->hparams();
  if (a.vocab_size != b.vocab_size || a.dim != b.dim || a.num_layers != b.num_layers) {
    return absl::InvalidArgumentError("the executor runs a different model");
  }
  return std::unique_ptr<ServingEngine>(new ServingEngine(model, std::move(executor), options));
}

ServingEngine::ServingEngine(const llama::LlamaModel& model,
                             std::unique_ptr<ModelExecutor> executor, ServingOptions options)
    : model_(model),
      executor_(std::move(executor)),
      options_(options),
      blocks_(executor_->geometry().num_blocks, executor_->geometry().block_size,
              options.prefix_caching),
      scheduler_(SchedulerConfig{options.max_batch_tokens, options.max_running}, &blocks_) {
  if (options_.export_metrics) {
    MetricsRegistry& m = MetricsRegistry::Global();
    m.Describe("tessera_serving_queue_length", "Generation requests waiting for the batch.");
    m.Describe("tessera_serving_running", "Sequences in the running batch.");
    m.Describe("tessera_serving_kv_blocks", "KV cache blocks by state (used, free, cached).");
    m.Describe("tessera_serving_ttft_seconds", "Time to first token.");
    m.Describe("tessera_serving_tpot_seconds", "Mean time per output token after the first.");
    m.Describe("tessera_serving_generated_tokens_total", "Tokens generated.");
    m.Describe("tessera_serving_tokens_per_second", "Generated tokens per second (5 s window).");
    m.Describe("tessera_serving_preemptions_total", "Sequences preempted for KV blocks.");
    m.Describe("tessera_serving_prefix_cache_hit_tokens_total",
               "Prompt tokens whose KV came from the prefix cache.");
  }
  loop_ = std::thread([this] { Loop(); });
}

ServingEngine::~ServingEngine() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    wake_.Signal();
  }
  loop_.join();
}

absl::StatusOr<std::shared_ptr<ServingRequest>> ServingEngine::Submit(
    absl::Span<const int32_t> prompt_ids, const llama::SamplingOptions& options,
    SubmitOptions submit) {
  absl::StatusOr<std::unique_ptr<llama::TokenSelector>> selector =
      llama::TokenSelector::Create(model_, prompt_ids, options);
  if (!selector.ok()) return selector.status();
  const int64_t capacity = std::min<int64_t>(
      static_cast<int64_t>(prompt_ids.size()) + options.max_tokens, model_.hparams().context_length);
  if (blocks_.BlocksFor(capacity) > blocks_.num_blocks()) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "a request of ", capacity, " positions needs ", blocks_.BlocksFor(capacity),
        " KV blocks; the pool has ", blocks_.num_blocks()));
  }
  auto request = std::make_shared<ServingRequest>();
  request->selector_ = std::move(*selector);
  request->submit_ = std::move(submit);
  request->capacity_ = static_cast<int>(capacity);
  request->sequence_.tokens.assign(prompt_ids.begin(), prompt_ids.end());
  request->sequence_.deadline = request->submit_.deadline;
  request->submitted_ = absl::Now();
  if (options.max_tokens == 0) {
    absl::MutexLock lock(&request->mu_);
    request->done_ = true;
    request->completion_.result = request->selector_->TakeResult();
    return request;
  }
  absl::MutexLock lock(&mu_);
  if (stopping_) return absl::UnavailableError("the serving engine is shutting down");
  request->sequence_.id = next_id_++;
  incoming_.push_back(request);
  wake_.Signal();
  return request;
}

absl::StatusOr<Completion> ServingEngine::Generate(absl::Span<const int32_t> prompt_ids,
                                                   const llama::SamplingOptions& options,
                                                   SubmitOptions submit) {
  absl::StatusOr<std::shared_ptr<ServingRequest>> request =
      Submit(prompt_ids, options, std::move(submit));
  if (!request.ok()) return request.status();
  Completion completion = (*request)->Wait();
  if (!completion.status.ok()) return completion.status;
  return completion;
}

ServingStats ServingEngine::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

void ServingEngine::Loop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (scheduler_.empty()) {
        auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return stopping_ || !incoming_.empty();
        };
        while (!ready()) wake_.Wait(&mu_);
      }
      if (stopping_) break;
    }
    if (!Step()) absl::SleepFor(absl::Milliseconds(1));  // Nothing could run yet.
  }
  // Shutdown: everything left ends as cancelled.
  {
    absl::MutexLock lock(&mu_);
    for (auto& request : incoming_) active_[request->sequence_.id] = request;
    incoming_.clear();
  }
  std::vector<std::shared_ptr<ServingRequest>> left;
  for (auto& [id, request] : active_) left.push_back(request);
  for (auto& request : left) {
    scheduler_.Finish(&request->sequence_);
    Complete(request.get(), absl::OkStatus(), "cancelled");
  }
}

std::vector<int32_t> ServingEngine::Propose(const std::vector<int32_t>& tokens, int limit) const {
  const int size = static_cast<int>(tokens.size());
  for (int n = std::min(options_.speculative_ngram, size - 1); n >= 1; --n) {
    // The latest earlier start of the last n tokens.
    for (int start = size - n - 1; start >= 0; --start) {
      if (!std::equal(tokens.begin() + start, tokens.begin() + start + n, tokens.end() - n)) {
        continue;
      }
      const int from = start + n;
      const int count = std::min(limit, size - from);
      return std::vector<int32_t>(tokens.begin() + from, tokens.begin() + from + count);
    }
  }
  return {};
}

bool ServingEngine::EmitToken(ServingRequest* request, absl::Span<const float> logits,
                              bool context_full, absl::Time now) {
  StreamedToken streamed;
  absl::StatusOr<bool> last = request->selector_->Next(logits, context_full, &streamed.token);
  if (!last.ok()) {
    Complete(request, last.status(), nullptr);
    return true;
  }
  request->sequence_.tokens.push_back(streamed.token.token);
  const int generated = static_cast<int>(request->selector_->history().size()) -
                        request->selector_->prompt_tokens();
  streamed.index = generated - 1;
  if (request->first_token_ == absl::InfinitePast()) {
    request->first_token_ = now;
    request->previous_token_ = request->submitted_;
  }
  streamed.since_submit_ms = Millis(now - request->submitted_);
  streamed.since_previous_ms = Millis(now - request->previous_token_);
  request->previous_token_ = now;
  {
    absl::MutexLock lock(&mu_);
    ++stats_.generated_tokens;
  }
  if (request->submit_.on_token && !request->submit_.on_token(streamed)) {
    request->selector_->Cancel();
    return true;
  }
  return *last;
}

void ServingEngine::Complete(ServingRequest* request, absl::Status status, const char* reason) {
  const absl::Time now = absl::Now();
  if (reason != nullptr || !status.ok()) request->selector_->Cancel();
  Completion completion;
  completion.status = std::move(status);
  completion.result = request->selector_->TakeResult();
  completion.deadline_exceeded = reason != nullptr && std::string(reason) == "deadline";
  const bool scheduled = request->first_scheduled_ != absl::InfinitePast();
  const bool produced = request->first_token_ != absl::InfinitePast();
  completion.queue_ms = Millis((scheduled ? request->first_scheduled_ : now) - request->submitted_);
  completion.ttft_ms = produced ? Millis(request->first_token_ - request->submitted_) : 0;
  completion.total_ms = Millis(now - request->submitted_);
  const int generated = static_cast<int>(completion.result.tokens.size());
  if (produced && generated > 1) {
    completion.tpot_ms = Millis(request->previous_token_ - request->first_token_) / (generated - 1);
  }
  completion.prefix_cached_tokens = request->sequence_.prefix_cached_tokens;
  completion.preemptions = request->sequence_.preemptions;
  llama::GenerationTimings& timings = completion.result.timings;
  timings.prefill_seconds = completion.ttft_ms / 1000;
  if (produced && generated > 1) {
    timings.decode_seconds = Millis(request->previous_token_ - request->first_token_) / 1000;
    if (timings.decode_seconds > 0) {
      timings.decode_tokens_per_second = (generated - 1) / timings.decode_seconds;
    }
  }
  if (timings.prefill_seconds > 0) {
    timings.prefill_tokens_per_second = timings.prompt_tokens / timings.prefill_seconds;
  }
  if (options_.export_metrics && produced) {
    MetricsRegistry& m = MetricsRegistry::Global();
    m.ObserveSeconds("tessera_serving_ttft_seconds", {}, completion.ttft_ms / 1000);
    if (generated > 1) m.ObserveSeconds("tessera_serving_tpot_seconds", {}, completion.tpot_ms / 1000);
  }
  const int64_t id = request->sequence_.id;
  std::shared_ptr<ServingRequest> keep;  // The request outlives its removal.
  if (auto it = active_.find(id); it != active_.end()) {
    keep = it->second;
    active_.erase(it);
  }
  absl::MutexLock lock(&request->mu_);
  request->completion_ = std::move(completion);
  request->done_ = true;
}

bool ServingEngine::Step() {
  {
    absl::MutexLock lock(&mu_);
    for (auto& request : incoming_) {
      active_[request->sequence_.id] = request;
      scheduler_.Add(&request->sequence_);
    }
    incoming_.clear();
  }
  absl::Time now = absl::Now();
  SchedulerOutput out = scheduler_.Schedule(now);
  auto request_of = [this](Sequence* sequence) { return active_.at(sequence->id); };
  for (Sequence* dropped : out.dropped) {
    Complete(request_of(dropped).get(), absl::OkStatus(), dropped->drop_reason);
  }
  if (out.scheduled.empty()) {
    PublishStats();
    return !out.dropped.empty();
  }

  struct Work {
    std::shared_ptr<ServingRequest> request;  // Kept alive through the step.
    int num_tokens;
    std::vector<int32_t> run;  // Last token + proposals when speculating.
  };
  std::vector<Work> work;
  work.reserve(out.scheduled.size());
  int64_t proposed = 0;
  for (const ScheduledSequence& s : out.scheduled) {
    std::shared_ptr<ServingRequest> request = request_of(s.sequence);
    if (request->first_scheduled_ == absl::InfinitePast()) request->first_scheduled_ = now;
    Work w{request, s.num_tokens, {}};
    Sequence& seq = *s.sequence;
    if (options_.speculative_tokens > 0 && s.num_tokens == 1 && seq.pending() == 1) {
      const llama::TokenSelector& selector = *request->selector_;
      const int generated = static_cast<int>(selector.history().size()) - selector.prompt_tokens();
      const int limit = std::min({options_.speculative_tokens,
                                  selector.options().max_tokens - generated - 1,
                                  request->capacity_ - seq.num_computed - 1});
      if (limit > 0) {
        std::vector<int32_t> proposal = Propose(seq.tokens, limit);
        if (!proposal.empty() && blocks_.CanAppend(seq.id, static_cast<int>(proposal.size())) &&
            blocks_.Append(seq.id, proposal, &out.copies).ok()) {
          w.run.push_back(seq.tokens.back());
          w.run.insert(w.run.end(), proposal.begin(), proposal.end());
          proposed += static_cast<int64_t>(proposal.size());
        }
      }
    }
    work.push_back(std::move(w));
  }
  absl::Status status =
      out.copies.empty() ? absl::OkStatus() : executor_->CopyBlocks(out.copies);
  // Block tables are read only now: the appends above may move them.
  std::vector<SequenceStep> steps;
  steps.reserve(work.size());
  for (const Work& w : work) {
    const Sequence& seq = w.request->sequence_;
    SequenceStep step;
    step.tokens = w.run.empty()
                      ? absl::MakeConstSpan(seq.tokens).subspan(seq.num_computed, w.num_tokens)
                      : absl::MakeConstSpan(w.run);
    step.start_position = seq.num_computed;
    step.block_table = blocks_.BlockTable(seq.id);
    step.all_logits = !w.run.empty();
    steps.push_back(step);
  }
  if (status.ok()) status = executor_->Execute(steps, &logits_);
  if (!status.ok()) {
    spdlog::error("serving step failed: {}", status.ToString());
    for (const Work& w : work) {
      scheduler_.Finish(&w.request->sequence_);
      Complete(w.request.get(), status, nullptr);
    }
    PublishStats();
    return true;
  }

  now = absl::Now();
  const int vocab = executor_->hparams().vocab_size;
  size_t row = 0;
  int64_t accepted_total = 0;
  for (Work& w : work) {
    ServingRequest* request = w.request.get();
    Sequence& seq = request->sequence_;
    auto row_span = [&](size_t r) {
      return absl::MakeConstSpan(logits_).subspan(r * vocab, vocab);
    };
    bool ended = false;
    if (w.run.empty()) {
      seq.num_computed += w.num_tokens;
      blocks_.MarkComputed(seq.id, seq.num_computed);
      if (seq.pending() == 0) {
        ended = EmitToken(request, row_span(row), seq.num_computed >= request->capacity_, now);
      }
      row += 1;
    } else {
      const int base = seq.num_computed;
      const int k = static_cast<int>(w.run.size()) - 1;
      int accepted = 0;
      for (int i = 0; i <= k; ++i) {
        ended = EmitToken(request, row_span(row + i), base + 1 + i >= request->capacity_, now);
        if (ended) break;
        if (i < k && seq.tokens.back() == w.run[i + 1]) {
          ++accepted;
        } else {
          break;
        }
      }
      seq.num_computed = base + 1 + accepted;
      if (!ended) {
        blocks_.Truncate(seq.id, seq.num_computed);  // Rejected proposals' slots.
        blocks_.MarkComputed(seq.id, seq.num_computed);
      }
      accepted_total += accepted;
      row += k + 1;
    }
    if (ended) {
      scheduler_.Finish(&seq);
      {
        absl::MutexLock lock(&request->mu_);
        if (request->done_) continue;  // A selector error completed it.
      }
      Complete(request, absl::OkStatus(), nullptr);
    }
  }
  {
    absl::MutexLock lock(&mu_);
    ++stats_.steps;
    stats_.preemptions += out.preempted;
    stats_.speculative_proposed += proposed;
    stats_.speculative_accepted += accepted_total;
  }
  if (blocks_.used_slots() > 0) {
    wasted_sum_ += static_cast<double>(blocks_.wasted_slots()) / blocks_.used_slots();
    ++wasted_samples_;
  }
  if (options_.export_metrics && out.preempted > 0) {
    MetricsRegistry::Global().IncrementCounter("tessera_serving_preemptions_total", {},
                                               out.preempted);
  }
  PublishStats();
  return true;
}

void ServingEngine::PublishStats() {
  const absl::Time now = absl::Now();
  ServingStats snapshot;
  {
    absl::MutexLock lock(&mu_);
    stats_.waiting = scheduler_.num_waiting() + static_cast<int>(incoming_.size());
    stats_.running = scheduler_.num_running();
    stats_.kv_blocks_used = blocks_.used_blocks();
    stats_.kv_blocks_free = blocks_.free_blocks();
    stats_.kv_blocks_cached = blocks_.cached_blocks();
    const int64_t new_hits = blocks_.prefix_hit_tokens() - stats_.prefix_hit_tokens;
    stats_.prefix_hit_tokens = blocks_.prefix_hit_tokens();
    stats_.kv_wasted_fraction = wasted_samples_ > 0 ? wasted_sum_ / wasted_samples_ : 0;
    rate_window_.emplace_back(now, stats_.generated_tokens);
    while (rate_window_.size() > 2 && now - rate_window_.front().first > kRateWindow) {
      rate_window_.pop_front();
    }
    const double span = absl::ToDoubleSeconds(now - rate_window_.front().first);
    stats_.tokens_per_second =
        span > 0 ? (stats_.generated_tokens - rate_window_.front().second) / span : 0;
    snapshot = stats_;
    if (options_.export_metrics && new_hits > 0) {
      MetricsRegistry::Global().IncrementCounter("tessera_serving_prefix_cache_hit_tokens_total",
                                                 {}, static_cast<double>(new_hits));
    }
  }
  if (!options_.export_metrics) return;
  MetricsRegistry& m = MetricsRegistry::Global();
  m.SetGauge("tessera_serving_queue_length", {}, snapshot.waiting);
  m.SetGauge("tessera_serving_running", {}, snapshot.running);
  m.SetGauge("tessera_serving_kv_blocks", {{"state", "used"}}, snapshot.kv_blocks_used);
  m.SetGauge("tessera_serving_kv_blocks", {{"state", "free"}}, snapshot.kv_blocks_free);
  m.SetGauge("tessera_serving_kv_blocks", {{"state", "cached"}}, snapshot.kv_blocks_cached);
  m.SetGauge("tessera_serving_tokens_per_second", {}, snapshot.tokens_per_second);
  if (snapshot.generated_tokens > exported_tokens_) {
    m.IncrementCounter("tessera_serving_generated_tokens_total", {},
                       static_cast<double>(snapshot.generated_tokens - exported_tokens_));
    exported_tokens_ = snapshot.generated_tokens;
  }
}

}  // namespace tessera::serving

#include "bench/load_generator.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/credentials.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tessera/agents/v1/agents.grpc.pb.h"
#include "tessera/generation/v1/generation.grpc.pb.h"
#include "tessera/retrieval/v1/retrieval.grpc.pb.h"

namespace tessera::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

const char* const kDefaultQueries[] = {
    "what causes inflammation in the heart",
    "vitamin d deficiency and bone density",
    "gene expression in tumour cells",
    "antibiotic resistance of bacteria",
    "effects of exercise on blood pressure",
    "protein folding and neurodegenerative disease",
    "immune response to viral infection",
    "insulin resistance in type 2 diabetes",
};

std::string CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return absl::StrCat("CODE_", static_cast<int>(code));
  }
}

double Percentile(std::vector<double>& values, double q) {
  if (values.empty()) return 0;
  const size_t rank = std::min(values.size() - 1, static_cast<size_t>(q * values.size()));
  std::nth_element(values.begin(), values.begin() + rank, values.end());
  return values[rank];
}

// One call in flight; completes on the completion queue.
struct Call {
  virtual ~Call() = default;
  int kind = 0;
  int phase = 0;
  SteadyClock::time_point scheduled;
  grpc::ClientContext context;
  grpc::Status status;
};

template <typename Response>
struct TypedCall : Call {
  Response response;
  std::unique_ptr<grpc::ClientAsyncResponseReader<Response>> reader;
};

struct KindCounts {
  int64_t sent = 0;
  std::map<std::string, int64_t> codes;
  std::vector<double> ok_ms;
  std::vector<double> rejected_ms;
};

constexpr char kGraphId[] = "load_agent";

std::string AgentGraph(const std::string& collection) {
  return absl::StrCat(R"({"id": "load_agent",
  "channels": [{"name": "question", "type": "STRING"}, {"name": "context", "type": "STRING"},
               {"name": "answer", "type": "NUMBER"}],
  "nodes": [
    {"id": "retrieve", "retrieve": {"collection": ")", collection, R"(", "query": "question",
                                    "top_k": 3, "output_channel": "context"}},
    {"id": "compute", "tool": {"tool": "calculator", "arguments": {"expression": "\"6 * 7\""},
                               "output_channel": "answer"}}],
  "edges": [{"from": "retrieve", "to": "compute"}, {"from": "compute", "to": "__end__"}],
  "start": "retrieve", "max_steps": 5})");
}

void AddCredentials(const LoadOptions& options, grpc::ClientContext* context) {
  if (!options.api_key.empty()) context->AddMetadata("authorization", "Bearer " + options.api_key);
}

}  // namespace

absl::StatusOr<std::map<std::string, int>> ParseMix(const std::string& text) {
  std::map<std::string, int> mix;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    std::vector<std::string> kv = absl::StrSplit(part, ':');
    int weight = 0;
    if (kv.size() != 2 || !absl::SimpleAtoi(kv[1], &weight) || weight < 0) {
      return absl::InvalidArgumentError(absl::StrCat("--mix: expected KIND:WEIGHT, got '", part, "'"));
    }
    if (std::find(std::begin(kLoadKinds), std::end(kLoadKinds), kv[0]) == std::end(kLoadKinds)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--mix: unknown kind '", kv[0], "' (search, generate, agent)"));
    }
    mix[kv[0]] = weight;
  }
  int total = 0;
  for (const auto& [kind, weight] : mix) total += weight;
  if (total <= 0) return absl::InvalidArgumentError("--mix: the weights add up to zero");
  return mix;
}

absl::Status PrepareServer(const LoadOptions& options) {
  auto it = options.mix.find("agent");
  if (it == options.mix.end() || it->second == 0) return absl::OkStatus();
  auto stub = agents::v1::AgentService::NewStub(
      grpc::CreateChannel(options.target, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  AddCredentials(options, &context);
  agents::v1::CreateGraphRequest request;
  request.set_definition_text(AgentGraph(options.collection));
  agents::v1::Graph graph;
  grpc::Status status = stub->CreateGraph(&context, request, &graph);
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        absl::StrCat("creating the agent graph: ", status.error_message()));
  }
  return absl::OkStatus();
}

int64_t ReadRssKb(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view rest = line;
    if (absl::ConsumePrefix(&rest, "VmRSS:")) {
      int64_t kb = 0;
      rest = absl::StripAsciiWhitespace(absl::StripSuffix(absl::StripAsciiWhitespace(rest), "kB"));
      return absl::SimpleAtoi(rest, &kb) ? kb : 0;
    }
  }
  return 0;
}

absl::StatusOr<LoadReport> RunLoad(const LoadOptions& options) {
  std::vector<std::string> kinds;
  std::vector<int> cumulative;
  int total_weight = 0;
  for (const char* kind : kLoadKinds) {
    auto it = options.mix.find(kind);
    if (it == options.mix.end() || it->second <= 0) continue;
    kinds.push_back(kind);
    total_weight += it->second;
    cumulative.push_back(total_weight);
  }
  if (kinds.empty()) return absl::InvalidArgumentError("the mix has no kind with a positive weight");
  std::vector<std::string> queries = options.queries;
  if (queries.empty()) queries.assign(std::begin(kDefaultQueries), std::end(kDefaultQueries));

  // A few channels, so calls spread over several HTTP/2 connections.
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < 4; ++i) {
    grpc::ChannelArguments arguments;
    arguments.SetInt("grpc.channel_id", i);  // Distinct arguments: distinct connections.
    channels.push_back(
        grpc::CreateCustomChannel(options.target, grpc::InsecureChannelCredentials(), arguments));
  }
  std::vector<std::unique_ptr<retrieval::v1::RetrievalService::Stub>> search;
  std::vector<std::unique_ptr<generation::v1::GenerationService::Stub>> generate;
  std::vector<std::unique_ptr<agents::v1::AgentService::Stub>> agent;
  for (auto& channel : channels) {
    search.push_back(retrieval::v1::RetrievalService::NewStub(channel));
    generate.push_back(generation::v1::GenerationService::NewStub(channel));
    agent.push_back(agents::v1::AgentService::NewStub(channel));
  }

  const size_t phase_count = options.phases.size();
  std::vector<std::vector<KindCounts>> counts(phase_count, std::vector<KindCounts>(kinds.size()));
  std::vector<int64_t> late(phase_count, 0);
  std::vector<double> phase_seconds(phase_count, 0);
  std::mutex counts_mu;
  std::atomic<int64_t> outstanding{0};

  grpc::CompletionQueue cq;
  std::vector<std::thread> completers;
  for (int i = 0; i < 2; ++i) {
    completers.emplace_back([&] {
      void* tag = nullptr;
      bool ok = false;
      while (cq.Next(&tag, &ok)) {
        std::unique_ptr<Call> call(static_cast<Call*>(tag));
        const double ms =
            std::chrono::duration<double, std::milli>(SteadyClock::now() - call->scheduled).count();
        std::lock_guard<std::mutex> lock(counts_mu);
        KindCounts& c = counts[call->phase][call->kind];
        ++c.codes[CodeName(call->status.error_code())];
        if (call->status.ok()) c.ok_ms.push_back(ms);
        if (call->status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) c.rejected_ms.push_back(ms);
        --outstanding;
      }
    });
  }

  LoadReport report;
  std::atomic<bool> sampling{true};
  std::atomic<int> current_phase{0};
  const SteadyClock::time_point load_start = SteadyClock::now();
  std::thread sampler;
  if (options.server_pid > 0) {
    sampler = std::thread([&] {
      while (sampling.load()) {
        RssSample sample;
        sample.seconds = std::chrono::duration<double>(SteadyClock::now() - load_start).count();
        sample.phase = options.phases[std::min<size_t>(current_phase.load(), phase_count - 1)].name;
        sample.rss_kb = ReadRssKb(options.server_pid);
        {
          std::lock_guard<std::mutex> lock(counts_mu);
          report.rss.push_back(sample);
        }
        const auto until = SteadyClock::now() + absl::ToChronoNanoseconds(options.rss_interval);
        while (sampling.load() && SteadyClock::now() < until) {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
      }
    });
  }

  std::mt19937 random(options.seed);
  int64_t serial = 0;
  for (size_t p = 0; p < phase_count; ++p) {
    current_phase = static_cast<int>(p);
    const LoadPhase& phase = options.phases[p];
    const SteadyClock::time_point start = SteadyClock::now();
    const int64_t total = static_cast<int64_t>(phase.rate * absl::ToDoubleSeconds(phase.duration));
    for (int64_t i = 0; i < total; ++i) {
      const auto scheduled =
          start + std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(i / phase.rate));
      std::this_thread::sleep_until(scheduled);
      if (SteadyClock::now() - scheduled > std::chrono::milliseconds(10)) ++late[p];
      const int draw = static_cast<int>(random() % total_weight);
      const int kind = static_cast<int>(std::upper_bound(cumulative.begin(), cumulative.end(), draw) -
                                        cumulative.begin());
      const std::string& query = queries[random() % queries.size()];
      const size_t lane = serial++ % channels.size();
      auto prepare = [&](Call* call) {
        call->kind = kind;
        call->phase = static_cast<int>(p);
        call->scheduled = scheduled;
        call->context.set_deadline(std::chrono::system_clock::now() +
                                   absl::ToChronoNanoseconds(options.deadline));
        AddCredentials(options, &call->context);
      };
      {
        std::lock_guard<std::mutex> lock(counts_mu);
        ++counts[p][kind].sent;
      }
      ++outstanding;
      if (kinds[kind] == "search") {
        auto* call = new TypedCall<retrieval::v1::SearchResponse>;
        prepare(call);
        retrieval::v1::SearchRequest request;
        request.set_collection(options.collection);
        request.set_query(query);
        request.set_mode(retrieval::v1::BM25);
        request.set_top_k(10);
        call->reader = search[lane]->AsyncSearch(&call->context, request, &cq);
        call->reader->Finish(&call->response, &call->status, call);
      } else if (kinds[kind] == "generate") {
        auto* call = new TypedCall<generation::v1::GenerateResponse>;
        prepare(call);
        generation::v1::GenerateRequest request;
        // Distinct prompts: the router's response cache must not answer them.
        request.set_prompt(absl::StrCat(query, " (request ", serial, ")"));
        request.mutable_sampling()->set_max_tokens(options.max_tokens);
        request.mutable_sampling()->set_temperature(0);
        call->reader = generate[lane]->AsyncGenerate(&call->context, request, &cq);
        call->reader->Finish(&call->response, &call->status, call);
      } else {
        auto* call = new TypedCall<agents::v1::Run>;
        prepare(call);
        agents::v1::StartRunRequest request;
        request.set_graph_id(kGraphId);
        (*request.mutable_input()->mutable_fields())["question"].set_string_value(query);
        call->reader = agent[lane]->AsyncStartRun(&call->context, request, &cq);
        call->reader->Finish(&call->response, &call->status, call);
      }
    }
    // Calls of this phase still in flight count for it (they carry its index).
    phase_seconds[p] = std::chrono::duration<double>(SteadyClock::now() - start).count();
  }
  // Wait for the stragglers (bounded by the deadline).
  const auto drain_until = SteadyClock::now() + absl::ToChronoNanoseconds(options.deadline) + std::chrono::seconds(2);
  while (outstanding.load() > 0 && SteadyClock::now() < drain_until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  sampling = false;
  if (sampler.joinable()) sampler.join();
  cq.Shutdown();
  for (auto& thread : completers) thread.join();

  for (size_t p = 0; p < phase_count; ++p) {
    PhaseReport phase;
    phase.name = options.phases[p].name;
    phase.target_rate = options.phases[p].rate;
    phase.seconds = phase_seconds[p];
    phase.late_sends = late[p];
    int64_t answered_all = 0;
    for (size_t k = 0; k < kinds.size(); ++k) {
      KindCounts& c = counts[p][k];
      KindReport kind;
      kind.sent = c.sent;
      int64_t answered = 0;
      for (const auto& [code, n] : c.codes) {
        answered += n;
        if (code == "OK") {
          kind.ok = n;
        } else {
          kind.errors[code] = n;
        }
      }
      kind.p50_ms = Percentile(c.ok_ms, 0.50);
      kind.p90_ms = Percentile(c.ok_ms, 0.90);
      kind.p99_ms = Percentile(c.ok_ms, 0.99);
      kind.max_ms = c.ok_ms.empty() ? 0 : *std::max_element(c.ok_ms.begin(), c.ok_ms.end());
      kind.rejected_p99_ms = Percentile(c.rejected_ms, 0.99);
      kind.rejected_max_ms =
          c.rejected_ms.empty() ? 0 : *std::max_element(c.rejected_ms.begin(), c.rejected_ms.end());
      kind.achieved_rate = phase.seconds > 0 ? answered / phase.seconds : 0;
      answered_all += answered;
      phase.kinds[kinds[k]] = kind;
    }
    phase.achieved_rate = phase.seconds > 0 ? answered_all / phase.seconds : 0;
    report.phases.push_back(std::move(phase));
  }
  return report;
}

std::string FormatMarkdown(const LoadReport& report) {
  std::string out;
  for (const PhaseReport& phase : report.phases) {
    absl::StrAppendFormat(&out, "### %s: %.0f req/s offered for %.0f s, %.1f req/s answered, %d late sends\n\n",
                          phase.name, phase.target_rate, phase.seconds, phase.achieved_rate, phase.late_sends);
    out += "| kind | sent | ok | errors | p50 ms | p90 ms | p99 ms | max ms | rejected p99 ms | answered/s |\n";
    out += "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|\n";
    for (const auto& [name, kind] : phase.kinds) {
      std::string errors;
      for (const auto& [code, n] : kind.errors) absl::StrAppend(&errors, errors.empty() ? "" : ", ", code, " ", n);
      absl::StrAppendFormat(&out, "| %s | %d | %d | %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n", name,
                            kind.sent, kind.ok, errors.empty() ? "none" : errors, kind.p50_ms, kind.p90_ms,
                            kind.p99_ms, kind.max_ms, kind.rejected_p99_ms, kind.achieved_rate);
    }
    out += "\n";
  }
  if (!report.rss.empty()) {
    out += "Server RSS (MiB) over time:\n\n| t (s) | phase | RSS MiB |\n|---:|---|---:|\n";
    // At most ~30 rows: every n-th sample plus the last.
    const size_t step = std::max<size_t>(1, report.rss.size() / 30);
    for (size_t i = 0; i < report.rss.size(); i += step) {
      const RssSample& s = report.rss[i];
      absl::StrAppendFormat(&out, "| %.0f | %s | %.1f |\n", s.seconds, s.phase, s.rss_kb / 1024.0);
    }
    const RssSample& last = report.rss.back();
    absl::StrAppendFormat(&out, "| %.0f | %s | %.1f |\n", last.seconds, last.phase, last.rss_kb / 1024.0);
  }
  return out;
}

std::string FormatJson(const LoadReport& report) {
  nlohmann::json json;
  json["phases"] = nlohmann::json::array();
  for (const PhaseReport& phase : report.phases) {
    nlohmann::json p = {{"name", phase.name},          {"target_rate", phase.target_rate},
                        {"seconds", phase.seconds},    {"achieved_rate", phase.achieved_rate},
                        {"late_sends", phase.late_sends}};
    for (const auto& [name, kind] : phase.kinds) {
      p["kinds"][name] = {{"sent", kind.sent},       {"ok", kind.ok},           {"errors", kind.errors},
                          {"p50_ms", kind.p50_ms},   {"p90_ms", kind.p90_ms},   {"p99_ms", kind.p99_ms},
                          {"max_ms", kind.max_ms},   {"rejected_p99_ms", kind.rejected_p99_ms},
                          {"rejected_max_ms", kind.rejected_max_ms}, {"achieved_rate", kind.achieved_rate}};
    }
    json["phases"].push_back(p);
  }
  json["rss"] = nlohmann::json::array();
  for (const RssSample& s : report.rss) {
    json["rss"].push_back({{"seconds", s.seconds}, {"phase", s.phase}, {"rss_kb", s.rss_kb}});
  }
  return json.dump(2);
}

}  // namespace tessera::bench

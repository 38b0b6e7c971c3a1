// Holds a request rate against a Tessera server and reports per RPC kind:
// sent, OK, errors by status code, latency p50/p90/p99/max, achieved rate, and
// the server's RSS over time. Open loop (see load_generator.h).
//   bazel run //bench:load_generator -- --target=localhost:50051 --rps=50 --duration=60
//       --mix=search:70,generate:20,agent:10 --server_pid=$(pidof tessera_server)
// Without --target it starts the all-in-one server itself on loopback with a
// random tiny generator (`tessera model make-random`) and a small corpus (the
// first --corpus_docs documents of SciFact from ../shared when present,
// generated text otherwise), and samples that server's RSS.
// --overload_rps adds a phase far above capacity after the steady one.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "bench/load_generator.h"
#include "common/shared_data.h"
#include "engine/model/make_random.h"
#include "services/ingest_command.h"
#include "tests/server_process.h"

ABSL_FLAG(std::string, target, "", "host:port of a running server; empty: start one on loopback");
ABSL_FLAG(double, rps, 20, "offered requests per second (all kinds together)");
ABSL_FLAG(int, duration, 30, "seconds of the steady phase");
ABSL_FLAG(std::string, mix, "search:70,generate:20,agent:10", "KIND:WEIGHT,... (search, generate, agent)");
ABSL_FLAG(double, overload_rps, 0, "then this rate (far above capacity) for --overload_duration; 0: none");
ABSL_FLAG(int, overload_duration, 30, "seconds of the overload phase");
ABSL_FLAG(int, max_tokens, 16, "tokens per Generate call");
ABSL_FLAG(int, deadline_ms, 10000, "deadline of each call");
ABSL_FLAG(std::string, collection, "load", "collection searched (and ingested into when self-started)");
ABSL_FLAG(int, server_pid, 0, "with --target: the server's pid, to sample its RSS");
ABSL_FLAG(double, rss_interval, 1.0, "seconds between RSS samples");
ABSL_FLAG(std::string, api_key, "", "API key sent as a bearer token");
ABSL_FLAG(std::string, json_out, "", "also write the report as JSON here");
ABSL_FLAG(int, corpus_docs, 2000, "self-started: documents ingested (SciFact subset when present)");
ABSL_FLAG(int, max_inflight_requests, 0,
          "self-started: the server's max_inflight_requests (0: its default)");
ABSL_FLAG(std::string, generator_shape, "tiny-llama", "self-started: random generator shape");

namespace {

using tessera::bench::LoadOptions;

// The first `docs` SciFact documents, or generated ones, as a JSONL file.
std::string WriteCorpus(const std::string& dir, int docs) {
  const std::string path = dir + "/corpus.jsonl";
  std::ofstream out(path);
  int written = 0;
  if (auto scifact = tessera::FindSharedFile("data/scifact/corpus.jsonl")) {
    std::ifstream in(*scifact);
    std::string line;
    while (written < docs && std::getline(in, line)) {
      out << line << "\n";
      ++written;
    }
    std::printf("corpus: first %d SciFact documents\n", written);
    return path;
  }
  const char* words[] = {"heart", "vitamin", "gene", "tumour", "bacteria", "exercise", "protein",
                         "immune", "insulin", "blood", "bone", "cell", "virus", "disease"};
  for (; written < docs; ++written) {
    std::string text;
    for (int w = 0; w < 60; ++w) absl::StrAppend(&text, words[(written * 7 + w * 3) % 14], " ");
    out << "{\"_id\": \"d" << written << "\", \"text\": \"" << text << "\"}\n";
  }
  std::printf("corpus: %d generated documents (no ../shared/data/scifact)\n", written);
  return path;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  LoadOptions options;
  auto mix = tessera::bench::ParseMix(absl::GetFlag(FLAGS_mix));
  if (!mix.ok()) {
    std::fprintf(stderr, "%s\n", std::string(mix.status().message()).c_str());
    return 2;
  }
  options.mix = *mix;
  options.collection = absl::GetFlag(FLAGS_collection);
  options.max_tokens = absl::GetFlag(FLAGS_max_tokens);
  options.deadline = absl::Milliseconds(absl::GetFlag(FLAGS_deadline_ms));
  options.rss_interval = absl::Seconds(absl::GetFlag(FLAGS_rss_interval));
  options.api_key = absl::GetFlag(FLAGS_api_key);
  // SciFact's questions as queries and prompts when present (cache hits are rarer).
  if (auto queries = tessera::FindSharedFile("data/scifact/queries.train.jsonl")) {
    std::ifstream in(*queries);
    std::string line;
    const std::string key = "\"text\": \"";
    while (std::getline(in, line) && options.queries.size() < 500) {
      const size_t at = line.find(key);
      if (at == std::string::npos) continue;
      const size_t end = line.find('"', at + key.size());
      if (end != std::string::npos) options.queries.push_back(line.substr(at + key.size(), end - at - key.size()));
    }
  }
  options.phases.push_back({"steady", absl::GetFlag(FLAGS_rps), absl::Seconds(absl::GetFlag(FLAGS_duration))});
  if (absl::GetFlag(FLAGS_overload_rps) > 0) {
    options.phases.push_back({"overload", absl::GetFlag(FLAGS_overload_rps),
                              absl::Seconds(absl::GetFlag(FLAGS_overload_duration))});
  }

  std::unique_ptr<tessera::testing::ServerProcess> server;
  if (absl::GetFlag(FLAGS_target).empty()) {
    const std::string dir = tessera::testing::MakeTempDir("load_generator");
    auto made = tessera::model::MakeRandomModel("llama", absl::GetFlag(FLAGS_generator_shape), "gguf",
                                                        dir + "/generator.gguf", 1, "q8_0");
    if (!made.ok()) {
      std::fprintf(stderr, "make-random: %s\n", made.status().ToString().c_str());
      return 1;
    }
    std::vector<std::string> flags = {"--generator_model=" + dir + "/generator.gguf"};
    if (absl::GetFlag(FLAGS_max_inflight_requests) > 0) {
      std::ofstream(dir + "/config.json")
          << "{\"max_inflight_requests\": " << absl::GetFlag(FLAGS_max_inflight_requests) << "}\n";
      flags.push_back("--config=" + dir + "/config.json");
    }
    server = std::make_unique<tessera::testing::ServerProcess>(dir + "/data", flags);
    absl::Status started = server->Start();
    if (!started.ok()) {
      std::fprintf(stderr, "cannot start the server: %s\n", started.ToString().c_str());
      return 1;
    }
    tessera::services::IngestOptions ingest;
    ingest.target = server->target();
    ingest.collection = options.collection;
    ingest.paths = {WriteCorpus(dir, absl::GetFlag(FLAGS_corpus_docs))};
    auto summary = tessera::services::RunIngest(ingest);
    if (!summary.ok() || summary->failed > 0) {
      std::fprintf(stderr, "ingest failed: %s\n",
                   summary.ok() ? "some documents failed" : summary.status().ToString().c_str());
      return 1;
    }
    std::printf("server pid %d on %s (generator: random %s)\n", server->pid(), server->target().c_str(),
                absl::GetFlag(FLAGS_generator_shape).c_str());
    options.target = server->target();
    options.server_pid = server->pid();
  } else {
    options.target = absl::GetFlag(FLAGS_target);
    options.server_pid = absl::GetFlag(FLAGS_server_pid);
  }

  absl::Status prepared = tessera::bench::PrepareServer(options);
  if (!prepared.ok()) {
    std::fprintf(stderr, "%s\n", prepared.ToString().c_str());
    return 1;
  }
  auto report = tessera::bench::RunLoad(options);
  if (!report.ok()) {
    std::fprintf(stderr, "%s\n", report.status().ToString().c_str());
    return 1;
  }
  std::printf("%s", tessera::bench::FormatMarkdown(*report).c_str());
  if (!absl::GetFlag(FLAGS_json_out).empty()) {
    std::ofstream(absl::GetFlag(FLAGS_json_out)) << tessera::bench::FormatJson(*report) << "\n";
  }
  if (server != nullptr) server->Terminate();
  return 0;
}

// BM25 benchmark on SciFact (train queries): our index against Xapian with the
// same k1/b, built and queried in one process on one thread.
//
//   bazel run //bench:bm25_bench [-- --shared_dir=PATH/shared] [--tune]
//
// Prints index build seconds, queries/s (top-10, best of --repeat passes,
// passes interleaved so both engines see the same machine load), the QPS ratio
// ours/Xapian, and nDCG@10 / Recall@100 / MRR@10 / MAP from a top-100 run.
// --tune grid-searches k1 and b on the train queries for our index.
#include <unistd.h>

#include <xapian.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "common/shared_data.h"
#include "eval/retrieval_metrics.h"
#include "retrieval/beir.h"
#include "retrieval/bm25_index.h"

ABSL_FLAG(std::string, shared_dir, "", "Shared data directory (holds data/scifact)");
// Defaults: the best point of the --tune grid on SciFact train (nDCG@10 0.6986;
// the library defaults k1=0.9 b=0.4 give 0.6956).
ABSL_FLAG(double, k1, 1.2, "BM25 k1 for both engines");
ABSL_FLAG(double, b, 0.5, "BM25 b for both engines");
ABSL_FLAG(int, repeat, 5, "Timed passes over the query set per engine");
ABSL_FLAG(bool, tune, false, "Grid-search k1 and b on the train queries first");

namespace tessera {
namespace {

using Clock = std::chrono::steady_clock;
using retrieval::BeirDocument;
using retrieval::BeirQuery;

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string SharedDir() {
  std::string dir = absl::GetFlag(FLAGS_shared_dir);
  if (!dir.empty()) return dir;
  if (auto corpus = FindSharedFile("data/scifact/corpus.jsonl")) {
    return corpus->substr(0, corpus->size() - std::string("/data/scifact/corpus.jsonl").size());
  }
  return "../shared";
}

template <typename T>
T OrDie(absl::StatusOr<T> value, const char* what) {
  if (!value.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, value.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(*value);
}

void Check(const absl::Status& status, const char* what) {
  if (!status.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, status.ToString().c_str());
    std::exit(1);
  }
}

class XapianEngine {
 public:
  XapianEngine(std::string path, double k1, double b) : path_(std::move(path)), k1_(k1), b_(b) {}

  void Build(const std::vector<BeirDocument>& corpus) {
    Xapian::WritableDatabase db(path_, Xapian::DB_CREATE_OR_OVERWRITE);
    Xapian::TermGenerator generator;
    generator.set_stemmer(Xapian::Stem("english"));
    generator.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
    ids_.clear();
    for (const BeirDocument& document : corpus) {
      Xapian::Document doc;
      generator.set_document(doc);
      generator.index_text(document.title);
      generator.increase_termpos();
      generator.index_text(document.text);
      db.add_document(doc);
      ids_.push_back(document.id);  // Document ids are assigned 1, 2, ...
    }
    db.commit();
  }

  void OpenForSearch() {
    db_ = Xapian::Database(path_);
    for (const std::string& word : retrieval::Analyzer::DefaultEnglishStopWords()) {
      stopper_.add(word);
    }
    parser_.set_database(db_);
    parser_.set_stemmer(Xapian::Stem("english"));
    parser_.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
    parser_.set_stopper(&stopper_);
    enquire_ = std::make_unique<Xapian::Enquire>(db_);
    enquire_->set_weighting_scheme(Xapian::BM25Weight(k1_, 0, 1, b_, 0.5));
  }

  void Search(const std::string& text, int k, std::vector<std::string>* out) {
    Xapian::Query query;
    try {
      query = parser_.parse_query(text);
    } catch (const Xapian::QueryParserError&) {
      query = parser_.parse_query(text, 0);  // Without boolean syntax.
    }
    enquire_->set_query(query);
    const Xapian::MSet mset = enquire_->get_mset(0, k);
    out->clear();
    for (Xapian::MSetIterator it = mset.begin(); it != mset.end(); ++it) {
      out->push_back(ids_[*it - 1]);
    }
  }

 private:
  std::string path_;
  double k1_;
  double b_;
  std::vector<std::string> ids_;
  Xapian::Database db_;
  Xapian::SimpleStopper stopper_;
  Xapian::QueryParser parser_;
  std::unique_ptr<Xapian::Enquire> enquire_;
};

void SearchOurs(const retrieval::Bm25Index& index, const std::string& text, size_t k,
                const std::optional<retrieval::Bm25Params>& params, std::vector<std::string>* out) {
  retrieval::Bm25SearchOptions options;
  options.top_k = k;
  options.params = params;
  auto hits = OrDie(index.Search(text, options), "search");
  out->clear();
  for (const auto& hit : hits) out->push_back(hit.id);
}

void PrintQuality(const char* name, const eval::RetrievalMetrics& metrics) {
  std::printf("  %-8s nDCG@10 %.4f  Recall@100 %.4f  MRR@10 %.4f  MAP %.4f  (%d queries)\n",
              name, metrics.ndcg, metrics.recall, metrics.mrr, metrics.map, metrics.queries);
}

int Main() {
  const std::string shared = SharedDir();
  const std::string data = shared + "/data/scifact";
  const double k1 = absl::GetFlag(FLAGS_k1);
  const double b = absl::GetFlag(FLAGS_b);
  const int repeat = std::max(1, absl::GetFlag(FLAGS_repeat));
  const auto corpus = OrDie(retrieval::LoadBeirCorpus(data + "/corpus.jsonl"), "corpus");
  const auto queries = OrDie(retrieval::LoadBeirQueries(data + "/queries.train.jsonl"), "queries");
  const auto qrels = OrDie(retrieval::LoadBeirQrels(data + "/qrels/train.tsv"), "qrels");
  std::printf("SciFact: %zu documents, %zu train queries, %zu judged queries (%s)\n",
              corpus.size(), queries.size(), qrels.size(), data.c_str());
  std::printf("BM25 k1=%.2f b=%.2f, one thread\n\n", k1, b);

  // --- Build -------------------------------------------------------------
  retrieval::Bm25Options options;
  options.params = retrieval::Bm25Params{static_cast<float>(k1), static_cast<float>(b)};
  auto start = Clock::now();
  auto ours = OrDie(retrieval::Bm25Index::Create(options), "create");
  for (const BeirDocument& document : corpus) {
    Check(ours->Add(document.id, absl::StrCat(document.title, "\n", document.text)), "add");
  }
  Check(ours->Merge(), "merge");
  const double ours_build = Seconds(start);

  char temp_pattern[] = "/tmp/bm25_bench_XXXXXX";
  const std::string temp = mkdtemp(temp_pattern);
  start = Clock::now();
  Check(ours->Save(temp + "/ours"), "save");
  const double ours_save = Seconds(start);

  XapianEngine xapian(temp + "/xapian", k1, b);
  start = Clock::now();
  xapian.Build(corpus);
  const double xapian_build = Seconds(start);
  xapian.OpenForSearch();
  std::printf("Index build: ours %.3f s (+ %.3f s to save)   xapian %.3f s (with commit)\n",
              ours_build, ours_save, xapian_build);

  // --- Tuning (ours, train queries) ----------------------------------------
  std::vector<std::string> ranked;
  if (absl::GetFlag(FLAGS_tune)) {
    double best_ndcg = -1;
    retrieval::Bm25Params best;
    for (int tenth_k1 = 4; tenth_k1 <= 20; ++tenth_k1) {
      for (int tenth_b = 1; tenth_b <= 10; ++tenth_b) {
        const retrieval::Bm25Params params{tenth_k1 / 10.0f, tenth_b / 10.0f};
        eval::Rankings run;
        for (const BeirQuery& query : queries) {
          SearchOurs(*ours, query.text, 10, params, &ranked);
          run[query.id] = ranked;
        }
        const auto metrics = OrDie(eval::Evaluate(qrels, run), "evaluate");
        if (metrics.ndcg > best_ndcg) {
          best_ndcg = metrics.ndcg;
          best = params;
        }
      }
    }
    std::printf("Tuning grid (k1 0.4..2.0, b 0.1..1.0): best nDCG@10 %.4f at k1=%.1f b=%.1f\n",
                best_ndcg, best.k1, best.b);
  }

  // --- Quality (top 100) ---------------------------------------------------
  eval::Rankings ours_run;
  eval::Rankings xapian_run;
  for (const BeirQuery& query : queries) {
    SearchOurs(*ours, query.text, 100, std::nullopt, &ranked);
    ours_run[query.id] = ranked;
    xapian.Search(query.text, 100, &ranked);
    xapian_run[query.id] = ranked;
  }
  const auto ours_quality = OrDie(eval::Evaluate(qrels, ours_run), "evaluate");
  const auto xapian_quality = OrDie(eval::Evaluate(qrels, xapian_run), "evaluate");

  // --- Throughput (top 10) -------------------------------------------------
  std::vector<double> ours_passes;
  std::vector<double> xapian_passes;
  for (const BeirQuery& query : queries) {  // Warm-up.
    SearchOurs(*ours, query.text, 10, std::nullopt, &ranked);
    xapian.Search(query.text, 10, &ranked);
  }
  for (int pass = 0; pass < repeat; ++pass) {
    start = Clock::now();
    for (const BeirQuery& query : queries) SearchOurs(*ours, query.text, 10, std::nullopt, &ranked);
    ours_passes.push_back(Seconds(start));
    start = Clock::now();
    for (const BeirQuery& query : queries) xapian.Search(query.text, 10, &ranked);
    xapian_passes.push_back(Seconds(start));
  }
  std::sort(ours_passes.begin(), ours_passes.end());
  std::sort(xapian_passes.begin(), xapian_passes.end());
  const double n = static_cast<double>(queries.size());
  const double ours_qps = n / ours_passes.front();
  const double xapian_qps = n / xapian_passes.front();
  std::printf("Queries/s (top-10, best of %d; median in brackets): ours %.0f [%.0f]   "
              "xapian %.0f [%.0f]   ratio ours/xapian %.2fx\n",
              repeat, ours_qps, n / ours_passes[ours_passes.size() / 2], xapian_qps,
              n / xapian_passes[xapian_passes.size() / 2], ours_qps / xapian_qps);
  std::printf("Quality (train qrels):\n");
  PrintQuality("ours", ours_quality);
  PrintQuality("xapian", xapian_quality);

  std::error_code error;
  std::filesystem::remove_all(temp, error);
  return 0;
}

}  // namespace
}  // namespace tessera

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return tessera::Main();
}

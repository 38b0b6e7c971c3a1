// Dense retrieval benchmark: raw hnswlib against Tessera's HnswVectorIndex
// (same M / ef_construction / ef_search / seed, so the graphs are identical
// and the difference is our wrapper and search loop), plus FAISS flat (exact,
// also the ground truth) and IVF-PQ. Random unit vectors, one thread.
//
//   bazel run //bench:dense_bench -- --n=50000 --queries=1000
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "retrieval/dense/faiss_flat_vector_index.h"
#include "retrieval/dense/faiss_ivfpq_vector_index.h"
#include "retrieval/dense/hnsw_vector_index.h"
#include "retrieval/dense/hnswlib_include.h"
#include "retrieval/dense/test_vectors.h"

ABSL_FLAG(int, n, 50000, "vectors indexed");
ABSL_FLAG(int, queries, 1000, "queries timed");
ABSL_FLAG(int, dim, 384, "dimension (384 = all-MiniLM-L6-v2)");
ABSL_FLAG(int, k, 10, "top-k");
ABSL_FLAG(int, m, 16, "HNSW M");
ABSL_FLAG(int, ef_construction, 100, "HNSW ef_construction");
ABSL_FLAG(int, ef_search, 64, "HNSW ef_search");
ABSL_FLAG(int, nlist, 256, "IVF-PQ clusters");
ABSL_FLAG(int, pq_m, 48, "IVF-PQ sub-quantizers");
ABSL_FLAG(int, nprobe, 16, "IVF-PQ clusters scanned");
ABSL_FLAG(int, train_size, 10000, "IVF-PQ training vectors");

extern "C" void openblas_set_num_threads(int threads);

namespace tessera::dense {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Figures {
  double build_seconds = 0;
  double queries_per_second = 0;
  double recall = 0;
};

// Times `search` over all queries and scores it against `truth`.
Figures TimeQueries(const std::vector<float>& queries, int count, int dim,
                    const std::vector<std::vector<SearchHit>>& truth,
                    const std::function<std::vector<SearchHit>(absl::Span<const float>)>& search) {
  std::vector<std::vector<SearchHit>> results(count);
  const Clock::time_point start = Clock::now();
  for (int q = 0; q < count; ++q) results[q] = search(Row(queries, q, dim));
  Figures figures;
  figures.queries_per_second = count / SecondsSince(start);
  double recall_sum = 0;
  for (int q = 0; q < count; ++q) recall_sum += Recall(results[q], truth[q]);
  figures.recall = recall_sum / count;
  return figures;
}

void Print(const char* name, const Figures& f) {
  std::printf("%-28s build %7.2f s   %9.1f queries/s   recall@10 %.4f\n", name,
              f.build_seconds, f.queries_per_second, f.recall);
}

std::vector<SearchHit> Unwrap(absl::StatusOr<std::vector<SearchHit>> hits) {
  if (!hits.ok()) {
    std::fprintf(stderr, "search failed: %s\n", hits.status().ToString().c_str());
    std::exit(1);
  }
  return *std::move(hits);
}

void Check(const absl::Status& status) {
  if (!status.ok()) {
    std::fprintf(stderr, "error: %s\n", status.ToString().c_str());
    std::exit(1);
  }
}

int Run() {
  const int n = absl::GetFlag(FLAGS_n), query_count = absl::GetFlag(FLAGS_queries);
  const int dim = absl::GetFlag(FLAGS_dim), k = absl::GetFlag(FLAGS_k);
  omp_set_num_threads(1);
  openblas_set_num_threads(1);
  std::printf("dense_bench: %d x %d-d random unit vectors, %d queries, top-%d, 1 thread\n", n,
              dim, query_count, k);
  std::printf("HNSW M=%d ef_construction=%d ef_search=%d; IVF-PQ nlist=%d m=%d nbits=8 "
              "nprobe=%d train=%d\n\n",
              absl::GetFlag(FLAGS_m), absl::GetFlag(FLAGS_ef_construction),
              absl::GetFlag(FLAGS_ef_search), absl::GetFlag(FLAGS_nlist),
              absl::GetFlag(FLAGS_pq_m), absl::GetFlag(FLAGS_nprobe),
              absl::GetFlag(FLAGS_train_size));
  const std::vector<float> data = RandomUnitVectors(n, dim, 1);
  const std::vector<float> queries = RandomUnitVectors(query_count, dim, 2);
  std::vector<VectorId> ids(n);
  for (int i = 0; i < n; ++i) ids[i] = i;

  // Exact flat: ground truth and its own figures. Vectors are unit length, so
  // inner product = cosine and no normalisation cost is measured anywhere.
  Figures flat_figures;
  std::vector<std::vector<SearchHit>> truth(query_count);
  {
    auto flat = FaissFlatVectorIndex::Create(dim, Metric::kInnerProduct);
    Check(flat.status());
    Clock::time_point start = Clock::now();
    Check((*flat)->AddBatch(ids, data));
    flat_figures.build_seconds = SecondsSince(start);
    start = Clock::now();
    for (int q = 0; q < query_count; ++q) {
      truth[q] = Unwrap((*flat)->Search(Row(queries, q, dim), k));
    }
    Figures timed;
    timed.queries_per_second = query_count / SecondsSince(start);
    timed.recall = 1.0;  // It is the ground truth.
    flat_figures.queries_per_second = timed.queries_per_second;
    flat_figures.recall = timed.recall;
  }

  // Raw hnswlib.
  Figures raw_figures;
  {
    hnswlib::InnerProductSpace space(dim);
    hnswlib::HierarchicalNSW<float> raw(&space, n, absl::GetFlag(FLAGS_m),
                                        absl::GetFlag(FLAGS_ef_construction), 100);
    Clock::time_point start = Clock::now();
    for (int i = 0; i < n; ++i) raw.addPoint(Row(data, i, dim).data(), i);
    raw_figures.build_seconds = SecondsSince(start);
    raw.setEf(absl::GetFlag(FLAGS_ef_search));
    const Figures timed = TimeQueries(queries, query_count, dim, truth, [&](auto query) {
      auto heap = raw.searchKnn(query.data(), k);
      std::vector<SearchHit> hits;
      for (; !heap.empty(); heap.pop()) {
        hits.push_back({heap.top().second, 1.0f - heap.top().first});
      }
      return hits;
    });
    raw_figures.queries_per_second = timed.queries_per_second;
    raw_figures.recall = timed.recall;
  }

  // Ours, through the VectorIndex interface.
  Figures ours_figures;
  {
    HnswParams params;
    params.m = absl::GetFlag(FLAGS_m);
    params.ef_construction = absl::GetFlag(FLAGS_ef_construction);
    params.ef_search = absl::GetFlag(FLAGS_ef_search);
    params.initial_capacity = n;
    auto created = HnswVectorIndex::Create(dim, Metric::kInnerProduct, params);
    Check(created.status());
    VectorIndex& index = **created;
    Clock::time_point start = Clock::now();
    for (int i = 0; i < n; ++i) Check(index.Add(i, Row(data, i, dim)));
    ours_figures.build_seconds = SecondsSince(start);
    const Figures timed = TimeQueries(queries, query_count, dim, truth, [&](auto query) {
      return Unwrap(index.Search(query, k));
    });
    ours_figures.queries_per_second = timed.queries_per_second;
    ours_figures.recall = timed.recall;
  }

  // IVF-PQ, trained on the first train_size vectors.
  Figures ivfpq_figures;
  {
    IvfPqParams params;
    params.nlist = absl::GetFlag(FLAGS_nlist);
    params.m = absl::GetFlag(FLAGS_pq_m);
    params.nbits = 8;
    params.nprobe = absl::GetFlag(FLAGS_nprobe);
    params.train_size = absl::GetFlag(FLAGS_train_size);
    auto created = FaissIvfPqVectorIndex::Create(dim, Metric::kInnerProduct, params);
    Check(created.status());
    VectorIndex& index = **created;
    Clock::time_point start = Clock::now();
    Check(index.AddBatch(ids, data));
    ivfpq_figures.build_seconds = SecondsSince(start);
    const Figures timed = TimeQueries(queries, query_count, dim, truth, [&](auto query) {
      return Unwrap(index.Search(query, k));
    });
    ivfpq_figures.queries_per_second = timed.queries_per_second;
    ivfpq_figures.recall = timed.recall;
  }

  Print("faiss flat (exact)", flat_figures);
  Print("hnswlib raw", raw_figures);
  Print("HnswVectorIndex (ours)", ours_figures);
  Print("faiss IVF-PQ", ivfpq_figures);
  std::printf("\nours/raw: queries/s %.3f, build time %.3f, recall %+.4f (target: within 10%%)\n",
              ours_figures.queries_per_second / raw_figures.queries_per_second,
              ours_figures.build_seconds / raw_figures.build_seconds,
              ours_figures.recall - raw_figures.recall);
  return 0;
}

}  // namespace
}  // namespace tessera::dense

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return tessera::dense::Run();
}

#include "retrieval/sharding/sharded_retrieval_service.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "retrieval/collection_index.h"
#include "retrieval/fusion.h"

namespace tessera::retrieval::sharding {
namespace {

using retrieval::v1::Bm25CorpusStats;
using retrieval::v1::SearchHit;
using retrieval::v1::SearchRequest;
using retrieval::v1::SearchResponse;

void AddStats(const Bm25CorpusStats& part, Bm25CorpusStats* total) {
  total->set_doc_count(total->doc_count() + part.doc_count());
  total->set_total_length(total->total_length() + part.total_length());
  for (const auto& [term, df] : part.doc_frequencies()) {
    (*total->mutable_doc_frequencies())[term] += df;
  }
}

// Hits of one retriever from every shard, merged best first.
struct RankedHit {
  float score;
  size_t shard;
  int position;
  const SearchHit* hit;
};

std::vector<RankedHit> MergeLists(const std::vector<const SearchResponse*>& lists, bool dense) {
  std::vector<RankedHit> merged;
  for (size_t shard = 0; shard < lists.size(); ++shard) {
    if (lists[shard] == nullptr) continue;
    const SearchResponse& list = *lists[shard];
    for (int i = 0; i < list.hits_size(); ++i) {
      const SearchHit& hit = list.hits(i);
      merged.push_back(
          {dense ? hit.scores().dense_score() : hit.scores().bm25_score(), shard, i, &hit});
    }
  }
  std::stable_sort(merged.begin(), merged.end(), [](const RankedHit& a, const RankedHit& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.shard != b.shard ? a.shard < b.shard : a.position < b.position;
  });
  return merged;
}

bool IsNotFound(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::NOT_FOUND;
}

}  // namespace

grpc::Status ShardedRetrievalService::Search(grpc::ServerContext* context,
                                             const SearchRequest* request,
                                             SearchResponse* response) {
  return SearchSharded(ScopeFor(*context, request->timeout_ms()), *request, response);
}

grpc::Status ShardedRetrievalService::SearchSharded(const CallScope& scope,
                                                    const SearchRequest& request,
                                                    SearchResponse* response) const {
  const auto start = std::chrono::steady_clock::now();
  const retrieval::v1::SearchMode mode = request.mode() == retrieval::v1::SEARCH_MODE_UNSPECIFIED
                                             ? retrieval::v1::HYBRID
                                             : request.mode();
  const bool use_bm25 = mode == retrieval::v1::BM25 || mode == retrieval::v1::HYBRID;
  const bool use_dense = mode == retrieval::v1::DENSE || mode == retrieval::v1::HYBRID;
  // What only the merge step sees is checked here; the shards check the rest.
  const bool weighted = request.fusion().method() == retrieval::v1::FusionConfig::WEIGHTED;
  const float bm25_weight =
      request.fusion().has_bm25_weight() ? request.fusion().bm25_weight() : 0.5f;
  const float rrf_k = request.fusion().has_rrf_k() ? request.fusion().rrf_k() : kDefaultRrfK;
  if (mode == retrieval::v1::HYBRID && weighted && (bm25_weight < 0 || bm25_weight > 1)) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "fusion.bm25_weight must be between 0 and 1");
  }
  if (mode == retrieval::v1::HYBRID && !weighted && rrf_k <= 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "fusion.rrf_k must be positive");
  }
  const bool rerank = request.rerank().enabled();
  const int rerank_top_n =
      request.rerank().top_n() > 0 ? request.rerank().top_n() : kDefaultRerankTopN;
  const int top_k = request.top_k() == 0 ? kDefaultSearchTopK : request.top_k();
  const int candidates = std::max(
      {request.fusion().candidates() > 0 ? request.fusion().candidates() : kDefaultFusionCandidates,
       top_k, rerank ? rerank_top_n : 0});

  const size_t n = shards_->size();
  std::vector<grpc::Status> statuses(n);

  // Phase 1: the corpus statistics of the query terms.
  Bm25CorpusStats global = request.corpus_stats();
  if (use_bm25 && !request.has_corpus_stats()) {
    std::vector<Bm25CorpusStats> parts(n);
    retrieval::v1::TermStatisticsRequest stats_request;
    stats_request.set_collection(request.collection());
    stats_request.set_query(request.query());
    // Half the time at most, so that the search itself still has time when a
    // stalled shard holds this phase to its deadline.
    CallScope stats_scope = scope;
    const absl::Time now = absl::Now();
    if (scope.deadline != absl::InfiniteFuture()) {
      stats_scope.deadline = now + (scope.deadline - now) / 2;
    }
    statuses = shards_->ReadAll(
        stats_scope, [&](size_t i, ShardSet::Replica& replica, grpc::ClientContext* context) {
          return replica.retrieval->GetTermStatistics(context, stats_request, &parts[i]);
        });
    for (size_t i = 0; i < n; ++i) {
      if (statuses[i].ok()) AddStats(parts[i], &global);
    }
  }

  // Phase 2: each retriever's list from every shard, scored with the global
  // statistics.
  retrieval::v1::BatchSearchRequest lists_request;
  auto add_list = [&](retrieval::v1::SearchMode list_mode) {
    SearchRequest* list = lists_request.add_requests();
    *list = request;
    list->set_mode(list_mode);
    list->set_top_k(mode == list_mode ? top_k : candidates);
    list->mutable_fusion()->set_candidates(candidates);
    list->clear_rerank();
    list->clear_timeout_ms();
    if (list_mode == retrieval::v1::BM25) *list->mutable_corpus_stats() = global;
  };
  if (use_bm25) add_list(retrieval::v1::BM25);
  if (use_dense) add_list(retrieval::v1::DENSE);
  std::vector<retrieval::v1::BatchSearchResponse> answers(n);
  ParallelFor(n, [&](size_t i) {
    // A shard that failed the first phase is not asked again.
    if (!statuses[i].ok() && !IsNotFound(statuses[i])) return;
    statuses[i] =
        shards_->Read(i, scope, [&](ShardSet::Replica& replica, grpc::ClientContext* context) {
          return replica.retrieval->BatchSearch(context, lists_request, &answers[i]);
        });
  });

  std::vector<std::string> missing;
  size_t not_found = 0;
  for (size_t i = 0; i < n; ++i) {
    const grpc::Status& status = statuses[i];
    if (status.ok()) continue;
    if (IsNotFound(status)) {
      // A shard that never received a document of the collection may not know it.
      ++not_found;
      continue;
    }
    if (!IsTransient(status)) {
      return grpc::Status(status.error_code(), status.error_message());  // A bad request.
    }
    missing.push_back(shards_->shard(i).name);
  }
  if (not_found == n) return statuses[0];
  if (missing.size() + not_found == n) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        absl::StrCat("no retrieval shard answered (", absl::StrJoin(missing, ", "),
                                     "): ", statuses[0].error_message()));
  }

  // Merge every retriever's lists into global lists over one id space, then
  // fuse as one index would.
  std::vector<const SearchHit*> table;
  std::vector<size_t> shard_of;  // The shard each table entry came from.
  std::map<std::string, uint32_t> id_of_chunk;
  auto global_list = [&](int list_index, bool dense) {
    std::vector<const SearchResponse*> lists(n, nullptr);
    for (size_t i = 0; i < n; ++i) {
      if (statuses[i].ok() && answers[i].responses_size() > list_index) {
        lists[i] = &answers[i].responses(list_index);
      }
    }
    std::vector<ScoredId> scored;
    absl::flat_hash_set<uint32_t> listed;
    for (const RankedHit& ranked : MergeLists(lists, dense)) {
      auto [slot, inserted] =
          id_of_chunk.emplace(ranked.hit->chunk_id(), static_cast<uint32_t>(table.size()));
      if (inserted) {
        table.push_back(ranked.hit);
        shard_of.push_back(ranked.shard);
      }
      // The same chunk from two shards (while a rebalance copies it): once.
      if (!listed.insert(slot->second).second) continue;
      scored.push_back({slot->second, ranked.score});
      if (scored.size() >= static_cast<size_t>(candidates)) break;
    }
    return scored;
  };
  std::vector<ScoredId> bm25_list;
  std::vector<ScoredId> dense_list;
  int list_index = 0;
  if (use_bm25) bm25_list = global_list(list_index++, /*dense=*/false);
  if (use_dense) dense_list = global_list(list_index++, /*dense=*/true);

  std::vector<FusedHit> fused;
  if (mode == retrieval::v1::BM25) {
    fused = FromBm25(bm25_list, candidates);
  } else if (mode == retrieval::v1::DENSE) {
    fused = FromDense(dense_list, candidates);
  } else if (weighted) {
    fused = FuseWeighted(bm25_list, dense_list, bm25_weight,
                         request.fusion().normalization() == retrieval::v1::FusionConfig::Z_SCORE
                             ? ScoreNormalization::kZScore
                             : ScoreNormalization::kMinMax,
                         candidates);
  } else {
    fused = FuseReciprocalRank(bm25_list, dense_list, rrf_k, candidates);
  }

  std::vector<std::optional<float>> rerank_scores(fused.size());
  if (rerank && !fused.empty()) {
    grpc::Status reranked =
        Rerank(scope, request, table, shard_of, rerank_top_n, &fused, &rerank_scores, &missing);
    if (!reranked.ok()) return reranked;
  }

  response->Clear();
  for (size_t i = 0; i < fused.size() && response->hits_size() < top_k; ++i) {
    const FusedHit& fused_hit = fused[i];
    SearchHit* hit = response->add_hits();
    *hit = *table[fused_hit.id];
    hit->set_score(rerank_scores[i].value_or(fused_hit.fused));
    retrieval::v1::ScoreBreakdown* scores = hit->mutable_scores();
    scores->set_bm25_rank(fused_hit.bm25_rank);
    scores->set_bm25_score(fused_hit.bm25_score);
    scores->set_dense_rank(fused_hit.dense_rank);
    scores->set_dense_score(fused_hit.dense_score);
    scores->set_fused_score(fused_hit.fused);
    if (rerank_scores[i]) {
      scores->set_rerank_score(*rerank_scores[i]);
    } else {
      scores->clear_rerank_score();
    }
  }
  int64_t filter_matches = 0;
  for (size_t i = 0; i < n; ++i) {
    if (statuses[i].ok() && answers[i].responses_size() > 0) {
      filter_matches += std::max<int64_t>(0, answers[i].responses(0).filter_matches());
    }
    // Answered, but every replica still has handed-off writes to apply.
    if (statuses[i].ok() && shards_->Behind(i)) missing.push_back(shards_->shard(i).name);
  }
  response->set_filter_matches(filter_matches);
  std::sort(missing.begin(), missing.end());
  missing.erase(std::unique(missing.begin(), missing.end()), missing.end());
  response->set_partial(!missing.empty());
  for (const std::string& name : missing) response->add_missing_shards(name);
  response->set_took_ms(
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  return grpc::Status::OK;
}

grpc::Status ShardedRetrievalService::Rerank(const CallScope& scope, const SearchRequest& request,
                                             const std::vector<const SearchHit*>& table,
                                             const std::vector<size_t>& shard_of, int top_n,
                                             std::vector<FusedHit>* fused,
                                             std::vector<std::optional<float>>* rerank_scores,
                                             std::vector<std::string>* missing) const {
  // The best fused candidates, scored by the shards that hold them.
  const size_t n = std::min<size_t>(fused->size(), top_n);
  std::vector<retrieval::v1::RerankChunksRequest> requests(shards_->size());
  std::vector<std::vector<size_t>> positions(shards_->size());
  for (size_t i = 0; i < n; ++i) {
    const uint32_t id = (*fused)[i].id;
    retrieval::v1::RerankChunksRequest& part = requests[shard_of[id]];
    part.add_chunk_ids(table[id]->chunk_id());
    positions[shard_of[id]].push_back(i);
  }
  std::vector<retrieval::v1::RerankChunksResponse> answers(shards_->size());
  std::vector<grpc::Status> statuses(shards_->size());
  ParallelFor(shards_->size(), [&](size_t shard) {
    if (positions[shard].empty()) return;
    requests[shard].set_collection(request.collection());
    requests[shard].set_query(request.query());
    requests[shard].set_model(request.rerank().model());
    statuses[shard] =
        shards_->Read(shard, scope, [&](ShardSet::Replica& replica, grpc::ClientContext* context) {
          return replica.retrieval->RerankChunks(context, requests[shard], &answers[shard]);
        });
  });
  std::vector<std::optional<float>> scores(n);
  for (size_t shard = 0; shard < shards_->size(); ++shard) {
    if (positions[shard].empty()) continue;
    const grpc::Status& status = statuses[shard];
    if (IsTransient(status)) {
      // Its candidates keep their fused order after the reranked ones.
      if (std::find(missing->begin(), missing->end(), shards_->shard(shard).name) ==
          missing->end()) {
        missing->push_back(shards_->shard(shard).name);
      }
      continue;
    }
    if (!status.ok()) return grpc::Status(status.error_code(), status.error_message());
    if (answers[shard].scores_size() != static_cast<int>(positions[shard].size())) {
      return grpc::Status(grpc::StatusCode::INTERNAL,
                          absl::StrCat("shard ", shards_->shard(shard).name,
                                       " returned a wrong number of rerank scores"));
    }
    for (size_t j = 0; j < positions[shard].size(); ++j) {
      scores[positions[shard][j]] = answers[shard].scores(static_cast<int>(j));
    }
  }
  // As one index reorders: reranked candidates first by score, the rest in fused order.
  *rerank_scores = ApplyRerankScores(scores, fused);
  return grpc::Status::OK;
}

grpc::Status ShardedRetrievalService::RerankChunks(
    grpc::ServerContext* context, const retrieval::v1::RerankChunksRequest* request,
    retrieval::v1::RerankChunksResponse* response) {
  // Each chunk ("<document id>#<ordinal>") is scored by its document's shard.
  std::vector<retrieval::v1::RerankChunksRequest> requests(shards_->size());
  std::vector<std::vector<int>> positions(shards_->size());
  for (int i = 0; i < request->chunk_ids_size(); ++i) {
    const std::string& chunk_id = request->chunk_ids(i);
    const size_t hash = chunk_id.rfind('#');
    const size_t shard =
        shards_->OwnerOf(hash == std::string::npos ? chunk_id : chunk_id.substr(0, hash));
    requests[shard].add_chunk_ids(chunk_id);
    positions[shard].push_back(i);
  }
  std::vector<retrieval::v1::RerankChunksResponse> answers(shards_->size());
  const std::vector<grpc::Status> statuses = shards_->ReadAll(
      ScopeOf(*context, default_timeout_),
      [&](size_t shard, ShardSet::Replica& replica, grpc::ClientContext* call) {
        if (positions[shard].empty()) return grpc::Status::OK;
        requests[shard].set_collection(request->collection());
        requests[shard].set_query(request->query());
        requests[shard].set_model(request->model());
        return replica.retrieval->RerankChunks(call, requests[shard], &answers[shard]);
      });
  for (size_t shard = 0; shard < shards_->size(); ++shard) {
    if (!statuses[shard].ok()) {
      return grpc::Status(statuses[shard].error_code(),
                          absl::StrCat("shard ", shards_->shard(shard).name, ": ",
                                       statuses[shard].error_message()));
    }
  }
  response->mutable_scores()->Resize(request->chunk_ids_size(), 0.0f);
  for (size_t shard = 0; shard < shards_->size(); ++shard) {
    for (size_t j = 0;
         j < positions[shard].size() && j < static_cast<size_t>(answers[shard].scores_size());
         ++j) {
      response->set_scores(positions[shard][j], answers[shard].scores(static_cast<int>(j)));
    }
  }
  return grpc::Status::OK;
}

grpc::Status ShardedRetrievalService::BatchSearch(grpc::ServerContext* context,
                                                  const retrieval::v1::BatchSearchRequest* request,
                                                  retrieval::v1::BatchSearchResponse* response) {
  if (request->requests_size() > 1000) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "at most 1000 searches per batch");
  }
  for (int i = 0; i < request->requests_size(); ++i) {
    const SearchRequest& one = request->requests(i);
    grpc::Status status =
        SearchSharded(ScopeFor(*context, one.timeout_ms()), one, response->add_responses());
    if (!status.ok()) {
      return grpc::Status(status.error_code(),
                          absl::StrCat("requests[", i, "]: ", status.error_message()));
    }
  }
  return grpc::Status::OK;
}

grpc::Status ShardedRetrievalService::GetIndexStats(grpc::ServerContext* context,
                                                    const retrieval::v1::IndexStatsRequest* request,
                                                    retrieval::v1::IndexStats* response) {
  const size_t n = shards_->size();
  std::vector<retrieval::v1::IndexStats> parts(n);
  const std::vector<grpc::Status> statuses =
      shards_->ReadAll(ScopeOf(*context, default_timeout_),
                       [&](size_t i, ShardSet::Replica& replica, grpc::ClientContext* call) {
                         return replica.retrieval->GetIndexStats(call, *request, &parts[i]);
                       });
  grpc::Status answered = EveryShardAnswered(*shards_, statuses);
  if (!answered.ok()) return answered;
  response->set_collection(request->collection());
  for (size_t i = 0; i < n; ++i) {
    if (!statuses[i].ok()) continue;
    const retrieval::v1::IndexStats& part = parts[i];
    response->set_documents(response->documents() + part.documents());
    response->set_chunks(response->chunks() + part.chunks());
    response->set_bm25_terms(response->bm25_terms() + part.bm25_terms());
    response->set_bm25_segments(response->bm25_segments() + part.bm25_segments());
    response->set_dense_vectors(response->dense_vectors() + part.dense_vectors());
    if (part.dense_dimension() != 0) response->set_dense_dimension(part.dense_dimension());
    if (!part.dense_backend().empty()) response->set_dense_backend(part.dense_backend());
    // Positions of different logs do not add up, but their lags do.
    response->set_applied_log_position(response->applied_log_position() +
                                       part.applied_log_position());
    response->set_log_head_position(response->log_head_position() + part.log_head_position());
  }
  return grpc::Status::OK;
}

grpc::Status ShardedRetrievalService::RebuildIndex(
    grpc::ServerContext* context, const retrieval::v1::RebuildIndexRequest* request,
    retrieval::v1::RebuildIndexResponse* response) {
  const auto start = std::chrono::steady_clock::now();
  // Rebuilding takes as long as it takes: only the caller's deadline applies.
  const CallScope scope = ScopeOf(*context);
  struct Target {
    std::string name;
    ShardSet::Replica* replica;
    grpc::Status status;
  };
  std::vector<Target> targets;
  for (size_t i = 0; i < shards_->size(); ++i) {
    for (const auto& replica : shards_->shard(i).replicas) {
      targets.push_back({shards_->shard(i).name, replica.get(), grpc::Status::OK});
    }
  }
  std::vector<retrieval::v1::RebuildIndexResponse> parts(targets.size());
  ParallelFor(targets.size(), [&](size_t i) {
    grpc::ClientContext call;
    PrepareContext(&call, scope);
    targets[i].status = targets[i].replica->retrieval->RebuildIndex(&call, *request, &parts[i]);
  });
  for (const Target& target : targets) {
    if (!target.status.ok() && !IsNotFound(target.status)) {
      return grpc::Status(target.status.error_code(),
                          absl::StrCat("shard ", target.name, " replica ", target.replica->address,
                                       ": ", target.status.error_message()));
    }
  }
  retrieval::v1::IndexStatsRequest stats_request;
  stats_request.set_collection(request->collection());
  grpc::Status stats = GetIndexStats(context, &stats_request, response->mutable_stats());
  if (!stats.ok()) return stats;
  response->set_seconds(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return grpc::Status::OK;
}

grpc::Status ShardedRetrievalService::GetTermStatistics(
    grpc::ServerContext* context, const retrieval::v1::TermStatisticsRequest* request,
    Bm25CorpusStats* response) {
  const size_t n = shards_->size();
  std::vector<Bm25CorpusStats> parts(n);
  const std::vector<grpc::Status> statuses =
      shards_->ReadAll(ScopeOf(*context, default_timeout_),
                       [&](size_t i, ShardSet::Replica& replica, grpc::ClientContext* call) {
                         return replica.retrieval->GetTermStatistics(call, *request, &parts[i]);
                       });
  grpc::Status answered = EveryShardAnswered(*shards_, statuses);
  if (!answered.ok()) return answered;
  response->Clear();
  for (size_t i = 0; i < n; ++i) {
    if (statuses[i].ok()) AddStats(parts[i], response);
  }
  return grpc::Status::OK;
}

}  // namespace tessera::retrieval::sharding

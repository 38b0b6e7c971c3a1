// tessera.retrieval.v1.RetrievalService over retrieval shards: every search is
// sent to all shards in parallel with a deadline and their hits merged, with
// the same fusion one index applies.
//
// A BM25 (or hybrid) search has two phases: the shards' BM25 statistics of the
// query terms are summed first and sent with the search, so every shard scores
// with the IDF and average length of the whole corpus and the merged ranking
// equals that of one index holding all documents. Hybrid search takes each
// retriever's global candidate list from the shards and fuses them here;
// reranking has the shards holding the best fused candidates score them.
//
// A shard that fails or misses the deadline (SearchRequest.timeout_ms, else the
// default) does not fail the search: the response is flagged `partial` and
// names it in `missing_shards`, as it names a shard whose replicas all have
// handed-off writes still waiting (its answer may lack them).
#ifndef TESSERA_RETRIEVAL_SHARDING_SHARDED_RETRIEVAL_SERVICE_H_
#define TESSERA_RETRIEVAL_SHARDING_SHARDED_RETRIEVAL_SERVICE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "retrieval/fusion.h"
#include "retrieval/sharding/shard_set.h"
#include "tessera/retrieval/v1/retrieval.grpc.pb.h"

namespace tessera::retrieval::sharding {

class ShardedRetrievalService final : public retrieval::v1::RetrievalService::Service {
 public:
  // `shards` must outlive the service.
  ShardedRetrievalService(ShardSet* shards, absl::Duration default_timeout)
      : shards_(shards), default_timeout_(default_timeout) {}

  grpc::Status Search(grpc::ServerContext* context, const retrieval::v1::SearchRequest* request,
                      retrieval::v1::SearchResponse* response) override;
  grpc::Status BatchSearch(grpc::ServerContext* context,
                           const retrieval::v1::BatchSearchRequest* request,
                           retrieval::v1::BatchSearchResponse* response) override;
  // Sums over shards; UNAVAILABLE naming the shard when one cannot answer.
  grpc::Status GetIndexStats(grpc::ServerContext* context,
                             const retrieval::v1::IndexStatsRequest* request,
                             retrieval::v1::IndexStats* response) override;
  // Rebuilds on every replica of every shard.
  grpc::Status RebuildIndex(grpc::ServerContext* context,
                            const retrieval::v1::RebuildIndexRequest* request,
                            retrieval::v1::RebuildIndexResponse* response) override;
  // Sums over shards (the statistics the shards score with).
  grpc::Status GetTermStatistics(grpc::ServerContext* context,
                                 const retrieval::v1::TermStatisticsRequest* request,
                                 retrieval::v1::Bm25CorpusStats* response) override;

  // Scores chunks on the shards of their documents.
  grpc::Status RerankChunks(grpc::ServerContext* context,
                            const retrieval::v1::RerankChunksRequest* request,
                            retrieval::v1::RerankChunksResponse* response) override;

  // The search itself, for callers inside the router.
  grpc::Status SearchSharded(const CallScope& scope, const retrieval::v1::SearchRequest& request,
                             retrieval::v1::SearchResponse* response) const;

 private:
  // The search deadline: timeout_ms, else the default; never past the caller's.
  CallScope ScopeFor(const grpc::ServerContext& context, int timeout_ms) const {
    return ScopeOf(context, timeout_ms > 0 ? absl::Milliseconds(timeout_ms) : default_timeout_);
  }

  // The rerank phase: the best `top_n` fused candidates are scored by the
  // shards holding them and reordered as one index reorders its candidates.
  grpc::Status Rerank(const CallScope& scope, const retrieval::v1::SearchRequest& request,
                      const std::vector<const retrieval::v1::SearchHit*>& table,
                      const std::vector<size_t>& shard_of, int top_n, std::vector<FusedHit>* fused,
                      std::vector<std::optional<float>>* rerank_scores,
                      std::vector<std::string>* missing) const;

  ShardSet* shards_;
  absl::Duration default_timeout_;
};

}  // namespace tessera::retrieval::sharding

#endif  // TESSERA_RETRIEVAL_SHARDING_SHARDED_RETRIEVAL_SERVICE_H_

// tessera.retrieval.v1.RetrievalService through the router: Search answers
// from the tenant-scoped response cache when the same search ran since the
// last write (the key includes the ingest log head, so a write is never
// hidden by the cache); the other methods pass through, and RebuildIndex
// drops the tenant's cached entries.
#ifndef TESSERA_GATEWAY_CACHED_RETRIEVAL_SERVICE_H_
#define TESSERA_GATEWAY_CACHED_RETRIEVAL_SERVICE_H_

#include <functional>

#include "absl/status/statusor.h"
#include "gateway/response_cache.h"
#include "tessera/retrieval/v1/retrieval.grpc.pb.h"

namespace tessera::gateway {

class CachedRetrievalService final : public retrieval::v1::RetrievalService::Service {
 public:
  // `inner` must outlive this; `cache` may be null (no caching).
  CachedRetrievalService(retrieval::v1::RetrievalService::Service* inner, ResponseCache* cache,
                         std::function<absl::StatusOr<int64_t>()> data_version)
      : inner_(inner), cache_(cache), data_version_(std::move(data_version)) {}

  grpc::Status Search(grpc::ServerContext* context, const retrieval::v1::SearchRequest* request,
                      retrieval::v1::SearchResponse* response) override;
  grpc::Status BatchSearch(grpc::ServerContext* context,
                           const retrieval::v1::BatchSearchRequest* request,
                           retrieval::v1::BatchSearchResponse* response) override;
  grpc::Status GetIndexStats(grpc::ServerContext* context,
                             const retrieval::v1::IndexStatsRequest* request,
                             retrieval::v1::IndexStats* response) override;
  grpc::Status RebuildIndex(grpc::ServerContext* context,
                            const retrieval::v1::RebuildIndexRequest* request,
                            retrieval::v1::RebuildIndexResponse* response) override;
  grpc::Status GetTermStatistics(grpc::ServerContext* context,
                                 const retrieval::v1::TermStatisticsRequest* request,
                                 retrieval::v1::Bm25CorpusStats* response) override;
  grpc::Status RerankChunks(grpc::ServerContext* context,
                            const retrieval::v1::RerankChunksRequest* request,
                            retrieval::v1::RerankChunksResponse* response) override;

 private:
  retrieval::v1::RetrievalService::Service* inner_;
  ResponseCache* cache_;
  std::function<absl::StatusOr<int64_t>()> data_version_;
};

}  // namespace tessera::gateway

#endif  // TESSERA_GATEWAY_CACHED_RETRIEVAL_SERVICE_H_

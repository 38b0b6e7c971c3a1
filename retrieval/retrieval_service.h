// tessera.retrieval.v1.RetrievalService over the collection indexes.
//
// Searches see every write acknowledged before them: when the indexes lag the
// ingest log, a search waits (up to a bound) for the indexer to catch up.
#ifndef TESSERA_RETRIEVAL_RETRIEVAL_SERVICE_H_
#define TESSERA_RETRIEVAL_RETRIEVAL_SERVICE_H_

#include "absl/time/time.h"
#include "ingest/document_store.h"
#include "ingest/index_feed.h"
#include "retrieval/index_registry.h"
#include "tessera/retrieval/v1/retrieval.grpc.pb.h"

namespace tessera::retrieval {

class RetrievalServiceImpl final : public retrieval::v1::RetrievalService::Service {
 public:
  // None owned; all must outlive the service.
  RetrievalServiceImpl(IndexRegistry* registry, ingest::DocumentStore* store,
                       ingest::IndexFeed* feed, absl::Duration max_staleness_wait = absl::Seconds(5))
      : registry_(registry), store_(store), feed_(feed), max_wait_(max_staleness_wait) {}

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
  // Waits until the indexes have applied every acknowledged write.
  absl::Status CatchUp();
  // INVALID_ARGUMENT for an empty name, NOT_FOUND for a collection the tenant
  // does not have.
  absl::Status CheckCollection(const std::string& tenant, const std::string& collection);
  absl::StatusOr<retrieval::v1::SearchResponse> SearchOne(const std::string& tenant,
                                                          const retrieval::v1::SearchRequest& request);

  IndexRegistry* registry_;
  ingest::DocumentStore* store_;
  ingest::IndexFeed* feed_;
  absl::Duration max_wait_;
};

}  // namespace tessera::retrieval

#endif  // TESSERA_RETRIEVAL_RETRIEVAL_SERVICE_H_

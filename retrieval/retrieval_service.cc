#include "retrieval/retrieval_service.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/tenant.h"

namespace tessera::retrieval {

absl::Status RetrievalServiceImpl::CatchUp() { return feed_->WaitUntilCurrent(max_wait_); }

absl::StatusOr<retrieval::v1::SearchResponse> RetrievalServiceImpl::SearchOne(
    const std::string& tenant, const retrieval::v1::SearchRequest& request) {
  if (request.collection().empty()) return absl::InvalidArgumentError("collection is required");
  std::shared_ptr<const CollectionIndex> index = registry_->Find(tenant, request.collection());
  if (index == nullptr) {
    // Distinguish a missing collection from one that has no documents yet.
    auto collection = store_->GetCollection(tenant, request.collection());
    if (!collection.ok()) return collection.status();
    return retrieval::v1::SearchResponse();
  }
  return index->Search(request);
}

grpc::Status RetrievalServiceImpl::Search(grpc::ServerContext* context,
                                          const retrieval::v1::SearchRequest* request,
                                          retrieval::v1::SearchResponse* response) {
  absl::Status fresh = CatchUp();
  if (!fresh.ok()) return ToGrpcStatus(fresh);
  auto result = SearchOne(TenantOf(*context), *request);
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

grpc::Status RetrievalServiceImpl::BatchSearch(grpc::ServerContext* context,
                                               const retrieval::v1::BatchSearchRequest* request,
                                               retrieval::v1::BatchSearchResponse* response) {
  if (request->requests_size() > 1000) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "at most 1000 searches per batch");
  }
  absl::Status fresh = CatchUp();
  if (!fresh.ok()) return ToGrpcStatus(fresh);
  const std::string tenant = TenantOf(*context);
  for (int i = 0; i < request->requests_size(); ++i) {
    auto result = SearchOne(tenant, request->requests(i));
    if (!result.ok()) {
      absl::Status status = result.status();
      return ToGrpcStatus(absl::Status(status.code(),
                                       absl::StrCat("requests[", i, "]: ", status.message())));
    }
    *response->add_responses() = std::move(*result);
  }
  return grpc::Status::OK;
}

absl::Status RetrievalServiceImpl::CheckCollection(const std::string& tenant,
                                                  const std::string& collection) {
  if (collection.empty()) return absl::InvalidArgumentError("collection is required");
  return store_->GetCollection(tenant, collection).status();
}

grpc::Status RetrievalServiceImpl::GetIndexStats(grpc::ServerContext* context,
                                                 const retrieval::v1::IndexStatsRequest* request,
                                                 retrieval::v1::IndexStats* response) {
  const std::string tenant = TenantOf(*context);
  absl::Status exists = CheckCollection(tenant, request->collection());
  if (!exists.ok()) return ToGrpcStatus(exists);
  response->set_collection(request->collection());
  if (auto index = registry_->Find(tenant, request->collection())) {
    CollectionStats stats = index->Stats();
    response->set_documents(stats.documents);
    response->set_chunks(stats.chunks);
    response->set_bm25_segments(stats.bm25_segments);
    response->set_dense_vectors(stats.dense_vectors);
    response->set_dense_dimension(stats.dense_dimension);
    response->set_dense_backend(stats.dense_backend);
  }
  auto applied = store_->GetIndexerPosition(registry_->name());
  auto head = store_->LogHead();
  if (!applied.ok()) return ToGrpcStatus(applied.status());
  if (!head.ok()) return ToGrpcStatus(head.status());
  response->set_applied_log_position(*applied);
  response->set_log_head_position(*head);
  return grpc::Status::OK;
}

grpc::Status RetrievalServiceImpl::RebuildIndex(grpc::ServerContext* context,
                                                const retrieval::v1::RebuildIndexRequest* request,
                                                retrieval::v1::RebuildIndexResponse* response) {
  const std::string tenant = TenantOf(*context);
  absl::Status exists = CheckCollection(tenant, request->collection());
  if (!exists.ok()) return ToGrpcStatus(exists);
  const auto start = std::chrono::steady_clock::now();
  // The indexes are derived state: replay the whole log from the source of truth.
  absl::Status status = feed_->Rebuild([this] { registry_->Reset(); });
  if (!status.ok()) return ToGrpcStatus(status);
  retrieval::v1::IndexStatsRequest stats_request;
  stats_request.set_collection(request->collection());
  grpc::Status stats = GetIndexStats(context, &stats_request, response->mutable_stats());
  if (!stats.ok()) return stats;
  response->set_seconds(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return grpc::Status::OK;
}

grpc::Status RetrievalServiceImpl::GetTermStatistics(
    grpc::ServerContext* context, const retrieval::v1::TermStatisticsRequest* request,
    retrieval::v1::Bm25CorpusStats* response) {
  if (request->collection().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "collection is required");
  }
  absl::Status fresh = CatchUp();
  if (!fresh.ok()) return ToGrpcStatus(fresh);
  const std::string tenant = TenantOf(*context);
  std::shared_ptr<const CollectionIndex> index = registry_->Find(tenant, request->collection());
  if (index == nullptr) {
    // A collection without documents yet has empty statistics.
    auto collection = store_->GetCollection(tenant, request->collection());
    if (!collection.ok()) return ToGrpcStatus(collection.status());
    return grpc::Status::OK;
  }
  *response = index->TermStatistics(request->query());
  return grpc::Status::OK;
}

grpc::Status RetrievalServiceImpl::RerankChunks(grpc::ServerContext* context,
                                                const retrieval::v1::RerankChunksRequest* request,
                                                retrieval::v1::RerankChunksResponse* response) {
  if (request->collection().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "collection is required");
  }
  absl::Status fresh = CatchUp();
  if (!fresh.ok()) return ToGrpcStatus(fresh);
  const std::string tenant = TenantOf(*context);
  std::shared_ptr<const CollectionIndex> index = registry_->Find(tenant, request->collection());
  if (index == nullptr) {
    auto collection = store_->GetCollection(tenant, request->collection());
    if (!collection.ok()) return ToGrpcStatus(collection.status());
    if (request->chunk_ids_size() == 0) return grpc::Status::OK;
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        "no chunk " + request->chunk_ids(0) + " in this collection");
  }
  auto scores = index->RerankChunks(
      request->query(), {request->chunk_ids().begin(), request->chunk_ids().end()});
  if (!scores.ok()) return ToGrpcStatus(scores.status());
  response->mutable_scores()->Add(scores->begin(), scores->end());
  return grpc::Status::OK;
}

}  // namespace tessera::retrieval

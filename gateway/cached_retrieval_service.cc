#include "gateway/cached_retrieval_service.h"

#include "absl/strings/str_cat.h"
#include "common/tenant.h"
#include "gateway/generation_path.h"

namespace tessera::gateway {

grpc::Status CachedRetrievalService::Search(grpc::ServerContext* context,
                                            const retrieval::v1::SearchRequest* request,
                                            retrieval::v1::SearchResponse* response) {
  if (cache_ == nullptr || !data_version_) return inner_->Search(context, request, response);
  auto version = data_version_();
  if (!version.ok()) return inner_->Search(context, request, response);
  const std::string tenant = TenantOf(*context);
  const std::string key =
      ResponseCache::MessageKey("retrieval.Search", *request, absl::StrCat(*version));
  if (cache_->LookupMessage(tenant, key, response)) {
    context->AddTrailingMetadata(kCacheTrailer, "hit");
    return grpc::Status::OK;
  }
  grpc::Status status = inner_->Search(context, request, response);
  // A partial answer (shards past the timeout) is not worth keeping.
  if (status.ok() && !response->partial()) cache_->InsertMessage(tenant, key, *response);
  context->AddTrailingMetadata(kCacheTrailer, "miss");
  return status;
}

grpc::Status CachedRetrievalService::BatchSearch(grpc::ServerContext* context,
                                                 const retrieval::v1::BatchSearchRequest* request,
                                                 retrieval::v1::BatchSearchResponse* response) {
  return inner_->BatchSearch(context, request, response);
}

grpc::Status CachedRetrievalService::GetIndexStats(grpc::ServerContext* context,
                                                   const retrieval::v1::IndexStatsRequest* request,
                                                   retrieval::v1::IndexStats* response) {
  return inner_->GetIndexStats(context, request, response);
}

grpc::Status CachedRetrievalService::GetTermStatistics(
    grpc::ServerContext* context, const retrieval::v1::TermStatisticsRequest* request,
    retrieval::v1::Bm25CorpusStats* response) {
  return inner_->GetTermStatistics(context, request, response);
}

grpc::Status CachedRetrievalService::RerankChunks(grpc::ServerContext* context,
                                                  const retrieval::v1::RerankChunksRequest* request,
                                                  retrieval::v1::RerankChunksResponse* response) {
  return inner_->RerankChunks(context, request, response);
}

grpc::Status CachedRetrievalService::RebuildIndex(grpc::ServerContext* context,
                                                  const retrieval::v1::RebuildIndexRequest* request,
                                                  retrieval::v1::RebuildIndexResponse* response) {
  grpc::Status status = inner_->RebuildIndex(context, request, response);
  // A rebuilt index may rank differently under the same log head.
  if (cache_ != nullptr) cache_->InvalidateTenant(TenantOf(*context));
  return status;
}

}  // namespace tessera::gateway

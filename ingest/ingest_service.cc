#include "ingest/ingest_service.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/metadata_filter.h"
#include "common/tenant.h"

namespace tessera::ingest {
namespace {

using common::v1::Document;

// Documents per transaction in streamed ingestion: amortises the fsync.
constexpr int kStreamBatchSize = 256;

grpc::Status InvalidArgument(const std::string& message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message);
}

}  // namespace

ingest::v1::ChunkingConfig IngestServiceImpl::ChunkingFor(
    const std::string& tenant, const std::string& collection,
    const ingest::v1::ChunkingConfig& requested) const {
  if (requested.strategy() != ingest::v1::ChunkingConfig::STRATEGY_UNSPECIFIED) return requested;
  auto stored = store_->GetCollection(tenant, collection);
  if (stored.ok() && stored->has_chunking()) return stored->chunking();
  return requested;
}

grpc::Status IngestServiceImpl::CreateCollection(grpc::ServerContext* context,
                                                 const ingest::v1::CreateCollectionRequest* request,
                                                 ingest::v1::Collection* response) {
  auto created = store_->CreateCollection(TenantOf(*context), request->collection(),
                                          request->if_not_exists());
  if (!created.ok()) return ToGrpcStatus(created.status());
  *response = std::move(*created);
  return grpc::Status::OK;
}

grpc::Status IngestServiceImpl::GetCollection(grpc::ServerContext* context,
                                              const ingest::v1::GetCollectionRequest* request,
                                              ingest::v1::Collection* response) {
  if (request->name().empty()) return InvalidArgument("name is required");
  auto collection = store_->GetCollection(TenantOf(*context), request->name());
  if (!collection.ok()) return ToGrpcStatus(collection.status());
  *response = std::move(*collection);
  return grpc::Status::OK;
}

grpc::Status IngestServiceImpl::ListCollections(grpc::ServerContext* context,
                                                const ingest::v1::ListCollectionsRequest* request,
                                                ingest::v1::ListCollectionsResponse* response) {
  auto collections = store_->ListCollections(TenantOf(*context));
  if (!collections.ok()) return ToGrpcStatus(collections.status());
  for (auto& collection : *collections) *response->add_collections() = std::move(collection);
  response->mutable_page()->set_total_size(response->collections_size());
  return grpc::Status::OK;
}

grpc::Status IngestServiceImpl::DeleteCollection(grpc::ServerContext* context,
                                                 const ingest::v1::DeleteCollectionRequest* request,
                                                 ingest::v1::DeleteCollectionResponse* response) {
  if (request->name().empty()) return InvalidArgument("name is required");
  auto deleted = store_->DeleteCollection(TenantOf(*context), request->name());
  if (!deleted.ok()) return ToGrpcStatus(deleted.status());
  Committed();
  response->set_documents_deleted(*deleted);
  return grpc::Status::OK;
}

grpc::Status IngestServiceImpl::PutDocument(grpc::ServerContext* context,
                                            const ingest::v1::PutDocumentRequest* request,
                                            ingest::v1::PutDocumentResponse* response) {
  if (!request->has_document()) return InvalidArgument("document is required");
  const std::string tenant = TenantOf(*context);
  auto prepared = preparer_.Prepare(
      request->document(),
      ChunkingFor(tenant, request->document().collection(), request->chunking()));
  if (!prepared.ok()) return ToGrpcStatus(prepared.status());
  auto outcome = store_->PutDocument(tenant, *prepared, request->create_collection());
  if (!outcome.ok()) return ToGrpcStatus(outcome.status());
  Committed();
  response->set_id(request->document().id());
  response->set_version(outcome->version);
  response->set_content_hash(outcome->content_hash);
  response->set_unchanged(outcome->unchanged);
  response->set_chunk_count(outcome->chunk_count);
  return grpc::Status::OK;
}

grpc::Status IngestServiceImpl::GetDocument(grpc::ServerContext* context,
                                            const ingest::v1::GetDocumentRequest* request,
                                            ingest::v1::GetDocumentResponse* response) {
  if (request->collection().empty()) return InvalidArgument("collection is required");
  if (request->id().empty()) return InvalidArgument("id is required");
  const std::string tenant = TenantOf(*context);
  auto document = store_->GetDocument(tenant, request->collection(), request->id());
  if (!document.ok()) return ToGrpcStatus(document.status());
  *response->mutable_document() = std::move(*document);
  if (request->include_chunks()) {
    auto chunks = store_->GetChunks(tenant, request->collection(), request->id());
    if (!chunks.ok()) return ToGrpcStatus(chunks.status());
    for (auto& chunk : *chunks) *response->add_chunks() = std::move(chunk);
  }
  return grpc::Status::OK;
}

grpc::Status IngestServiceImpl::DeleteDocument(grpc::ServerContext* context,
                                               const ingest::v1::DeleteDocumentRequest* request,
                                               ingest::v1::DeleteDocumentResponse* response) {
  if (request->collection().empty()) return InvalidArgument("collection is required");
  if (request->id().empty()) return InvalidArgument("id is required");
  auto deleted = store_->DeleteDocument(TenantOf(*context), request->collection(), request->id());
  if (!deleted.ok()) return ToGrpcStatus(deleted.status());
  Committed();
  response->set_deleted(*deleted);
  return grpc::Status::OK;
}

grpc::Status IngestServiceImpl::ListDocuments(grpc::ServerContext* context,
                                              const ingest::v1::ListDocumentsRequest* request,
                                              ingest::v1::ListDocumentsResponse* response) {
  if (request->collection().empty()) return InvalidArgument("collection is required");
  auto filter = MetadataFilter::Compile(request->filter());
  if (!filter.ok()) return ToGrpcStatus(filter.status());
  const std::string tenant = TenantOf(*context);
  const int wanted = request->page().page_size() > 0 ? request->page().page_size() : 100;
  std::string token = request->page().page_token();
  // Scan store pages until the page is full of matches or the collection ends;
  // the next token continues after the last document scanned.
  std::string last_scanned;
  bool more = true;
  while (more && response->documents_size() < wanted) {
    auto page = store_->ListDocuments(tenant, request->collection(), wanted, token);
    if (!page.ok()) return ToGrpcStatus(page.status());
    if (filter->MatchesAll()) response->mutable_page()->set_total_size(page->total_size);
    size_t scanned = 0;
    for (auto& document : page->documents) {
      if (response->documents_size() >= wanted) break;
      ++scanned;
      last_scanned = document.id();
      if (filter->Matches(document.metadata())) *response->add_documents() = std::move(document);
    }
    more = !page->next_page_token.empty() || scanned < page->documents.size();
    token = DocumentPageToken(last_scanned);
  }
  response->mutable_page()->set_next_page_token(more ? token : "");
  return grpc::Status::OK;
}

grpc::Status IngestServiceImpl::ListChunks(grpc::ServerContext* context,
                                           const ingest::v1::ListChunksRequest* request,
                                           ingest::v1::ListChunksResponse* response) {
  if (request->collection().empty()) return InvalidArgument("collection is required");
  if (request->document_id().empty()) return InvalidArgument("document_id is required");
  const std::string tenant = TenantOf(*context);
  // Distinguish "no such document" from "document without chunks".
  auto document = store_->GetDocument(tenant, request->collection(), request->document_id());
  if (!document.ok()) return ToGrpcStatus(document.status());
  auto chunks = store_->GetChunks(tenant, request->collection(), request->document_id());
  if (!chunks.ok()) return ToGrpcStatus(chunks.status());
  for (auto& chunk : *chunks) *response->add_chunks() = std::move(chunk);
  return grpc::Status::OK;
}

grpc::Status IngestServiceImpl::PreviewChunks(grpc::ServerContext* context,
                                              const ingest::v1::PreviewChunksRequest* request,
                                              ingest::v1::PreviewChunksResponse* response) {
  common::v1::Document document = request->document();
  // A preview needs no real identity; fill what validation asks for.
  if (document.id().empty()) document.set_id("preview");
  if (document.collection().empty()) document.set_collection("preview");
  auto prepared = preparer_.Prepare(document, request->chunking());
  if (!prepared.ok()) return ToGrpcStatus(prepared.status());
  response->set_text(prepared->document.text());
  for (size_t i = 0; i < prepared->chunks.size(); ++i) {
    common::v1::Chunk* chunk = response->add_chunks();
    *chunk = std::move(prepared->chunks[i]);
    chunk->set_ordinal(static_cast<int32_t>(i));
    chunk->set_document_id(document.id());
    chunk->set_id(absl::StrCat(document.id(), "#", i));
  }
  return grpc::Status::OK;
}

std::vector<PreparedDocument> IngestServiceImpl::PrepareBatch(
    const google::protobuf::RepeatedPtrField<Document>& documents, const std::string& collection,
    const ingest::v1::ChunkingConfig& chunking,
    std::vector<ingest::v1::DocumentResult>* failures) const {
  std::vector<PreparedDocument> prepared;
  prepared.reserve(documents.size());
  for (const Document& original : documents) {
    Document document = original;
    if (document.collection().empty()) document.set_collection(collection);
    absl::StatusOr<PreparedDocument> ready =
        document.collection() != collection
            ? absl::InvalidArgumentError(absl::StrCat("document \"", document.id(),
                                                      "\" names collection \"",
                                                      document.collection(), "\", not \"",
                                                      collection, "\""))
            : preparer_.Prepare(document, chunking);
    if (!ready.ok()) {
      ingest::v1::DocumentResult failure;
      // A record that failed before its id was known is named by where it came from.
      failure.set_id(document.id().empty() ? document.source_uri() : document.id());
      failure.set_code(static_cast<int32_t>(ready.status().code()));
      failure.set_error(std::string(ready.status().message()));
      failures->push_back(std::move(failure));
      continue;
    }
    prepared.push_back(std::move(*ready));
  }
  return prepared;
}

grpc::Status IngestServiceImpl::BatchPutDocuments(
    grpc::ServerContext* context, const ingest::v1::BatchPutDocumentsRequest* request,
    ingest::v1::BatchPutDocumentsResponse* response) {
  if (request->collection().empty()) return InvalidArgument("collection is required");
  const std::string tenant = TenantOf(*context);
  std::vector<ingest::v1::DocumentResult> failures;
  std::vector<PreparedDocument> prepared =
      PrepareBatch(request->documents(), request->collection(),
                   ChunkingFor(tenant, request->collection(), request->chunking()), &failures);
  auto stored = store_->PutBatch(tenant, request->collection(), prepared,
                                 request->create_collection(), request->idempotency_key());
  if (!stored.ok()) return ToGrpcStatus(stored.status());
  Committed();
  *response = std::move(*stored);
  if (!response->replayed()) {
    for (auto& failure : failures) *response->add_results() = std::move(failure);
    response->set_failed(response->failed() + static_cast<int64_t>(failures.size()));
  }
  return grpc::Status::OK;
}

grpc::Status IngestServiceImpl::StreamIngest(
    grpc::ServerContext* context, grpc::ServerReader<ingest::v1::StreamIngestRequest>* reader,
    ingest::v1::StreamIngestResponse* response) {
  const auto start = std::chrono::steady_clock::now();
  const std::string tenant = TenantOf(*context);
  std::string collection;
  std::string idempotency_key;
  bool create_collection = false;
  ingest::v1::ChunkingConfig chunking;
  google::protobuf::RepeatedPtrField<Document> pending;
  int batch_index = 0;

  auto flush = [&]() -> grpc::Status {
    if (pending.empty()) return grpc::Status::OK;
    std::vector<ingest::v1::DocumentResult> failures;
    std::vector<PreparedDocument> prepared =
        PrepareBatch(pending, collection, chunking, &failures);
    std::string key =
        idempotency_key.empty() ? "" : absl::StrCat(idempotency_key, "#", batch_index);
    ++batch_index;
    auto stored = store_->PutBatch(tenant, collection, prepared, create_collection, key);
    if (!stored.ok()) return ToGrpcStatus(stored.status());
    Committed();
    response->set_succeeded(response->succeeded() + stored->succeeded());
    response->set_failed(response->failed() + stored->failed() +
                         static_cast<int64_t>(failures.size()));
    for (const auto& result : stored->results()) {
      if (result.code() != 0) *response->add_errors() = result;
    }
    for (auto& failure : failures) *response->add_errors() = std::move(failure);
    pending.Clear();
    return grpc::Status::OK;
  };

  ingest::v1::StreamIngestRequest message;
  bool first = true;
  while (reader->Read(&message)) {
    if (first) {
      collection = message.collection();
      if (collection.empty()) return InvalidArgument("the first message must name the collection");
      create_collection = message.create_collection();
      idempotency_key = message.idempotency_key();
      chunking = ChunkingFor(tenant, collection, message.chunking());
      first = false;
    } else if (!message.collection().empty() && message.collection() != collection) {
      return InvalidArgument(absl::StrCat("a stream ingests into one collection (\"", collection,
                                          "\"), not \"", message.collection(), "\""));
    }
    response->set_bytes_received(response->bytes_received() + message.ByteSizeLong());
    for (Document& document : *message.mutable_documents()) {
      response->set_documents_received(response->documents_received() + 1);
      *pending.Add() = std::move(document);
      if (pending.size() >= kStreamBatchSize) {
        grpc::Status status = flush();
        if (!status.ok()) return status;
      }
    }
  }
  if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "client cancelled");
  grpc::Status status = flush();
  if (!status.ok()) return status;
  response->set_seconds(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return grpc::Status::OK;
}

}  // namespace tessera::ingest

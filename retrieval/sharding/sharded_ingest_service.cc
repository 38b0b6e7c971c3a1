#include "retrieval/sharding/sharded_ingest_service.h"

#include <chrono>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "ingest/parse/json_record.h"

namespace tessera::retrieval::sharding {
namespace {

using common::v1::Document;

// Documents per forwarded batch of a stream (as a shard commits a stream).
constexpr int kStreamBatchSize = 256;

grpc::Status InvalidArgument(const std::string& message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message);
}

grpc::Status ShardError(const ShardSet& shards, size_t shard, const grpc::Status& status) {
  return grpc::Status(status.error_code(), absl::StrCat("shard ", shards.shard(shard).name, ": ",
                                                        status.error_message()));
}

bool LooksLikeJson(const Document& document) {
  if (document.format() == common::v1::DOCUMENT_FORMAT_JSON) return true;
  if (document.format() != common::v1::DOCUMENT_FORMAT_UNSPECIFIED) return false;
  return absl::StartsWith(absl::StripLeadingAsciiWhitespace(document.content()), "{");
}

void SetHeader(grpc::ServerContext* context, const char* header,
               const std::set<std::string>& names) {
  if (!names.empty()) context->AddTrailingMetadata(header, absl::StrJoin(names, ","));
}

}  // namespace

absl::StatusOr<std::string> RoutingIdOf(const Document& document) {
  if (!document.id().empty()) return document.id();
  const std::string where = document.source_uri().empty() ? "" : document.source_uri() + ": ";
  if (!document.content().empty() && LooksLikeJson(document)) {
    auto record = ingest::ParseJsonRecord(document.content());
    if (!record.ok()) {
      return absl::Status(record.status().code(), absl::StrCat(where, record.status().message()));
    }
    if (!record->id.empty()) return record->id;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(where, "document.id is required (a JSON record names it in \"_id\" or \"id\")"));
}

std::vector<WriteOutcome> ShardedIngestService::Broadcast(const CallScope& scope,
                                                          const std::string& method,
                                                          const std::string& request) {
  std::vector<WriteOutcome> outcomes(shards_->size());
  ParallelFor(shards_->size(),
              [&](size_t i) { outcomes[i] = shards_->Write(i, scope, method, request); });
  return outcomes;
}

grpc::Status ShardedIngestService::EnsureCollection(const CallScope& scope,
                                                    const std::string& collection) {
  {
    absl::MutexLock lock(&mu_);
    if (known_collections_.count({scope.tenant, collection}) > 0) return grpc::Status::OK;
  }
  ingest::v1::CreateCollectionRequest request;
  request.mutable_collection()->set_name(collection);
  request.set_if_not_exists(true);
  std::vector<WriteOutcome> outcomes =
      Broadcast(scope, "CreateCollection", request.SerializeAsString());
  for (size_t i = 0; i < outcomes.size(); ++i) {
    if (!outcomes[i].status.ok()) return ShardError(*shards_, i, outcomes[i].status);
  }
  absl::MutexLock lock(&mu_);
  known_collections_.insert({scope.tenant, collection});
  return grpc::Status::OK;
}

grpc::Status ShardedIngestService::CreateCollection(
    grpc::ServerContext* context, const ingest::v1::CreateCollectionRequest* request,
    ingest::v1::Collection* response) {
  const CallScope scope = ScopeOf(*context);
  std::vector<WriteOutcome> outcomes =
      Broadcast(scope, "CreateCollection", request->SerializeAsString());
  std::set<std::string> handed_off;
  bool answered = false;
  for (size_t i = 0; i < outcomes.size(); ++i) {
    if (!outcomes[i].status.ok()) return outcomes[i].status;
    if (outcomes[i].handed_off) handed_off.insert(shards_->shard(i).name);
    if (outcomes[i].applied && !answered) {
      answered = response->ParseFromString(outcomes[i].response);
    }
  }
  if (!answered) *response = request->collection();  // Every shard is down: handed off.
  response->set_document_count(0);
  response->set_chunk_count(0);
  SetHeader(context, kHandedOffHeader, handed_off);
  absl::MutexLock lock(&mu_);
  known_collections_.insert({scope.tenant, request->collection().name()});
  return grpc::Status::OK;
}

grpc::Status ShardedIngestService::GetCollection(grpc::ServerContext* context,
                                                 const ingest::v1::GetCollectionRequest* request,
                                                 ingest::v1::Collection* response) {
  const CallScope scope = ScopeOf(*context);
  const size_t n = shards_->size();
  std::vector<ingest::v1::Collection> parts(n);
  std::vector<grpc::Status> statuses(n);
  ParallelFor(n, [&](size_t i) {
    statuses[i] =
        shards_->Read(i, scope, [&](ShardSet::Replica& replica, grpc::ClientContext* call) {
          return replica.ingest->GetCollection(call, *request, &parts[i]);
        });
  });
  std::set<std::string> missing;
  bool found = false;
  for (size_t i = 0; i < n; ++i) {
    if (statuses[i].ok()) {
      if (!found)
        *response = parts[i];
      else {
        response->set_document_count(response->document_count() + parts[i].document_count());
        response->set_chunk_count(response->chunk_count() + parts[i].chunk_count());
      }
      found = true;
    } else if (IsTransient(statuses[i])) {
      missing.insert(shards_->shard(i).name);
    } else if (statuses[i].error_code() != grpc::StatusCode::NOT_FOUND) {
      return statuses[i];
    }
  }
  if (!found) {
    for (size_t i = 0; i < n; ++i) {
      if (!IsTransient(statuses[i])) return statuses[i];  // NOT_FOUND everywhere it answered.
    }
    return ShardError(*shards_, 0, statuses[0]);
  }
  SetHeader(context, kMissingShardsHeader, missing);
  return grpc::Status::OK;
}

grpc::Status ShardedIngestService::ListCollections(
    grpc::ServerContext* context, const ingest::v1::ListCollectionsRequest* request,
    ingest::v1::ListCollectionsResponse* response) {
  const CallScope scope = ScopeOf(*context);
  const size_t n = shards_->size();
  std::vector<ingest::v1::ListCollectionsResponse> parts(n);
  std::vector<grpc::Status> statuses(n);
  ParallelFor(n, [&](size_t i) {
    statuses[i] =
        shards_->Read(i, scope, [&](ShardSet::Replica& replica, grpc::ClientContext* call) {
          return replica.ingest->ListCollections(call, *request, &parts[i]);
        });
  });
  std::map<std::string, ingest::v1::Collection> merged;
  std::set<std::string> missing;
  for (size_t i = 0; i < n; ++i) {
    if (!statuses[i].ok()) {
      if (!IsTransient(statuses[i])) return statuses[i];
      missing.insert(shards_->shard(i).name);
      continue;
    }
    for (const ingest::v1::Collection& collection : parts[i].collections()) {
      auto [entry, inserted] = merged.emplace(collection.name(), collection);
      if (inserted) continue;
      entry->second.set_document_count(entry->second.document_count() +
                                       collection.document_count());
      entry->second.set_chunk_count(entry->second.chunk_count() + collection.chunk_count());
    }
  }
  if (missing.size() == n) return ShardError(*shards_, 0, statuses[0]);
  for (auto& [name, collection] : merged) *response->add_collections() = std::move(collection);
  response->mutable_page()->set_total_size(response->collections_size());
  SetHeader(context, kMissingShardsHeader, missing);
  return grpc::Status::OK;
}

grpc::Status ShardedIngestService::DeleteCollection(
    grpc::ServerContext* context, const ingest::v1::DeleteCollectionRequest* request,
    ingest::v1::DeleteCollectionResponse* response) {
  if (request->name().empty()) return InvalidArgument("name is required");
  const CallScope scope = ScopeOf(*context);
  std::vector<WriteOutcome> outcomes =
      Broadcast(scope, "DeleteCollection", request->SerializeAsString());
  std::set<std::string> handed_off;
  size_t not_found = 0;
  for (size_t i = 0; i < outcomes.size(); ++i) {
    const WriteOutcome& outcome = outcomes[i];
    if (outcome.status.error_code() == grpc::StatusCode::NOT_FOUND) {
      ++not_found;
      continue;
    }
    if (!outcome.status.ok()) return ShardError(*shards_, i, outcome.status);
    if (outcome.handed_off) handed_off.insert(shards_->shard(i).name);
    ingest::v1::DeleteCollectionResponse part;
    if (outcome.applied && part.ParseFromString(outcome.response)) {
      response->set_documents_deleted(response->documents_deleted() + part.documents_deleted());
    }
  }
  if (not_found == outcomes.size()) return outcomes[0].status;
  SetHeader(context, kHandedOffHeader, handed_off);
  absl::MutexLock lock(&mu_);
  known_collections_.erase({scope.tenant, request->name()});
  return grpc::Status::OK;
}

grpc::Status ShardedIngestService::PutDocument(grpc::ServerContext* context,
                                               const ingest::v1::PutDocumentRequest* request,
                                               ingest::v1::PutDocumentResponse* response) {
  if (!request->has_document()) return InvalidArgument("document is required");
  auto id = RoutingIdOf(request->document());
  if (!id.ok()) return InvalidArgument(std::string(id.status().message()));
  const CallScope scope = ScopeOf(*context);
  if (request->create_collection()) {
    grpc::Status created = EnsureCollection(scope, request->document().collection());
    if (!created.ok()) return created;
  }
  ingest::v1::PutDocumentRequest forwarded = *request;
  forwarded.mutable_document()->set_id(*id);
  const size_t shard = shards_->OwnerOf(*id);
  WriteOutcome outcome = shards_->Write(shard, scope, "PutDocument", forwarded.SerializeAsString());
  if (!outcome.status.ok()) return outcome.status;
  if (outcome.applied) {
    response->ParseFromString(outcome.response);
  } else {
    response->set_id(*id);  // Handed off: version and hash are known once applied.
  }
  if (outcome.handed_off) SetHeader(context, kHandedOffHeader, {shards_->shard(shard).name});
  return grpc::Status::OK;
}

grpc::Status ShardedIngestService::GetDocument(grpc::ServerContext* context,
                                               const ingest::v1::GetDocumentRequest* request,
                                               ingest::v1::GetDocumentResponse* response) {
  if (request->id().empty()) return InvalidArgument("id is required");
  return shards_->Read(shards_->OwnerOf(request->id()), ScopeOf(*context),
                       [&](ShardSet::Replica& replica, grpc::ClientContext* call) {
                         return replica.ingest->GetDocument(call, *request, response);
                       });
}

grpc::Status ShardedIngestService::DeleteDocument(grpc::ServerContext* context,
                                                  const ingest::v1::DeleteDocumentRequest* request,
                                                  ingest::v1::DeleteDocumentResponse* response) {
  if (request->id().empty()) return InvalidArgument("id is required");
  const size_t shard = shards_->OwnerOf(request->id());
  WriteOutcome outcome =
      shards_->Write(shard, ScopeOf(*context), "DeleteDocument", request->SerializeAsString());
  if (!outcome.status.ok()) return outcome.status;
  if (outcome.applied) {
    response->ParseFromString(outcome.response);
  } else {
    response->set_deleted(true);  // Handed off: applied when the shard is back.
  }
  if (outcome.handed_off) SetHeader(context, kHandedOffHeader, {shards_->shard(shard).name});
  return grpc::Status::OK;
}

grpc::Status ShardedIngestService::ListDocuments(grpc::ServerContext* context,
                                                 const ingest::v1::ListDocumentsRequest* request,
                                                 ingest::v1::ListDocumentsResponse* response) {
  // Token "<shard index>:<that shard's token>": the listing walks the shards in order.
  size_t shard = 0;
  std::string token;
  if (!request->page().page_token().empty()) {
    const std::string& page_token = request->page().page_token();
    const size_t colon = page_token.find(':');
    if (colon == std::string::npos ||
        !absl::SimpleAtoi(absl::string_view(page_token).substr(0, colon), &shard) ||
        shard >= shards_->size()) {
      return InvalidArgument("page.page_token is not a token this router returned");
    }
    token = page_token.substr(colon + 1);
  }
  const int wanted = request->page().page_size() > 0 ? request->page().page_size() : 100;
  const CallScope scope = ScopeOf(*context);
  std::set<std::string> missing;
  std::string next;
  while (shard < shards_->size() && response->documents_size() < wanted) {
    ingest::v1::ListDocumentsRequest part_request = *request;
    part_request.mutable_page()->set_page_size(wanted - response->documents_size());
    part_request.mutable_page()->set_page_token(token);
    ingest::v1::ListDocumentsResponse part;
    grpc::Status status =
        shards_->Read(shard, scope, [&](ShardSet::Replica& replica, grpc::ClientContext* call) {
          return replica.ingest->ListDocuments(call, part_request, &part);
        });
    if (!status.ok() && status.error_code() != grpc::StatusCode::NOT_FOUND) {
      if (!IsTransient(status)) return status;
      missing.insert(shards_->shard(shard).name);
    }
    for (Document& document : *part.mutable_documents()) {
      *response->add_documents() = std::move(document);
    }
    token = part.page().next_page_token();
    if (token.empty()) ++shard;
  }
  if (shard < shards_->size()) next = absl::StrCat(shard, ":", token);
  response->mutable_page()->set_next_page_token(next);
  SetHeader(context, kMissingShardsHeader, missing);
  return grpc::Status::OK;
}

grpc::Status ShardedIngestService::ListChunks(grpc::ServerContext* context,
                                              const ingest::v1::ListChunksRequest* request,
                                              ingest::v1::ListChunksResponse* response) {
  if (request->document_id().empty()) return InvalidArgument("document_id is required");
  return shards_->Read(shards_->OwnerOf(request->document_id()), ScopeOf(*context),
                       [&](ShardSet::Replica& replica, grpc::ClientContext* call) {
                         return replica.ingest->ListChunks(call, *request, response);
                       });
}

grpc::Status ShardedIngestService::PreviewChunks(grpc::ServerContext* context,
                                                 const ingest::v1::PreviewChunksRequest* request,
                                                 ingest::v1::PreviewChunksResponse* response) {
  // Stateless on every shard: ask the first that answers.
  const CallScope scope = ScopeOf(*context);
  grpc::Status status;
  for (size_t shard = 0; shard < shards_->size(); ++shard) {
    status =
        shards_->Read(shard, scope, [&](ShardSet::Replica& replica, grpc::ClientContext* call) {
          return replica.ingest->PreviewChunks(call, *request, response);
        });
    if (!IsTransient(status)) break;
  }
  return status;
}

grpc::Status ShardedIngestService::BatchPut(const CallScope& scope,
                                            const ingest::v1::BatchPutDocumentsRequest& request,
                                            ingest::v1::BatchPutDocumentsResponse* response,
                                            std::set<std::string>* handed_off) {
  if (request.create_collection()) {
    grpc::Status created = EnsureCollection(scope, request.collection());
    if (!created.ok()) return created;
  }
  const size_t n = shards_->size();
  std::vector<ingest::v1::BatchPutDocumentsRequest> parts(n);
  std::vector<std::vector<int>> positions(n);  // Request index of each part's documents.
  std::vector<ingest::v1::DocumentResult> results(request.documents_size());
  for (int i = 0; i < request.documents_size(); ++i) {
    const Document& document = request.documents(i);
    auto id = RoutingIdOf(document);
    if (!id.ok()) {
      results[i].set_id(document.id());
      results[i].set_code(static_cast<int>(id.status().code()));
      results[i].set_error(std::string(id.status().message()));
      continue;
    }
    const size_t shard = shards_->OwnerOf(*id);
    Document* forwarded = parts[shard].add_documents();
    *forwarded = document;
    forwarded->set_id(*id);
    positions[shard].push_back(i);
  }
  std::vector<WriteOutcome> outcomes(n);
  ParallelFor(n, [&](size_t shard) {
    if (positions[shard].empty()) return;
    ingest::v1::BatchPutDocumentsRequest& part = parts[shard];
    part.set_collection(request.collection());
    part.set_create_collection(request.create_collection());
    *part.mutable_chunking() = request.chunking();
    if (!request.idempotency_key().empty()) {
      part.set_idempotency_key(
          absl::StrCat(request.idempotency_key(), "@", shards_->shard(shard).name));
    }
    outcomes[shard] = shards_->Write(shard, scope, "BatchPutDocuments", part.SerializeAsString());
  });
  bool replayed = false;
  for (size_t shard = 0; shard < n; ++shard) {
    if (positions[shard].empty()) continue;
    const WriteOutcome& outcome = outcomes[shard];
    if (!outcome.status.ok()) return ShardError(*shards_, shard, outcome.status);
    if (outcome.handed_off) handed_off->insert(shards_->shard(shard).name);
    ingest::v1::BatchPutDocumentsResponse part;
    if (outcome.applied && part.ParseFromString(outcome.response) &&
        part.results_size() == static_cast<int>(positions[shard].size())) {
      replayed = replayed || part.replayed();
      for (size_t j = 0; j < positions[shard].size(); ++j) {
        results[positions[shard][j]] = part.results(static_cast<int>(j));
      }
    } else {
      // Handed off: accepted, applied when the shard is back.
      for (size_t j = 0; j < positions[shard].size(); ++j) {
        results[positions[shard][j]].set_id(parts[shard].documents(static_cast<int>(j)).id());
      }
    }
  }
  for (ingest::v1::DocumentResult& result : results) {
    if (result.code() == 0) {
      response->set_succeeded(response->succeeded() + 1);
    } else {
      response->set_failed(response->failed() + 1);
    }
    *response->add_results() = std::move(result);
  }
  response->set_replayed(replayed);
  return grpc::Status::OK;
}

grpc::Status ShardedIngestService::BatchPutDocuments(
    grpc::ServerContext* context, const ingest::v1::BatchPutDocumentsRequest* request,
    ingest::v1::BatchPutDocumentsResponse* response) {
  if (request->collection().empty()) return InvalidArgument("collection is required");
  std::set<std::string> handed_off;
  grpc::Status status = BatchPut(ScopeOf(*context), *request, response, &handed_off);
  SetHeader(context, kHandedOffHeader, handed_off);
  return status;
}

grpc::Status ShardedIngestService::StreamIngest(
    grpc::ServerContext* context, grpc::ServerReader<ingest::v1::StreamIngestRequest>* reader,
    ingest::v1::StreamIngestResponse* response) {
  const auto start = std::chrono::steady_clock::now();
  const CallScope scope = ScopeOf(*context);
  ingest::v1::BatchPutDocumentsRequest batch;
  std::string idempotency_key;
  int batch_index = 0;
  std::set<std::string> handed_off;

  auto flush = [&]() -> grpc::Status {
    if (batch.documents().empty()) return grpc::Status::OK;
    if (!idempotency_key.empty()) {
      batch.set_idempotency_key(absl::StrCat(idempotency_key, "#", batch_index));
    }
    ++batch_index;
    ingest::v1::BatchPutDocumentsResponse result;
    grpc::Status status = BatchPut(scope, batch, &result, &handed_off);
    if (!status.ok()) return status;
    response->set_succeeded(response->succeeded() + result.succeeded());
    response->set_failed(response->failed() + result.failed());
    for (const ingest::v1::DocumentResult& one : result.results()) {
      if (one.code() != 0) *response->add_errors() = one;
    }
    batch.clear_documents();
    return grpc::Status::OK;
  };

  ingest::v1::StreamIngestRequest message;
  bool first = true;
  while (reader->Read(&message)) {
    if (first) {
      if (message.collection().empty()) {
        return InvalidArgument("the first message must name the collection");
      }
      batch.set_collection(message.collection());
      batch.set_create_collection(message.create_collection());
      *batch.mutable_chunking() = message.chunking();
      idempotency_key = message.idempotency_key();
      first = false;
    } else if (!message.collection().empty() && message.collection() != batch.collection()) {
      return InvalidArgument(absl::StrCat("a stream ingests into one collection (\"",
                                          batch.collection(), "\"), not \"", message.collection(),
                                          "\""));
    }
    response->set_bytes_received(response->bytes_received() + message.ByteSizeLong());
    for (Document& document : *message.mutable_documents()) {
      response->set_documents_received(response->documents_received() + 1);
      *batch.add_documents() = std::move(document);
      if (batch.documents_size() >= kStreamBatchSize) {
        grpc::Status status = flush();
        if (!status.ok()) return status;
      }
    }
  }
  if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "client cancelled");
  grpc::Status status = flush();
  if (!status.ok()) return status;
  SetHeader(context, kHandedOffHeader, handed_off);
  response->set_seconds(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return grpc::Status::OK;
}

}  // namespace tessera::retrieval::sharding

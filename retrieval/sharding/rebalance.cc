#include "retrieval/sharding/rebalance.h"

#include <spdlog/spdlog.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"

namespace tessera::retrieval::sharding {
namespace {

absl::Status ShardStatus(const ShardSet& shards, size_t shard, const grpc::Status& status,
                         const std::string& what) {
  return FromGrpcStatus(grpc::Status(
      status.error_code(),
      absl::StrCat(what, " on shard ", shards.shard(shard).name, ": ", status.error_message())));
}

// Every collection of the tenant with its settings, from all shards.
absl::StatusOr<std::map<std::string, ingest::v1::Collection>> Collections(ShardSet* shards,
                                                                          const CallScope& scope) {
  std::map<std::string, ingest::v1::Collection> collections;
  for (size_t shard = 0; shard < shards->size(); ++shard) {
    ingest::v1::ListCollectionsResponse listed;
    grpc::Status status =
        shards->Read(shard, scope, [&](ShardSet::Replica& replica, grpc::ClientContext* context) {
          return replica.ingest->ListCollections(context, ingest::v1::ListCollectionsRequest(),
                                                 &listed);
        });
    if (!status.ok()) return ShardStatus(*shards, shard, status, "listing collections");
    for (const ingest::v1::Collection& collection : listed.collections()) {
      collections.emplace(collection.name(), collection);
    }
  }
  return collections;
}

absl::Status Write(ShardSet* shards, size_t shard, const CallScope& scope,
                   const std::string& method, const google::protobuf::Message& request) {
  WriteOutcome outcome = shards->Write(shard, scope, method, request.SerializeAsString());
  if (!outcome.status.ok()) return ShardStatus(*shards, shard, outcome.status, method);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RebalanceReport> Rebalance(ShardSet* shards,
                                          const std::vector<std::string>& tenants) {
  RebalanceReport report;
  for (const std::string& tenant : tenants) {
    const CallScope scope{tenant, absl::InfiniteFuture()};
    auto collections = Collections(shards, scope);
    if (!collections.ok()) return collections.status();
    for (const auto& [name, settings] : *collections) {
      ++report.collections;
      // The owner needs the collection, with the same settings, before documents.
      ingest::v1::CreateCollectionRequest create;
      *create.mutable_collection() = settings;
      create.mutable_collection()->clear_document_count();
      create.mutable_collection()->clear_chunk_count();
      create.mutable_collection()->clear_create_time();
      create.mutable_collection()->clear_tenant();
      create.set_if_not_exists(true);
      for (size_t shard = 0; shard < shards->size(); ++shard) {
        absl::Status created = Write(shards, shard, scope, "CreateCollection", create);
        if (!created.ok()) return created;
      }
      for (size_t shard = 0; shard < shards->size(); ++shard) {
        std::string token;
        do {
          ingest::v1::ListDocumentsRequest list;
          list.set_collection(name);
          list.mutable_page()->set_page_size(500);
          list.mutable_page()->set_page_token(token);
          ingest::v1::ListDocumentsResponse page;
          grpc::Status status = shards->Read(
              shard, scope, [&](ShardSet::Replica& replica, grpc::ClientContext* context) {
                return replica.ingest->ListDocuments(context, list, &page);
              });
          if (!status.ok()) return ShardStatus(*shards, shard, status, "listing documents");
          token = page.page().next_page_token();
          for (const common::v1::Document& listed : page.documents()) {
            ++report.documents;
            const size_t owner = shards->OwnerOf(listed.id());
            if (owner == shard) continue;
            ingest::v1::GetDocumentRequest get;
            get.set_collection(name);
            get.set_id(listed.id());
            ingest::v1::GetDocumentResponse got;
            status = shards->Read(shard, scope,
                                  [&](ShardSet::Replica& replica, grpc::ClientContext* context) {
                                    return replica.ingest->GetDocument(context, get, &got);
                                  });
            if (!status.ok()) return ShardStatus(*shards, shard, status, "reading a document");
            // The stored text is what was extracted: it is written back as text.
            ingest::v1::PutDocumentRequest put;
            common::v1::Document& document = *put.mutable_document();
            document.set_id(got.document().id());
            document.set_collection(name);
            document.set_title(got.document().title());
            document.set_text(got.document().text());
            document.set_format(got.document().format() == common::v1::DOCUMENT_FORMAT_MARKDOWN
                                    ? common::v1::DOCUMENT_FORMAT_MARKDOWN
                                    : common::v1::DOCUMENT_FORMAT_TEXT);
            *document.mutable_metadata() = got.document().metadata();
            document.set_source_uri(got.document().source_uri());
            absl::Status moved = Write(shards, owner, scope, "PutDocument", put);
            if (!moved.ok()) return moved;
            ingest::v1::DeleteDocumentRequest remove;
            remove.set_collection(name);
            remove.set_id(listed.id());
            absl::Status removed = Write(shards, shard, scope, "DeleteDocument", remove);
            if (!removed.ok()) return removed;
            ++report.moved;
          }
        } while (!token.empty());
      }
      spdlog::info("rebalanced collection {} of tenant {}", name, tenant);
    }
  }
  return report;
}

}  // namespace tessera::retrieval::sharding

// tessera.ingest.v1.IngestService over the document store.
#ifndef TESSERA_INGEST_INGEST_SERVICE_H_
#define TESSERA_INGEST_INGEST_SERVICE_H_

#include <functional>

#include "ingest/document_preparer.h"
#include "ingest/document_store.h"
#include "tessera/ingest/v1/ingest.grpc.pb.h"

namespace tessera::ingest {

class IngestServiceImpl final : public ingest::v1::IngestService::Service {
 public:
  // `store` must outlive the service. `on_commit` runs after every committed
  // change (to wake the indexers).
  IngestServiceImpl(DocumentStore* store, DocumentPreparer preparer,
                    std::function<void()> on_commit = nullptr)
      : store_(store), preparer_(std::move(preparer)), on_commit_(std::move(on_commit)) {}

  grpc::Status CreateCollection(grpc::ServerContext* context,
                                const ingest::v1::CreateCollectionRequest* request,
                                ingest::v1::Collection* response) override;
  grpc::Status GetCollection(grpc::ServerContext* context,
                             const ingest::v1::GetCollectionRequest* request,
                             ingest::v1::Collection* response) override;
  grpc::Status ListCollections(grpc::ServerContext* context,
                               const ingest::v1::ListCollectionsRequest* request,
                               ingest::v1::ListCollectionsResponse* response) override;
  grpc::Status DeleteCollection(grpc::ServerContext* context,
                                const ingest::v1::DeleteCollectionRequest* request,
                                ingest::v1::DeleteCollectionResponse* response) override;
  grpc::Status PutDocument(grpc::ServerContext* context,
                           const ingest::v1::PutDocumentRequest* request,
                           ingest::v1::PutDocumentResponse* response) override;
  grpc::Status GetDocument(grpc::ServerContext* context,
                           const ingest::v1::GetDocumentRequest* request,
                           ingest::v1::GetDocumentResponse* response) override;
  grpc::Status DeleteDocument(grpc::ServerContext* context,
                              const ingest::v1::DeleteDocumentRequest* request,
                              ingest::v1::DeleteDocumentResponse* response) override;
  grpc::Status ListDocuments(grpc::ServerContext* context,
                             const ingest::v1::ListDocumentsRequest* request,
                             ingest::v1::ListDocumentsResponse* response) override;
  grpc::Status ListChunks(grpc::ServerContext* context,
                          const ingest::v1::ListChunksRequest* request,
                          ingest::v1::ListChunksResponse* response) override;
  grpc::Status PreviewChunks(grpc::ServerContext* context,
                             const ingest::v1::PreviewChunksRequest* request,
                             ingest::v1::PreviewChunksResponse* response) override;
  grpc::Status BatchPutDocuments(grpc::ServerContext* context,
                                 const ingest::v1::BatchPutDocumentsRequest* request,
                                 ingest::v1::BatchPutDocumentsResponse* response) override;
  grpc::Status StreamIngest(grpc::ServerContext* context,
                            grpc::ServerReader<ingest::v1::StreamIngestRequest>* reader,
                            ingest::v1::StreamIngestResponse* response) override;

 private:
  // Prepares every document of a batch; failures are recorded in `failures`
  // (index -> status) and the good ones returned in order.
  std::vector<PreparedDocument> PrepareBatch(
      const google::protobuf::RepeatedPtrField<common::v1::Document>& documents,
      const std::string& collection, const ingest::v1::ChunkingConfig& chunking,
      std::vector<ingest::v1::DocumentResult>* failures) const;
  ingest::v1::ChunkingConfig ChunkingFor(const std::string& tenant, const std::string& collection,
                                         const ingest::v1::ChunkingConfig& requested) const;

  void Committed() const {
    if (on_commit_) on_commit_();
  }

  DocumentStore* store_;
  DocumentPreparer preparer_;
  std::function<void()> on_commit_;
};

}  // namespace tessera::ingest

#endif  // TESSERA_INGEST_INGEST_SERVICE_H_

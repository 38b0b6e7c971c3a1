// tessera.ingest.v1.IngestService over retrieval shards: each document goes to
// the shard owning its id (consistent hashing), collections are created and
// deleted on every shard, and reads of one document ask its owner.
//
// Writes reach every replica of the owning shard; a replica that is down gets
// them as durable hints, replayed when it is back (ShardSet), and the write is
// acknowledged: the response's trailing metadata `x-tessera-handed-off` names
// the shards whose replicas had them handed off. Listings that some shard
// could not answer carry `x-tessera-missing-shards`.
//
// A JSON record without `id` is routed by the "_id"/"id" inside it, which the
// router reads the same way the shard will.
#ifndef TESSERA_RETRIEVAL_SHARDING_SHARDED_INGEST_SERVICE_H_
#define TESSERA_RETRIEVAL_SHARDING_SHARDED_INGEST_SERVICE_H_

#include <set>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "retrieval/sharding/shard_set.h"
#include "tessera/ingest/v1/ingest.grpc.pb.h"

namespace tessera::retrieval::sharding {

inline constexpr char kHandedOffHeader[] = "x-tessera-handed-off";
inline constexpr char kMissingShardsHeader[] = "x-tessera-missing-shards";

// The id a document will be stored under: its own, or a JSON record's
// "_id"/"id". INVALID_ARGUMENT when it has none, as the shard would say.
absl::StatusOr<std::string> RoutingIdOf(const common::v1::Document& document);

class ShardedIngestService final : public ingest::v1::IngestService::Service {
 public:
  // `shards` must outlive the service.
  explicit ShardedIngestService(ShardSet* shards) : shards_(shards) {}

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
  // Shard after shard; the page token says where the listing is.
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
  // Creates the collection (default settings) on every shard once per router
  // process, so that every shard knows it before documents arrive.
  grpc::Status EnsureCollection(const CallScope& scope, const std::string& collection);
  // Splits a batch by owning shard, writes the parts in parallel and puts the
  // results back in request order; `handed_off` collects shard names.
  grpc::Status BatchPut(const CallScope& scope, const ingest::v1::BatchPutDocumentsRequest& request,
                        ingest::v1::BatchPutDocumentsResponse* response,
                        std::set<std::string>* handed_off);
  // Sends a write to every shard in parallel.
  std::vector<WriteOutcome> Broadcast(const CallScope& scope, const std::string& method,
                                      const std::string& request);

  ShardSet* shards_;
  absl::Mutex mu_;
  std::set<std::pair<std::string, std::string>> known_collections_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tessera::retrieval::sharding

#endif  // TESSERA_RETRIEVAL_SHARDING_SHARDED_INGEST_SERVICE_H_

// The durable source of truth for collections, documents and chunks: one SQLite
// database in WAL mode. Every mutating call returns only after its transaction is
// committed and fsynced, so an acknowledged write survives a crash.
//
// Every mutation also appends to an ingest log (position, collection, document,
// operation) in the same transaction; indexers read the log from the last position
// they applied, so an indexer that was down catches up on restart.
#ifndef TESSERA_INGEST_DOCUMENT_STORE_H_
#define TESSERA_INGEST_DOCUMENT_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "common/sqlite.h"
#include "tessera/common/v1/common.pb.h"
#include "tessera/ingest/v1/ingest.pb.h"

namespace tessera::ingest {

using common::v1::Chunk;
using common::v1::Document;
using ingest::v1::Collection;

// A document ready to store: validated, normalised, with its chunks computed.
struct PreparedDocument {
  Document document;
  std::vector<Chunk> chunks;
};

// The outcome of storing one document.
struct PutOutcome {
  int64_t version = 0;
  std::string content_hash;
  // The stored document already had this content: nothing was written.
  bool unchanged = false;
  int32_t chunk_count = 0;
};

// One entry of the ingest log.
struct LogEntry {
  enum class Op { kPut, kDelete, kDeleteCollection };
  int64_t position = 0;
  std::string tenant;
  std::string collection;
  std::string document_id;
  int64_t version = 0;
  Op op = Op::kPut;
};

struct DocumentPage {
  std::vector<Document> documents;  // without text
  std::string next_page_token;
  int64_t total_size = 0;
};

class DocumentStore {
 public:
  // Opens or creates the store in `db_path` and applies the schema.
  static absl::StatusOr<std::unique_ptr<DocumentStore>> Open(const std::string& db_path);

  // Collections are owned by a tenant; names are unique per tenant.
  absl::StatusOr<Collection> CreateCollection(absl::string_view tenant,
                                              const Collection& collection, bool if_not_exists);
  absl::StatusOr<Collection> GetCollection(absl::string_view tenant, absl::string_view name);
  absl::StatusOr<std::vector<Collection>> ListCollections(absl::string_view tenant);
  // Deletes the collection and all its documents; returns how many documents.
  absl::StatusOr<int64_t> DeleteCollection(absl::string_view tenant, absl::string_view name);

  // Stores one document, replacing any earlier version with the same id atomically.
  // The collection must exist unless `create_collection`.
  absl::StatusOr<PutOutcome> PutDocument(absl::string_view tenant, const PreparedDocument& doc,
                                         bool create_collection);

  // Stores many documents of one collection in one transaction (one fsync).
  // A document that fails leaves the others intact; its slot holds the error.
  // With a non-empty `idempotency_key`, a batch seen before returns its first
  // response (with `replayed` set) and writes nothing.
  absl::StatusOr<ingest::v1::BatchPutDocumentsResponse> PutBatch(
      absl::string_view tenant, absl::string_view collection,
      absl::Span<const PreparedDocument> documents, bool create_collection,
      absl::string_view idempotency_key);

  absl::StatusOr<Document> GetDocument(absl::string_view tenant, absl::string_view collection,
                                       absl::string_view id);
  absl::StatusOr<std::vector<Chunk>> GetChunks(absl::string_view tenant,
                                               absl::string_view collection,
                                               absl::string_view document_id);
  // Returns false when there was no such document.
  absl::StatusOr<bool> DeleteDocument(absl::string_view tenant, absl::string_view collection,
                                      absl::string_view id);
  // Documents in id order, without text; `page_token` is the last id of the previous page.
  absl::StatusOr<DocumentPage> ListDocuments(absl::string_view tenant,
                                             absl::string_view collection, int page_size,
                                             absl::string_view page_token);

  // The log position an indexer named `indexer` has applied (0 if never).
  absl::StatusOr<int64_t> GetIndexerPosition(absl::string_view indexer);
  absl::Status SetIndexerPosition(absl::string_view indexer, int64_t position);

  // Log entries after `after_position`, oldest first, at most `limit`.
  absl::StatusOr<std::vector<LogEntry>> ReadLog(int64_t after_position, int limit);
  absl::StatusOr<int64_t> LogHead();

 private:
  explicit DocumentStore(std::unique_ptr<SqliteDatabase> db) : db_(std::move(db)) {}
  absl::Status ApplySchema();
  absl::StatusOr<int64_t> EnsureCollection(absl::string_view tenant, absl::string_view name,
                                           bool create) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<PutOutcome> PutLocked(absl::string_view tenant, int64_t collection_rowid,
                                       const PreparedDocument& doc)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status AppendLog(absl::string_view tenant, absl::string_view collection,
                         absl::string_view document_id, int64_t version, LogEntry::Op op)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<Collection> ReadCollection(int64_t rowid) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::unique_ptr<SqliteDatabase> db_ ABSL_GUARDED_BY(mu_);
};

// The page token that continues a listing after the document `last_id`.
std::string DocumentPageToken(absl::string_view last_id);

// The hash that identifies a document's content: title, text and metadata
// (metadata in key order, so map order does not matter).
std::string DocumentContentHash(const Document& document);

}  // namespace tessera::ingest

#endif  // TESSERA_INGEST_DOCUMENT_STORE_H_

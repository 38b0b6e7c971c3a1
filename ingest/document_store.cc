#include "ingest/document_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/hash.h"
#include "ingest/validation.h"

namespace tessera::ingest {
namespace {

constexpr int kSchemaVersion = 1;

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS collections(
  rowid INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL,
  name TEXT NOT NULL,
  config BLOB NOT NULL,
  create_time INTEGER NOT NULL,
  UNIQUE(tenant, name));
CREATE TABLE IF NOT EXISTS documents(
  rowid INTEGER PRIMARY KEY,
  collection_rowid INTEGER NOT NULL REFERENCES collections(rowid) ON DELETE CASCADE,
  doc_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  title TEXT NOT NULL,
  text TEXT NOT NULL,
  metadata BLOB NOT NULL,
  format INTEGER NOT NULL,
  source_uri TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  create_time INTEGER NOT NULL,
  update_time INTEGER NOT NULL,
  chunk_count INTEGER NOT NULL,
  UNIQUE(collection_rowid, doc_id));
CREATE INDEX IF NOT EXISTS documents_by_hash ON documents(collection_rowid, content_hash);
CREATE TABLE IF NOT EXISTS chunks(
  doc_rowid INTEGER NOT NULL REFERENCES documents(rowid) ON DELETE CASCADE,
  ordinal INTEGER NOT NULL,
  body BLOB NOT NULL,
  PRIMARY KEY(doc_rowid, ordinal)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ingest_log(
  position INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant TEXT NOT NULL,
  collection TEXT NOT NULL,
  doc_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  op INTEGER NOT NULL,
  time INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS indexer_positions(
  indexer TEXT PRIMARY KEY,
  position INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idempotency(
  tenant TEXT NOT NULL,
  key TEXT NOT NULL,
  response BLOB NOT NULL,
  create_time INTEGER NOT NULL,
  PRIMARY KEY(tenant, key)) WITHOUT ROWID;
)sql";

int64_t NowMicros() { return absl::ToUnixMicros(absl::Now()); }

void SetTimestamp(int64_t micros, google::protobuf::Timestamp* ts) {
  ts->set_seconds(micros / 1000000);
  ts->set_nanos(static_cast<int32_t>((micros % 1000000) * 1000));
}

// Metadata is stored as a Document holding only the metadata map.
std::string SerializeMetadata(const Document& document) {
  Document holder;
  *holder.mutable_metadata() = document.metadata();
  return holder.SerializeAsString();
}

// Columns read by kSelectDocument, in order.
constexpr char kDocumentColumns[] =
    "d.rowid, d.doc_id, d.version, d.title, d.text, d.metadata, d.format, d.source_uri, "
    "d.content_hash, d.create_time, d.update_time, d.chunk_count, c.name, c.tenant";

Document ReadDocumentRow(const SqliteStatement& row, bool with_text) {
  Document doc;
  doc.set_id(row.ColumnText(1));
  doc.set_version(row.ColumnInt(2));
  doc.set_title(row.ColumnText(3));
  if (with_text) doc.set_text(row.ColumnText(4));
  Document metadata;
  if (metadata.ParseFromString(row.ColumnBlob(5))) {
    *doc.mutable_metadata() = std::move(*metadata.mutable_metadata());
  }
  doc.set_format(static_cast<common::v1::DocumentFormat>(row.ColumnInt(6)));
  doc.set_source_uri(row.ColumnText(7));
  doc.set_content_hash(row.ColumnText(8));
  SetTimestamp(row.ColumnInt(9), doc.mutable_create_time());
  SetTimestamp(row.ColumnInt(10), doc.mutable_update_time());
  doc.set_chunk_count(static_cast<int32_t>(row.ColumnInt(11)));
  doc.set_collection(row.ColumnText(12));
  doc.set_tenant(row.ColumnText(13));
  return doc;
}

}  // namespace

std::string DocumentPageToken(absl::string_view last_id) {
  return absl::WebSafeBase64Escape(last_id);
}

std::string DocumentContentHash(const Document& document) {
  std::vector<std::string> keys;
  keys.reserve(document.metadata_size());
  for (const auto& [key, value] : document.metadata()) keys.push_back(key);
  std::sort(keys.begin(), keys.end());
  std::string material = absl::StrCat(document.title().size(), ":", document.title(),
                                      document.text().size(), ":", document.text());
  for (const std::string& key : keys) {
    std::string value = document.metadata().at(key).SerializeAsString();
    absl::StrAppend(&material, key.size(), ":", key, value.size(), ":", value);
  }
  return Sha256Hex(material);
}

absl::StatusOr<std::unique_ptr<DocumentStore>> DocumentStore::Open(const std::string& db_path) {
  auto db = SqliteDatabase::Open(db_path);
  if (!db.ok()) return db.status();
  auto store = std::unique_ptr<DocumentStore>(new DocumentStore(std::move(*db)));
  absl::Status status = store->ApplySchema();
  if (!status.ok()) return status;
  return store;
}

absl::Status DocumentStore::ApplySchema() {
  absl::MutexLock lock(&mu_);
  auto version = db_->Prepare("PRAGMA user_version");
  if (!version.ok()) return version.status();
  auto row = version->Step();
  if (!row.ok()) return row.status();
  int64_t current = *row ? version->ColumnInt(0) : 0;
  if (current > kSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        db_->path(), " has schema version ", current, ", newer than this build supports (",
        kSchemaVersion, ")"));
  }
  absl::Status status = db_->Execute(kSchema);
  if (!status.ok()) return status;
  return db_->Execute(absl::StrCat("PRAGMA user_version=", kSchemaVersion));
}

absl::StatusOr<Collection> DocumentStore::ReadCollection(int64_t rowid) {
  auto stmt = db_->Prepare(
      "SELECT c.config, c.tenant, c.name, c.create_time, "
      "(SELECT COUNT(*) FROM documents d WHERE d.collection_rowid = c.rowid), "
      "(SELECT COALESCE(SUM(chunk_count), 0) FROM documents d WHERE d.collection_rowid = c.rowid) "
      "FROM collections c WHERE c.rowid = ?");
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, rowid);
  auto row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError("collection vanished");
  Collection collection;
  if (!collection.ParseFromString(stmt->ColumnBlob(0))) {
    return absl::DataLossError(absl::StrCat("collection config of row ", rowid, " is corrupt"));
  }
  collection.set_tenant(stmt->ColumnText(1));
  collection.set_name(stmt->ColumnText(2));
  SetTimestamp(stmt->ColumnInt(3), collection.mutable_create_time());
  collection.set_document_count(stmt->ColumnInt(4));
  collection.set_chunk_count(stmt->ColumnInt(5));
  return collection;
}

absl::StatusOr<int64_t> DocumentStore::EnsureCollection(absl::string_view tenant,
                                                        absl::string_view name, bool create) {
  auto find = db_->Prepare("SELECT rowid FROM collections WHERE tenant = ? AND name = ?");
  if (!find.ok()) return find.status();
  find->BindText(1, tenant).BindText(2, name);
  auto row = find->Step();
  if (!row.ok()) return row.status();
  if (*row) return find->ColumnInt(0);
  if (!create) {
    return absl::NotFoundError(absl::StrCat("collection \"", name, "\" does not exist"));
  }
  absl::Status valid = ValidateCollectionName(name);
  if (!valid.ok()) return valid;
  Collection config;
  config.set_name(std::string(name));
  auto insert = db_->Prepare(
      "INSERT INTO collections(tenant, name, config, create_time) VALUES(?, ?, ?, ?)");
  if (!insert.ok()) return insert.status();
  insert->BindText(1, tenant).BindText(2, name).BindBlob(3, config.SerializeAsString());
  insert->Bind(4, NowMicros());
  absl::Status status = insert->Run();
  if (!status.ok()) return status;
  return db_->LastInsertRowId();
}

absl::StatusOr<Collection> DocumentStore::CreateCollection(absl::string_view tenant,
                                                           const Collection& collection,
                                                           bool if_not_exists) {
  absl::Status valid = ValidateCollectionName(collection.name());
  if (!valid.ok()) return valid;
  Collection config = collection;
  // Server-owned fields are not part of the stored configuration.
  config.clear_tenant();
  config.clear_create_time();
  config.clear_document_count();
  config.clear_chunk_count();

  absl::MutexLock lock(&mu_);
  SqliteTransaction txn(db_.get());
  absl::Status status = txn.begun();
  if (!status.ok()) return status;
  auto insert = db_->Prepare(
      "INSERT INTO collections(tenant, name, config, create_time) VALUES(?, ?, ?, ?) "
      "ON CONFLICT(tenant, name) DO NOTHING");
  if (!insert.ok()) return insert.status();
  insert->BindText(1, tenant).BindText(2, collection.name());
  insert->BindBlob(3, config.SerializeAsString()).Bind(4, NowMicros());
  status = insert->Run();
  if (!status.ok()) return status;
  if (db_->Changes() == 0 && !if_not_exists) {
    return absl::AlreadyExistsError(
        absl::StrCat("collection \"", collection.name(), "\" already exists"));
  }
  auto rowid = EnsureCollection(tenant, collection.name(), /*create=*/false);
  if (!rowid.ok()) return rowid.status();
  status = txn.Commit();
  if (!status.ok()) return status;
  return ReadCollection(*rowid);
}

absl::StatusOr<Collection> DocumentStore::GetCollection(absl::string_view tenant,
                                                        absl::string_view name) {
  absl::MutexLock lock(&mu_);
  auto rowid = EnsureCollection(tenant, name, /*create=*/false);
  if (!rowid.ok()) return rowid.status();
  return ReadCollection(*rowid);
}

absl::StatusOr<std::vector<Collection>> DocumentStore::ListCollections(absl::string_view tenant) {
  absl::MutexLock lock(&mu_);
  auto stmt = db_->Prepare("SELECT rowid FROM collections WHERE tenant = ? ORDER BY name");
  if (!stmt.ok()) return stmt.status();
  stmt->BindText(1, tenant);
  std::vector<int64_t> rowids;
  while (true) {
    auto row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    rowids.push_back(stmt->ColumnInt(0));
  }
  std::vector<Collection> collections;
  for (int64_t rowid : rowids) {
    auto collection = ReadCollection(rowid);
    if (!collection.ok()) return collection.status();
    collections.push_back(std::move(*collection));
  }
  return collections;
}

absl::StatusOr<int64_t> DocumentStore::DeleteCollection(absl::string_view tenant,
                                                        absl::string_view name) {
  absl::MutexLock lock(&mu_);
  SqliteTransaction txn(db_.get());
  absl::Status status = txn.begun();
  if (!status.ok()) return status;
  auto rowid = EnsureCollection(tenant, name, /*create=*/false);
  if (!rowid.ok()) return rowid.status();
  auto count = db_->Prepare("SELECT COUNT(*) FROM documents WHERE collection_rowid = ?");
  if (!count.ok()) return count.status();
  count->Bind(1, *rowid);
  auto row = count->Step();
  if (!row.ok()) return row.status();
  int64_t documents = count->ColumnInt(0);
  auto erase = db_->Prepare("DELETE FROM collections WHERE rowid = ?");
  if (!erase.ok()) return erase.status();
  erase->Bind(1, *rowid);
  status = erase->Run();
  if (!status.ok()) return status;
  status = AppendLog(tenant, name, "", 0, LogEntry::Op::kDeleteCollection);
  if (!status.ok()) return status;
  status = txn.Commit();
  if (!status.ok()) return status;
  return documents;
}

absl::Status DocumentStore::AppendLog(absl::string_view tenant, absl::string_view collection,
                                      absl::string_view document_id, int64_t version,
                                      LogEntry::Op op) {
  auto stmt = db_->Prepare(
      "INSERT INTO ingest_log(tenant, collection, doc_id, version, op, time) "
      "VALUES(?, ?, ?, ?, ?, ?)");
  if (!stmt.ok()) return stmt.status();
  stmt->BindText(1, tenant).BindText(2, collection).BindText(3, document_id);
  stmt->Bind(4, version).Bind(5, static_cast<int64_t>(op)).Bind(6, NowMicros());
  return stmt->Run();
}

absl::StatusOr<PutOutcome> DocumentStore::PutLocked(absl::string_view tenant,
                                                    int64_t collection_rowid,
                                                    const PreparedDocument& prepared) {
  const Document& doc = prepared.document;
  PutOutcome outcome;
  outcome.content_hash = DocumentContentHash(doc);
  outcome.chunk_count = static_cast<int32_t>(prepared.chunks.size());

  auto find = db_->Prepare(
      "SELECT rowid, version, content_hash, create_time, chunk_count FROM documents "
      "WHERE collection_rowid = ? AND doc_id = ?");
  if (!find.ok()) return find.status();
  find->Bind(1, collection_rowid).BindText(2, doc.id());
  auto found = find->Step();
  if (!found.ok()) return found.status();
  int64_t now = NowMicros();
  int64_t create_time = now;
  if (*found) {
    int64_t old_rowid = find->ColumnInt(0);
    int64_t old_version = find->ColumnInt(1);
    if (find->ColumnText(2) == outcome.content_hash) {
      outcome.unchanged = true;
      outcome.version = old_version;
      outcome.chunk_count = static_cast<int32_t>(find->ColumnInt(4));
      return outcome;
    }
    outcome.version = old_version + 1;
    create_time = find->ColumnInt(3);
    // The old version's chunks go with its row (ON DELETE CASCADE); the log entry
    // below tells the indexers to drop them.
    auto erase = db_->Prepare("DELETE FROM documents WHERE rowid = ?");
    if (!erase.ok()) return erase.status();
    erase->Bind(1, old_rowid);
    absl::Status status = erase->Run();
    if (!status.ok()) return status;
  } else {
    outcome.version = 1;
  }

  auto insert = db_->Prepare(
      "INSERT INTO documents(collection_rowid, doc_id, version, title, text, metadata, format, "
      "source_uri, content_hash, create_time, update_time, chunk_count) "
      "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!insert.ok()) return insert.status();
  insert->Bind(1, collection_rowid).BindText(2, doc.id()).Bind(3, outcome.version);
  insert->BindText(4, doc.title()).BindText(5, doc.text()).BindBlob(6, SerializeMetadata(doc));
  insert->Bind(7, static_cast<int64_t>(doc.format())).BindText(8, doc.source_uri());
  insert->BindText(9, outcome.content_hash).Bind(10, create_time).Bind(11, now);
  insert->Bind(12, static_cast<int64_t>(prepared.chunks.size()));
  absl::Status status = insert->Run();
  if (!status.ok()) return status;
  int64_t doc_rowid = db_->LastInsertRowId();

  auto chunk_insert = db_->Prepare("INSERT INTO chunks(doc_rowid, ordinal, body) VALUES(?, ?, ?)");
  if (!chunk_insert.ok()) return chunk_insert.status();
  for (size_t i = 0; i < prepared.chunks.size(); ++i) {
    Chunk chunk = prepared.chunks[i];
    chunk.set_ordinal(static_cast<int32_t>(i));
    chunk.set_document_version(outcome.version);
    // Identity fields are implied by the row; they are filled in on read.
    chunk.clear_document_id();
    chunk.clear_collection();
    chunk.clear_id();
    chunk_insert->Reset();
    chunk_insert->Bind(1, doc_rowid).Bind(2, static_cast<int64_t>(i));
    chunk_insert->BindBlob(3, chunk.SerializeAsString());
    status = chunk_insert->Run();
    if (!status.ok()) return status;
  }
  return outcome;
}

absl::StatusOr<PutOutcome> DocumentStore::PutDocument(absl::string_view tenant,
                                                      const PreparedDocument& doc,
                                                      bool create_collection) {
  absl::MutexLock lock(&mu_);
  SqliteTransaction txn(db_.get());
  absl::Status status = txn.begun();
  if (!status.ok()) return status;
  auto collection_rowid = EnsureCollection(tenant, doc.document.collection(), create_collection);
  if (!collection_rowid.ok()) return collection_rowid.status();
  auto outcome = PutLocked(tenant, *collection_rowid, doc);
  if (!outcome.ok()) return outcome.status();
  if (!outcome->unchanged) {
    status = AppendLog(tenant, doc.document.collection(), doc.document.id(), outcome->version,
                       LogEntry::Op::kPut);
    if (!status.ok()) return status;
  }
  status = txn.Commit();
  if (!status.ok()) return status;
  return outcome;
}

absl::StatusOr<ingest::v1::BatchPutDocumentsResponse> DocumentStore::PutBatch(
    absl::string_view tenant, absl::string_view collection,
    absl::Span<const PreparedDocument> documents, bool create_collection,
    absl::string_view idempotency_key) {
  absl::MutexLock lock(&mu_);
  SqliteTransaction txn(db_.get());
  absl::Status status = txn.begun();
  if (!status.ok()) return status;

  if (!idempotency_key.empty()) {
    auto seen = db_->Prepare("SELECT response FROM idempotency WHERE tenant = ? AND key = ?");
    if (!seen.ok()) return seen.status();
    seen->BindText(1, tenant).BindText(2, idempotency_key);
    auto row = seen->Step();
    if (!row.ok()) return row.status();
    if (*row) {
      ingest::v1::BatchPutDocumentsResponse replay;
      if (!replay.ParseFromString(seen->ColumnBlob(0))) {
        return absl::DataLossError("stored idempotent response is corrupt");
      }
      replay.set_replayed(true);
      return replay;
    }
  }

  auto collection_rowid = EnsureCollection(tenant, collection, create_collection);
  if (!collection_rowid.ok()) return collection_rowid.status();

  ingest::v1::BatchPutDocumentsResponse response;
  for (const PreparedDocument& doc : documents) {
    ingest::v1::DocumentResult* result = response.add_results();
    result->set_id(doc.document.id());
    // A savepoint per document: one failure undoes only its own writes.
    status = db_->Execute("SAVEPOINT doc");
    if (!status.ok()) return status;
    auto outcome = PutLocked(tenant, *collection_rowid, doc);
    if (outcome.ok() && !outcome->unchanged) {
      absl::Status logged = AppendLog(tenant, collection, doc.document.id(), outcome->version,
                                      LogEntry::Op::kPut);
      if (!logged.ok()) outcome = logged;
    }
    if (!outcome.ok()) {
      status = db_->Execute("ROLLBACK TO doc; RELEASE doc");
      if (!status.ok()) return status;
      result->set_code(static_cast<int32_t>(outcome.status().code()));
      result->set_error(std::string(outcome.status().message()));
      response.set_failed(response.failed() + 1);
      continue;
    }
    status = db_->Execute("RELEASE doc");
    if (!status.ok()) return status;
    result->set_version(outcome->version);
    result->set_unchanged(outcome->unchanged);
    result->set_chunk_count(outcome->chunk_count);
    response.set_succeeded(response.succeeded() + 1);
  }

  if (!idempotency_key.empty()) {
    auto remember = db_->Prepare(
        "INSERT INTO idempotency(tenant, key, response, create_time) VALUES(?, ?, ?, ?)");
    if (!remember.ok()) return remember.status();
    remember->BindText(1, tenant).BindText(2, idempotency_key);
    remember->BindBlob(3, response.SerializeAsString()).Bind(4, NowMicros());
    status = remember->Run();
    if (!status.ok()) return status;
  }
  status = txn.Commit();
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<Document> DocumentStore::GetDocument(absl::string_view tenant,
                                                    absl::string_view collection,
                                                    absl::string_view id) {
  absl::MutexLock lock(&mu_);
  auto stmt = db_->Prepare(absl::StrCat(
      "SELECT ", kDocumentColumns,
      " FROM documents d JOIN collections c ON d.collection_rowid = c.rowid "
      "WHERE c.tenant = ? AND c.name = ? AND d.doc_id = ?"));
  if (!stmt.ok()) return stmt.status();
  stmt->BindText(1, tenant).BindText(2, collection).BindText(3, id);
  auto row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!*row) {
    return absl::NotFoundError(
        absl::StrCat("document \"", id, "\" not found in collection \"", collection, "\""));
  }
  return ReadDocumentRow(*stmt, /*with_text=*/true);
}

absl::StatusOr<std::vector<Chunk>> DocumentStore::GetChunks(absl::string_view tenant,
                                                            absl::string_view collection,
                                                            absl::string_view document_id) {
  absl::MutexLock lock(&mu_);
  auto stmt = db_->Prepare(
      "SELECT k.body FROM chunks k JOIN documents d ON k.doc_rowid = d.rowid "
      "JOIN collections c ON d.collection_rowid = c.rowid "
      "WHERE c.tenant = ? AND c.name = ? AND d.doc_id = ? ORDER BY k.ordinal");
  if (!stmt.ok()) return stmt.status();
  stmt->BindText(1, tenant).BindText(2, collection).BindText(3, document_id);
  std::vector<Chunk> chunks;
  while (true) {
    auto row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    Chunk chunk;
    if (!chunk.ParseFromString(stmt->ColumnBlob(0))) {
      return absl::DataLossError(absl::StrCat("chunk of \"", document_id, "\" is corrupt"));
    }
    chunk.set_document_id(std::string(document_id));
    chunk.set_collection(std::string(collection));
    chunk.set_id(absl::StrCat(document_id, "#", chunk.ordinal()));
    chunks.push_back(std::move(chunk));
  }
  return chunks;
}

absl::StatusOr<bool> DocumentStore::DeleteDocument(absl::string_view tenant,
                                                   absl::string_view collection,
                                                   absl::string_view id) {
  absl::MutexLock lock(&mu_);
  SqliteTransaction txn(db_.get());
  absl::Status status = txn.begun();
  if (!status.ok()) return status;
  auto collection_rowid = EnsureCollection(tenant, collection, /*create=*/false);
  if (!collection_rowid.ok()) return collection_rowid.status();
  auto erase = db_->Prepare(
      "DELETE FROM documents WHERE collection_rowid = ? AND doc_id = ? RETURNING version");
  if (!erase.ok()) return erase.status();
  erase->Bind(1, *collection_rowid).BindText(2, id);
  auto row = erase->Step();
  if (!row.ok()) return row.status();
  if (!*row) return false;
  int64_t version = erase->ColumnInt(0);
  // Finish the statement before the next one.
  auto done = erase->Step();
  if (!done.ok()) return done.status();
  status = AppendLog(tenant, collection, id, version, LogEntry::Op::kDelete);
  if (!status.ok()) return status;
  status = txn.Commit();
  if (!status.ok()) return status;
  return true;
}

absl::StatusOr<DocumentPage> DocumentStore::ListDocuments(absl::string_view tenant,
                                                          absl::string_view collection,
                                                          int page_size,
                                                          absl::string_view page_token) {
  std::string after;
  if (!page_token.empty() && !absl::WebSafeBase64Unescape(page_token, &after)) {
    return absl::InvalidArgumentError("page_token is not a token returned by this API");
  }
  page_size = std::clamp(page_size <= 0 ? 100 : page_size, 1, 1000);
  absl::MutexLock lock(&mu_);
  auto collection_rowid = EnsureCollection(tenant, collection, /*create=*/false);
  if (!collection_rowid.ok()) return collection_rowid.status();
  DocumentPage page;
  auto count = db_->Prepare("SELECT COUNT(*) FROM documents WHERE collection_rowid = ?");
  if (!count.ok()) return count.status();
  count->Bind(1, *collection_rowid);
  auto counted = count->Step();
  if (!counted.ok()) return counted.status();
  page.total_size = count->ColumnInt(0);

  auto stmt = db_->Prepare(absl::StrCat(
      "SELECT ", kDocumentColumns,
      " FROM documents d JOIN collections c ON d.collection_rowid = c.rowid "
      "WHERE d.collection_rowid = ? AND d.doc_id > ? ORDER BY d.doc_id LIMIT ?"));
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, *collection_rowid).BindText(2, after).Bind(3, static_cast<int64_t>(page_size + 1));
  while (true) {
    auto row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    page.documents.push_back(ReadDocumentRow(*stmt, /*with_text=*/false));
  }
  if (page.documents.size() > static_cast<size_t>(page_size)) {
    page.documents.pop_back();
    page.next_page_token = DocumentPageToken(page.documents.back().id());
  }
  return page;
}

absl::StatusOr<std::vector<LogEntry>> DocumentStore::ReadLog(int64_t after_position, int limit) {
  absl::MutexLock lock(&mu_);
  auto stmt = db_->Prepare(
      "SELECT position, tenant, collection, doc_id, version, op FROM ingest_log "
      "WHERE position > ? ORDER BY position LIMIT ?");
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, after_position).Bind(2, static_cast<int64_t>(limit));
  std::vector<LogEntry> entries;
  while (true) {
    auto row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    LogEntry entry;
    entry.position = stmt->ColumnInt(0);
    entry.tenant = stmt->ColumnText(1);
    entry.collection = stmt->ColumnText(2);
    entry.document_id = stmt->ColumnText(3);
    entry.version = stmt->ColumnInt(4);
    entry.op = static_cast<LogEntry::Op>(stmt->ColumnInt(5));
    entries.push_back(std::move(entry));
  }
  return entries;
}

absl::StatusOr<int64_t> DocumentStore::GetIndexerPosition(absl::string_view indexer) {
  absl::MutexLock lock(&mu_);
  auto stmt = db_->Prepare("SELECT position FROM indexer_positions WHERE indexer = ?");
  if (!stmt.ok()) return stmt.status();
  stmt->BindText(1, indexer);
  auto row = stmt->Step();
  if (!row.ok()) return row.status();
  return *row ? stmt->ColumnInt(0) : 0;
}

absl::Status DocumentStore::SetIndexerPosition(absl::string_view indexer, int64_t position) {
  absl::MutexLock lock(&mu_);
  auto stmt = db_->Prepare(
      "INSERT INTO indexer_positions(indexer, position) VALUES(?, ?) "
      "ON CONFLICT(indexer) DO UPDATE SET position = excluded.position");
  if (!stmt.ok()) return stmt.status();
  stmt->BindText(1, indexer).Bind(2, position);
  return stmt->Run();
}

absl::StatusOr<int64_t> DocumentStore::LogHead() {
  absl::MutexLock lock(&mu_);
  auto stmt = db_->Prepare("SELECT COALESCE(MAX(position), 0) FROM ingest_log");
  if (!stmt.ok()) return stmt.status();
  auto row = stmt->Step();
  if (!row.ok()) return row.status();
  return stmt->ColumnInt(0);
}

}  // namespace tessera::ingest

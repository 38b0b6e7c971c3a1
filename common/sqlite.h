// A thin RAII layer over the SQLite C API: one place for opening databases with
// Tessera's durability settings, binding parameters and mapping errors to Status.
#ifndef TESSERA_COMMON_SQLITE_H_
#define TESSERA_COMMON_SQLITE_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tessera {

class SqliteStatement;

// An open SQLite database. Opened in WAL mode with synchronous=FULL, so a
// committed transaction is on disk (fsynced) before Commit() returns.
// Not thread-safe: callers serialise access (one connection per owner + mutex).
class SqliteDatabase {
 public:
  // Opens (creating if missing) the database file at `path`.
  static absl::StatusOr<std::unique_ptr<SqliteDatabase>> Open(const std::string& path);
  ~SqliteDatabase();

  SqliteDatabase(const SqliteDatabase&) = delete;
  SqliteDatabase& operator=(const SqliteDatabase&) = delete;

  // Runs one or more statements that return no rows.
  absl::Status Execute(absl::string_view sql);
  // Compiles one statement.
  absl::StatusOr<SqliteStatement> Prepare(absl::string_view sql);

  absl::Status Begin();  // BEGIN IMMEDIATE: takes the write lock up front.
  absl::Status Commit();
  void Rollback();       // Best effort; used on error paths.

  int64_t LastInsertRowId() const;
  int Changes() const;
  const std::string& path() const { return path_; }
  sqlite3* handle() { return db_; }

 private:
  SqliteDatabase(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
};

// BEGIN IMMEDIATE on construction; rolls back on destruction unless Commit()
// succeeded, so every early return of an error leaves the database unchanged.
class SqliteTransaction {
 public:
  explicit SqliteTransaction(SqliteDatabase* db) : db_(db), begun_(db->Begin()) {}
  ~SqliteTransaction() {
    if (begun_.ok() && !committed_) db_->Rollback();
  }
  SqliteTransaction(const SqliteTransaction&) = delete;
  SqliteTransaction& operator=(const SqliteTransaction&) = delete;

  // The status of BEGIN; check it before writing.
  const absl::Status& begun() const { return begun_; }
  absl::Status Commit() {
    absl::Status status = db_->Commit();
    committed_ = status.ok();
    return status;
  }

 private:
  SqliteDatabase* db_;
  absl::Status begun_;
  bool committed_ = false;
};

// Runs `body` (returning absl::Status) inside a transaction, committing when it
// returns OK and rolling back otherwise.
template <typename Body>
absl::Status InTransaction(SqliteDatabase* db, Body body) {
  SqliteTransaction transaction(db);
  if (!transaction.begun().ok()) return transaction.begun();
  absl::Status status = body();
  if (!status.ok()) return status;
  return transaction.Commit();
}

// A prepared statement. Bind parameters are 1-based, as in SQLite.
class SqliteStatement {
 public:
  SqliteStatement(SqliteStatement&& other) noexcept;
  SqliteStatement& operator=(SqliteStatement&& other) noexcept;
  ~SqliteStatement();

  SqliteStatement& Bind(int index, int64_t value);
  SqliteStatement& Bind(int index, double value);
  SqliteStatement& BindText(int index, absl::string_view value);
  SqliteStatement& BindBlob(int index, absl::string_view value);
  SqliteStatement& BindNull(int index);

  // Advances to the next row: true when a row is available, false when done.
  absl::StatusOr<bool> Step();
  // Runs a statement that returns no rows.
  absl::Status Run();
  // Resets for re-execution with new bindings.
  void Reset();

  int64_t ColumnInt(int col) const;
  double ColumnDouble(int col) const;
  std::string ColumnText(int col) const;
  std::string ColumnBlob(int col) const;
  bool ColumnIsNull(int col) const;

 private:
  friend class SqliteDatabase;
  SqliteStatement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

// Maps a SQLite result code (and the connection's message) to a Status.
absl::Status SqliteError(sqlite3* db, int rc, absl::string_view what);

}  // namespace tessera

#endif  // TESSERA_COMMON_SQLITE_H_

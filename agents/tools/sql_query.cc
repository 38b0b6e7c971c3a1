#include "agents/tools/sql_query.h"

#include <sqlite3.h>

#include <cctype>
#include <cstring>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace tessera::agents {

namespace {

// Skips whitespace and SQL comments; returns the offset of the next token.
size_t SkipSpaceAndComments(absl::string_view sql, size_t pos) {
  while (pos < sql.size()) {
    if (std::isspace(static_cast<unsigned char>(sql[pos]))) {
      ++pos;
    } else if (sql.substr(pos, 2) == "--") {
      size_t end = sql.find('\n', pos);
      pos = end == absl::string_view::npos ? sql.size() : end + 1;
    } else if (sql.substr(pos, 2) == "/*") {
      size_t end = sql.find("*/", pos + 2);
      pos = end == absl::string_view::npos ? sql.size() : end + 2;
    } else {
      break;
    }
  }
  return pos;
}

int StopWhenPastDeadline(void* deadline) {
  return absl::Now() > *static_cast<absl::Time*>(deadline) ? 1 : 0;
}

Json ColumnValue(sqlite3_stmt* stmt, int col) {
  switch (sqlite3_column_type(stmt, col)) {
    case SQLITE_INTEGER: return static_cast<int64_t>(sqlite3_column_int64(stmt, col));
    case SQLITE_FLOAT: return sqlite3_column_double(stmt, col);
    case SQLITE_NULL: return nullptr;
    case SQLITE_BLOB: return absl::StrCat("<blob ", sqlite3_column_bytes(stmt, col), " bytes>");
    default: {
      const unsigned char* text = sqlite3_column_text(stmt, col);
      return std::string(reinterpret_cast<const char*>(text), sqlite3_column_bytes(stmt, col));
    }
  }
}

}  // namespace

std::string SqlQueryTool::description() const {
  return "Runs one read-only SQL query (SELECT or WITH) on the configured SQLite database and "
         "returns columns and rows.";
}

Json SqlQueryTool::parameters_schema() const {
  return Json::parse(R"({
    "type": "object",
    "properties": {
      "query": {"type": "string", "minLength": 1, "maxLength": 10000},
      "params": {"type": "array", "maxItems": 100,
                 "items": {"type": ["string", "number", "boolean", "null"]}}
    },
    "required": ["query"],
    "additionalProperties": false
  })");
}

absl::StatusOr<Json> SqlQueryTool::Invoke(const Json& arguments, absl::Time deadline) {
  auto query_arg = arguments.find("query");
  if (!arguments.is_object() || query_arg == arguments.end() || !query_arg->is_string()) {
    return absl::InvalidArgumentError("sql_query: argument 'query' (a string) is required");
  }
  const std::string sql = query_arg->get<std::string>();
  size_t start = SkipSpaceAndComments(sql, 0);
  size_t word_end = start;
  while (word_end < sql.size() && std::isalpha(static_cast<unsigned char>(sql[word_end]))) ++word_end;
  std::string first_word = absl::AsciiStrToUpper(sql.substr(start, word_end - start));
  if (first_word != "SELECT" && first_word != "WITH") {
    return absl::PermissionDeniedError(
        absl::StrCat("sql_query: only SELECT or WITH queries are allowed, got '", first_word, "'"));
  }

  sqlite3* raw_db = nullptr;
  int rc = sqlite3_open_v2(options_.database_path.c_str(), &raw_db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close_v2)> db(raw_db, &sqlite3_close_v2);
  if (rc != SQLITE_OK) {
    return absl::FailedPreconditionError(absl::StrCat("sql_query: cannot open database: ", sqlite3_errstr(rc)));
  }
  sqlite3_stmt* raw_stmt = nullptr;
  const char* tail = nullptr;
  rc = sqlite3_prepare_v2(db.get(), sql.c_str(), static_cast<int>(sql.size()), &raw_stmt, &tail);
  std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> stmt(raw_stmt, &sqlite3_finalize);
  if (rc != SQLITE_OK || stmt == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("sql_query: ", sqlite3_errmsg(db.get())));
  }
  if (tail != nullptr && SkipSpaceAndComments(tail, 0) < std::strlen(tail)) {
    // A trailing ';' alone is fine; anything else is a second statement.
    absl::string_view rest(tail);
    size_t pos = SkipSpaceAndComments(rest, 0);
    while (pos < rest.size() && rest[pos] == ';') pos = SkipSpaceAndComments(rest, pos + 1);
    if (pos < rest.size()) {
      return absl::PermissionDeniedError("sql_query: exactly one statement is allowed");
    }
  }
  if (!sqlite3_stmt_readonly(stmt.get())) {
    return absl::PermissionDeniedError("sql_query: the statement would write to the database");
  }
  if (auto params = arguments.find("params"); params != arguments.end() && params->is_array()) {
    int index = 1;
    for (const Json& param : *params) {
      if (param.is_number_integer()) sqlite3_bind_int64(stmt.get(), index, param.get<int64_t>());
      else if (param.is_number()) sqlite3_bind_double(stmt.get(), index, param.get<double>());
      else if (param.is_boolean()) sqlite3_bind_int(stmt.get(), index, param.get<bool>() ? 1 : 0);
      else if (param.is_string()) {
        const std::string& text = param.get_ref<const std::string&>();
        sqlite3_bind_text64(stmt.get(), index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      } else {
        sqlite3_bind_null(stmt.get(), index);
      }
      ++index;
    }
  }
  absl::Time stop = std::min(deadline, absl::Now() + options_.timeout);
  sqlite3_progress_handler(db.get(), 1000, &StopWhenPastDeadline, &stop);

  Json columns = Json::array();
  int column_count = sqlite3_column_count(stmt.get());
  for (int c = 0; c < column_count; ++c) columns.push_back(sqlite3_column_name(stmt.get(), c));
  Json rows = Json::array();
  bool truncated = false;
  while (true) {
    rc = sqlite3_step(stmt.get());
    if (rc == SQLITE_DONE) break;
    if (rc == SQLITE_INTERRUPT) {
      return absl::DeadlineExceededError("sql_query: query exceeded its time limit");
    }
    if (rc != SQLITE_ROW) return absl::InvalidArgumentError(absl::StrCat("sql_query: ", sqlite3_errmsg(db.get())));
    if (static_cast<int>(rows.size()) >= options_.max_rows) {
      truncated = true;
      break;
    }
    Json row = Json::array();
    for (int c = 0; c < column_count; ++c) row.push_back(ColumnValue(stmt.get(), c));
    rows.push_back(std::move(row));
  }
  return Json{{"columns", columns}, {"rows", rows}, {"truncated", truncated}};
}

}  // namespace tessera::agents

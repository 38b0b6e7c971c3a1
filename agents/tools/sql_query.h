// The `sql_query` tool: read-only queries on one SQLite database the operator
// names. Three independent guards: the file is opened SQLITE_OPEN_READONLY; the
// text must be exactly one statement starting with SELECT or WITH; and SQLite
// must report the compiled statement read-only (sqlite3_stmt_readonly), which
// also catches "WITH ... DELETE". Rows and run time are capped (a progress
// handler interrupts a query past its deadline).
#ifndef TESSERA_AGENTS_TOOLS_SQL_QUERY_H_
#define TESSERA_AGENTS_TOOLS_SQL_QUERY_H_

#include <string>

#include "absl/time/time.h"
#include "agents/tools/tool.h"

namespace tessera::agents {

struct SqlQueryOptions {
  std::string database_path;
  int max_rows = 200;
  absl::Duration timeout = absl::Seconds(5);
};

// Arguments {"query": string, "params": [scalars]?}; result
// {"columns": [...], "rows": [[...], ...], "truncated": bool}.
class SqlQueryTool : public Tool {
 public:
  explicit SqlQueryTool(SqlQueryOptions options) : options_(std::move(options)) {}

  std::string name() const override { return "sql_query"; }
  std::string description() const override;
  Json parameters_schema() const override;
  std::string result_type() const override { return "object"; }
  absl::StatusOr<Json> Invoke(const Json& arguments, absl::Time deadline) override;

 private:
  SqlQueryOptions options_;
};

}  // namespace tessera::agents

#endif  // TESSERA_AGENTS_TOOLS_SQL_QUERY_H_

#include "agents/tools/sql_query.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/sqlite.h"
#include "gtest/gtest.h"

namespace tessera::agents {
namespace {

class SqlQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = absl::StrCat(::testing::TempDir(), "/sql_query_test.db");
    std::remove(path_.c_str());
    auto db = SqliteDatabase::Open(path_);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, total REAL);"
                               "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) "
                               "INSERT INTO orders SELECT i, 'c' || (i % 7), i * 1.5 FROM n;").ok());
    SqlQueryOptions options;
    options.database_path = path_;
    options.max_rows = 100;
    options.timeout = absl::Milliseconds(300);
    tool_ = std::make_unique<SqlQueryTool>(options);
  }
  absl::StatusOr<Json> Query(const std::string& sql, Json params = nullptr) {
    Json args = {{"query", sql}};
    if (!params.is_null()) args["params"] = params;
    EXPECT_TRUE(ValidateToolArguments(*tool_, args).ok());
    return tool_->Invoke(args, absl::InfiniteFuture());
  }
  std::string path_;
  std::unique_ptr<SqlQueryTool> tool_;
};

TEST_F(SqlQueryTest, SelectsWithParamsAndRowLimit) {
  absl::StatusOr<Json> result = Query("SELECT id, customer, total FROM orders WHERE id <= ?1 ORDER BY id", {3});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ((*result)["columns"], Json::array({"id", "customer", "total"}));
  EXPECT_EQ((*result)["rows"], Json::parse(R"([[1, "c1", 1.5], [2, "c2", 3.0], [3, "c3", 4.5]])"));
  EXPECT_EQ((*result)["truncated"], false);
  absl::StatusOr<Json> capped = Query("-- all\nWITH t AS (SELECT * FROM orders) SELECT id FROM t;");
  ASSERT_TRUE(capped.ok()) << capped.status();
  EXPECT_EQ((*capped)["rows"].size(), 100u);
  EXPECT_EQ((*capped)["truncated"], true);
}

TEST_F(SqlQueryTest, RefusesWritesAndMultipleStatements) {
  for (const char* sql : {"DELETE FROM orders", "UPDATE orders SET total = 0", "DROP TABLE orders",
                          "INSERT INTO orders VALUES (1000, 'x', 1)", "PRAGMA journal_mode=DELETE",
                          "ATTACH DATABASE '/tmp/x.db' AS x"}) {
    absl::StatusOr<Json> result = Query(sql);
    EXPECT_EQ(result.status().code(), absl::StatusCode::kPermissionDenied) << sql;
  }
  absl::StatusOr<Json> sneaky = Query("SELECT 1; DELETE FROM orders");
  EXPECT_TRUE(absl::StrContains(sneaky.status().message(), "exactly one statement")) << sneaky.status();
  absl::StatusOr<Json> cte_write = Query("WITH x AS (SELECT 1) DELETE FROM orders");
  EXPECT_EQ(cte_write.status().code(), absl::StatusCode::kPermissionDenied) << cte_write.status();
  EXPECT_TRUE(absl::StrContains(cte_write.status().message(), "would write")) << cte_write.status();
  // Nothing was changed.
  EXPECT_EQ((*Query("SELECT COUNT(*) AS n FROM orders"))["rows"][0][0], 500);
}

TEST_F(SqlQueryTest, TimeLimitAndBadSql) {
  absl::StatusOr<Json> slow = Query(
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT COUNT(*) FROM n");
  EXPECT_EQ(slow.status().code(), absl::StatusCode::kDeadlineExceeded) << slow.status();
  EXPECT_EQ(Query("SELECT nope FROM orders").status().code(), absl::StatusCode::kInvalidArgument);
  SqlQueryOptions missing;
  missing.database_path = path_ + ".absent";
  SqlQueryTool absent(missing);
  EXPECT_EQ(absent.Invoke({{"query", "SELECT 1"}}, absl::InfiniteFuture()).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace tessera::agents

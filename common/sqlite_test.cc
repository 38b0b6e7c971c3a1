#include "common/sqlite.h"

#include <unistd.h>

#include <cstdlib>
#include <string>

#include "gtest/gtest.h"

namespace tessera {
namespace {

std::string TempDbPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name + "." +
         std::to_string(getpid()) + ".db";
}

TEST(SqliteTest, OpensInWalModeWithFullSync) {
  auto db = SqliteDatabase::Open(TempDbPath("wal"));
  ASSERT_TRUE(db.ok()) << db.status();
  auto mode = (*db)->Prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode.ok());
  ASSERT_TRUE(*mode->Step());
  EXPECT_EQ(mode->ColumnText(0), "wal");
  auto sync = (*db)->Prepare("PRAGMA synchronous");
  ASSERT_TRUE(sync.ok());
  ASSERT_TRUE(*sync->Step());
  EXPECT_EQ(sync->ColumnInt(0), 2);  // FULL
}

TEST(SqliteTest, BindsAndReadsEveryType) {
  auto db = SqliteDatabase::Open(TempDbPath("types"));
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->Execute("CREATE TABLE t(i INTEGER, d REAL, s TEXT, b BLOB, n TEXT)").ok());
  auto insert = (*db)->Prepare("INSERT INTO t VALUES(?,?,?,?,?)");
  ASSERT_TRUE(insert.ok());
  std::string blob("a\0b", 3);
  insert->Bind(1, int64_t{1} << 40).Bind(2, 2.5).BindText(3, "héllo").BindBlob(4, blob).BindNull(5);
  ASSERT_TRUE(insert->Run().ok());
  auto select = (*db)->Prepare("SELECT i, d, s, b, n FROM t");
  ASSERT_TRUE(select.ok());
  ASSERT_TRUE(*select->Step());
  EXPECT_EQ(select->ColumnInt(0), int64_t{1} << 40);
  EXPECT_DOUBLE_EQ(select->ColumnDouble(1), 2.5);
  EXPECT_EQ(select->ColumnText(2), "héllo");
  EXPECT_EQ(select->ColumnBlob(3), blob);
  EXPECT_TRUE(select->ColumnIsNull(4));
  EXPECT_FALSE(*select->Step());
}

TEST(SqliteTest, ConstraintViolationIsAlreadyExists) {
  auto db = SqliteDatabase::Open(TempDbPath("constraint"));
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->Execute("CREATE TABLE u(k TEXT PRIMARY KEY)").ok());
  ASSERT_TRUE((*db)->Execute("INSERT INTO u VALUES('a')").ok());
  absl::Status status = (*db)->Execute("INSERT INTO u VALUES('a')");
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists) << status;
}

TEST(SqliteTest, RollbackDiscardsTransaction) {
  auto db = SqliteDatabase::Open(TempDbPath("rollback"));
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->Execute("CREATE TABLE r(x INTEGER)").ok());
  ASSERT_TRUE((*db)->Begin().ok());
  ASSERT_TRUE((*db)->Execute("INSERT INTO r VALUES(1)").ok());
  (*db)->Rollback();
  auto count = (*db)->Prepare("SELECT COUNT(*) FROM r");
  ASSERT_TRUE(count.ok());
  ASSERT_TRUE(*count->Step());
  EXPECT_EQ(count->ColumnInt(0), 0);
}

TEST(SqliteTest, BadSqlIsAnError) {
  auto db = SqliteDatabase::Open(TempDbPath("bad"));
  ASSERT_TRUE(db.ok());
  EXPECT_FALSE((*db)->Prepare("SELEKT nonsense").ok());
}

TEST(SqliteTest, UnopenablePathIsAnError) {
  auto db = SqliteDatabase::Open("/nonexistent-dir/sub/x.db");
  EXPECT_FALSE(db.ok());
}

}  // namespace
}  // namespace tessera

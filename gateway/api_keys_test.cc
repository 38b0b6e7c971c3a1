#include "gateway/api_keys.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/sqlite.h"

namespace tessera::gateway {
namespace {

std::string TempDbPath(absl::string_view name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = absl::StrCat(dir ? dir : "/tmp", "/", name, ".sqlite");
  std::remove(path.c_str());
  std::remove((path + "-wal").c_str());
  std::remove((path + "-shm").c_str());
  return path;
}

class ApiKeyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = TempDbPath(::testing::UnitTest::GetInstance()->current_test_info()->name());
    auto store = ApiKeyStore::Open(path_, &clock_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }
  FakeClock clock_;
  std::string path_;
  std::unique_ptr<ApiKeyStore> store_;
};

TEST_F(ApiKeyStoreTest, CreateReturnsWellFormedKeyAndVerifies) {
  auto created = store_->Create("acme", ApiKeyRole::kAdmin, "ci");
  ASSERT_TRUE(created.ok()) << created.status();
  // "tsk_" + 43 characters of base64url for 32 bytes.
  EXPECT_EQ(created->plaintext.size(), 4u + 43u);
  EXPECT_TRUE(absl::StartsWith(created->plaintext, "tsk_"));
  EXPECT_EQ(created->info.key_id, created->plaintext.substr(4, 12));

  auto verified = store_->Verify(created->plaintext);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->tenant, "acme");
  EXPECT_EQ(verified->role, ApiKeyRole::kAdmin);
  EXPECT_EQ(verified->name, "ci");
  EXPECT_EQ(verified->key_id, created->info.key_id);
  EXPECT_EQ(verified->create_time, clock_.Now());
}

TEST_F(ApiKeyStoreTest, KeysAreRandomAndDistinct) {
  std::set<std::string> keys;
  for (int i = 0; i < 20; ++i) {
    auto created = store_->Create("acme", ApiKeyRole::kUser, "");
    ASSERT_TRUE(created.ok());
    keys.insert(created->plaintext);
  }
  EXPECT_EQ(keys.size(), 20u);
}

TEST_F(ApiKeyStoreTest, WrongKeysAreRejectedWithoutEchoingThem) {
  auto created = store_->Create("acme", ApiKeyRole::kUser, "app");
  ASSERT_TRUE(created.ok());
  // Same id (prefix), different secret: found by index, rejected by the HMAC.
  std::string tampered = created->plaintext;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  for (const std::string& bad :
       {tampered, std::string("tsk_short"), std::string(""), std::string("Bearer x"),
        std::string("tsk_") + std::string(43, 'A')}) {
    auto verified = store_->Verify(bad);
    ASSERT_FALSE(verified.ok()) << bad;
    EXPECT_EQ(verified.status().code(), absl::StatusCode::kUnauthenticated);
    if (!bad.empty()) {
      EXPECT_FALSE(absl::StrContains(verified.status().message(), bad));
    }
  }
}

TEST_F(ApiKeyStoreTest, RevokedKeysStopVerifying) {
  auto created = store_->Create("acme", ApiKeyRole::kUser, "app");
  ASSERT_TRUE(created.ok());
  clock_.Advance(absl::Minutes(5));
  ASSERT_TRUE(store_->Revoke(created->info.key_id).ok());
  auto verified = store_->Verify(created->plaintext);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.status().code(), absl::StatusCode::kUnauthenticated);
  // Idempotent; revoke time stays the first one.
  clock_.Advance(absl::Minutes(5));
  ASSERT_TRUE(store_->Revoke(created->info.key_id).ok());
  auto keys = store_->List("acme");
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_TRUE((*keys)[0].revoked);
  EXPECT_EQ((*keys)[0].revoke_time, (*keys)[0].create_time + absl::Minutes(5));
  EXPECT_EQ(store_->Revoke("nonexistent").code(), absl::StatusCode::kNotFound);
}

TEST_F(ApiKeyStoreTest, ListFiltersByTenantAndNeverStoresPlaintext) {
  auto a1 = store_->Create("acme", ApiKeyRole::kAdmin, "a1");
  clock_.Advance(absl::Seconds(1));
  auto b1 = store_->Create("globex", ApiKeyRole::kUser, "b1");
  clock_.Advance(absl::Seconds(1));
  auto a2 = store_->Create("acme", ApiKeyRole::kUser, "a2");
  ASSERT_TRUE(a1.ok() && b1.ok() && a2.ok());

  auto acme = store_->List("acme");
  ASSERT_TRUE(acme.ok());
  ASSERT_EQ(acme->size(), 2u);
  EXPECT_EQ((*acme)[0].name, "a1");
  EXPECT_EQ((*acme)[1].name, "a2");
  auto all = store_->List();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);

  // Read the raw database: no column holds the key or its secret part.
  auto db = SqliteDatabase::Open(path_);
  ASSERT_TRUE(db.ok());
  auto rows = (*db)->Prepare("SELECT key_id, tenant, role, name, salt, hmac FROM api_keys");
  ASSERT_TRUE(rows.ok());
  int count = 0;
  while (*rows->Step()) {
    ++count;
    for (int col = 0; col < 6; ++col) {
      std::string value = rows->ColumnBlob(col);
      for (const auto* key : {&a1->plaintext, &b1->plaintext, &a2->plaintext}) {
        EXPECT_FALSE(absl::StrContains(value, key->substr(4)));
      }
    }
    EXPECT_EQ(rows->ColumnBlob(5).size(), 32u);  // HMAC-SHA-256
    EXPECT_EQ(rows->ColumnBlob(4).size(), 16u);  // salt
  }
  EXPECT_EQ(count, 3);
}

TEST_F(ApiKeyStoreTest, HasActiveKeysUntilTheLastIsRevoked) {
  EXPECT_FALSE(*store_->HasActiveKeys());
  auto created = store_->Create("acme", ApiKeyRole::kUser, "");
  ASSERT_TRUE(created.ok());
  EXPECT_TRUE(*store_->HasActiveKeys());
  ASSERT_TRUE(store_->Revoke(created->info.key_id).ok());
  EXPECT_FALSE(*store_->HasActiveKeys());
}

TEST_F(ApiKeyStoreTest, SurvivesReopen) {
  auto created = store_->Create("acme", ApiKeyRole::kUser, "app");
  ASSERT_TRUE(created.ok());
  store_.reset();
  auto reopened = ApiKeyStore::Open(path_, &clock_);
  ASSERT_TRUE(reopened.ok());
  auto verified = (*reopened)->Verify(created->plaintext);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->tenant, "acme");
}

TEST_F(ApiKeyStoreTest, RejectsBadTenantAndRole) {
  EXPECT_EQ(store_->Create("", ApiKeyRole::kUser, "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Create("a b", ApiKeyRole::kUser, "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Create(std::string(129, 'a'), ApiKeyRole::kUser, "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*ParseApiKeyRole("admin"), ApiKeyRole::kAdmin);
  EXPECT_EQ(*ParseApiKeyRole("user"), ApiKeyRole::kUser);
  EXPECT_FALSE(ParseApiKeyRole("root").ok());
}

}  // namespace
}  // namespace tessera::gateway

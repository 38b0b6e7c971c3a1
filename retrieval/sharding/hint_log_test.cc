#include "retrieval/sharding/hint_log.h"

#include <cstdlib>
#include <filesystem>
#include <string>

#include "gtest/gtest.h"

namespace tessera::retrieval::sharding {
namespace {

std::string TempPath(const std::string& name) {
  const char* base = std::getenv("TEST_TMPDIR");
  const std::string dir = std::string(base != nullptr ? base : "/tmp") + "/hint_log_test";
  std::filesystem::create_directories(dir);
  std::filesystem::remove(dir + "/" + name);
  return dir + "/" + name;
}

TEST(HintLogTest, KeepsHintsInOrderPerReplicaAcrossReopen) {
  const std::string path = TempPath("hints.db");
  {
    auto log = HintLog::Open(path);
    ASSERT_TRUE(log.ok()) << log.status();
    ASSERT_TRUE((*log)->Append("a:1", "default", "PutDocument", "one").ok());
    ASSERT_TRUE((*log)->Append("b:1", "t2", "DeleteDocument", "x").ok());
    ASSERT_TRUE((*log)->Append("a:1", "default", "PutDocument", std::string("t\0wo", 4)).ok());
    EXPECT_EQ((*log)->Pending("a:1"), 2);
    EXPECT_EQ((*log)->Pending("c:1"), 0);
  }
  // Durable: a new process sees the same hints and counts.
  auto log = HintLog::Open(path);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ((*log)->Pending("a:1"), 2);
  EXPECT_EQ((*log)->ReplicasWithHints(), (std::vector<std::string>{"a:1", "b:1"}));
  auto hints = (*log)->Oldest("a:1", 10);
  ASSERT_TRUE(hints.ok());
  ASSERT_EQ(hints->size(), 2u);
  EXPECT_EQ((*hints)[0].request, "one");
  EXPECT_EQ((*hints)[1].request, std::string("t\0wo", 4));
  EXPECT_LT((*hints)[0].sequence, (*hints)[1].sequence);
  EXPECT_EQ((*hints)[0].method, "PutDocument");

  ASSERT_TRUE((*log)->Remove((*hints)[0]).ok());
  ASSERT_TRUE((*log)->Remove((*hints)[0]).ok());  // Removing twice counts once.
  EXPECT_EQ((*log)->Pending("a:1"), 1);
  ASSERT_TRUE((*log)->Remove((*hints)[1]).ok());
  EXPECT_EQ((*log)->Pending("a:1"), 0);
  EXPECT_EQ((*log)->ReplicasWithHints(), (std::vector<std::string>{"b:1"}));
  auto b = (*log)->Oldest("b:1", 1);
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->size(), 1u);
  EXPECT_EQ((*b)[0].tenant, "t2");
}

TEST(HintLogTest, UnwritablePathIsAnError) {
  auto log = HintLog::Open("/nonexistent-dir/hints.db");
  EXPECT_FALSE(log.ok());
}

}  // namespace
}  // namespace tessera::retrieval::sharding

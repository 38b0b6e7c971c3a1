#include "agents/run_store.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace tessera::agents {
namespace {

namespace v1 = ::tessera::agents::v1;

TEST(RunStoreTest, PersistsRunsCheckpointsEffectsAndEventsPerTenant) {
  std::string path = absl::StrCat(::testing::TempDir(), "/run_store_test.db");
  std::remove(path.c_str());
  {
    auto store = RunStore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status();
    RunRecord record;
    record.tenant = "acme";
    record.run.set_id("r1");
    record.run.set_graph_id("g");
    record.run.set_status(v1::RUNNING);
    record.next_node = "a";
    std::vector<v1::RunEvent> no_events;
    ASSERT_TRUE((*store)->CreateRun(record, "__start__", &no_events).ok());
    EXPECT_EQ((*store)->CreateRun(record, "__start__", &no_events).code(), absl::StatusCode::kAlreadyExists);
    record.run.set_step(1);
    record.visits["a"] = 1;
    record.next_node = "__end__";
    v1::RunEvent event;
    event.set_step(1);
    event.set_kind(v1::RunEvent::CHECKPOINT);
    std::vector<v1::RunEvent> events = {event, event};
    ASSERT_TRUE((*store)->CommitStep(record, std::string("a"), &events).ok());
    EXPECT_EQ(events[0].sequence(), 1);  // Sequence numbers are written back.
    EXPECT_EQ(events[1].sequence(), 2);
    ASSERT_TRUE((*store)->RecordEffect("acme", "r1", 2, 0, "h", "tool", Json{{"ok", 5}}).ok());
  }
  auto store = RunStore::Open(path);  // Reopened: everything is still there.
  ASSERT_TRUE(store.ok());
  auto run = (*store)->GetRun("acme", "r1");
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->run.step(), 1);
  EXPECT_EQ(run->visits["a"], 1);
  EXPECT_EQ(run->next_node, "__end__");
  EXPECT_EQ((*store)->GetRun("evil", "r1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ((*store)->GetCheckpoint("acme", "r1", RunStore::kLatestStep)->checkpoint.node_id(), "a");
  EXPECT_EQ((*store)->GetCheckpoint("acme", "r1", 0)->next_node, "a");
  EXPECT_EQ((*store)->GetCheckpoint("acme", "r1", 7).status().code(), absl::StatusCode::kNotFound);
  int64_t total = 0;
  EXPECT_EQ((*store)->ListCheckpoints("acme", "r1", 1, 10, &total)->size(), 1u);
  EXPECT_EQ(total, 2);
  EXPECT_EQ((*store)->ListEvents("acme", "r1", 0)->size(), 2u);
  EXPECT_EQ((*store)->ListEvents("acme", "r1", 1)->size(), 0u);
  auto after_first = (*store)->ListEvents("acme", "r1", -1, /*after_sequence=*/1);
  ASSERT_TRUE(after_first.ok());
  ASSERT_EQ(after_first->size(), 1u);
  EXPECT_EQ((*after_first)[0].sequence(), 2);
  EXPECT_EQ((**(*store)->LookupEffect("acme", "r1", 2, 0, "h"))["ok"], 5);
  EXPECT_FALSE((*(*store)->LookupEffect("acme", "r1", 2, 0, "other-request")).has_value());
  EXPECT_EQ((*store)->RunsWithStatus(v1::RUNNING)->size(), 1u);
}

}  // namespace
}  // namespace tessera::agents

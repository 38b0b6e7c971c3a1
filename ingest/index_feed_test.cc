#include "ingest/index_feed.h"

#include <unistd.h>

#include <cstdlib>
#include <map>
#include <string>

#include "gtest/gtest.h"

namespace tessera::ingest {
namespace {

std::string TempDbPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/" + name + "." +
                     std::to_string(getpid()) + ".db";
  unlink(path.c_str());
  return path;
}

PreparedDocument MakeDoc(const std::string& id, const std::string& text, int chunks) {
  PreparedDocument prepared;
  prepared.document.set_collection("c");
  prepared.document.set_id(id);
  prepared.document.set_text(text);
  for (int i = 0; i < chunks; ++i) {
    Chunk chunk;
    chunk.set_text(text + "/" + std::to_string(i));
    prepared.chunks.push_back(chunk);
  }
  return prepared;
}

// Keeps chunk id -> text, as an index would; can be made to fail.
class RecordingIndexer : public Indexer {
 public:
  explicit RecordingIndexer(std::string name) : name_(std::move(name)) {}
  std::string name() const override { return name_; }
  absl::Status Apply(const IndexUpdate& update) override {
    if (fail_) return absl::UnavailableError("index offline");
    const std::string prefix = update.entry.document_id + "#";
    for (auto it = chunks_.lower_bound(prefix);
         it != chunks_.end() && it->first.compare(0, prefix.size(), prefix) == 0;) {
      it = chunks_.erase(it);
    }
    for (const Chunk& chunk : update.chunks) chunks_[chunk.id()] = chunk.text();
    ++applied_;
    return absl::OkStatus();
  }
  absl::Status Flush() override {
    ++flushes_;
    return absl::OkStatus();
  }

  std::map<std::string, std::string> chunks_;
  int applied_ = 0;
  int flushes_ = 0;
  bool fail_ = false;

 private:
  std::string name_;
};

TEST(IndexFeedTest, AppliesPutsReplacementsAndDeletes) {
  auto store = DocumentStore::Open(TempDbPath("feed_basic"));
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->PutDocument("t", MakeDoc("a", "one", 3), true).ok());
  ASSERT_TRUE((*store)->PutDocument("t", MakeDoc("b", "two", 1), true).ok());
  ASSERT_TRUE((*store)->PutDocument("t", MakeDoc("a", "uno", 1), true).ok());  // replaces a
  ASSERT_TRUE((*store)->DeleteDocument("t", "c", "b").ok());

  IndexFeed feed(store->get());
  RecordingIndexer indexer("bm25");
  feed.Register(&indexer);
  ASSERT_TRUE(feed.CatchUp().ok());
  EXPECT_EQ(indexer.chunks_, (std::map<std::string, std::string>{{"a#0", "uno/0"}}));
  EXPECT_GE(indexer.flushes_, 1);
  EXPECT_EQ(*(*store)->GetIndexerPosition("bm25"), *(*store)->LogHead());
}

TEST(IndexFeedTest, IndexerThatWasDownCatchesUpFromItsSavedPosition) {
  const std::string path = TempDbPath("feed_restart");
  auto store = DocumentStore::Open(path);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->PutDocument("t", MakeDoc("a", "first", 1), true).ok());
  {
    IndexFeed feed(store->get());
    RecordingIndexer indexer("vectors");
    feed.Register(&indexer);
    ASSERT_TRUE(feed.CatchUp().ok());
    EXPECT_EQ(indexer.applied_, 1);
  }
  // Written while no indexer runs.
  ASSERT_TRUE((*store)->PutDocument("t", MakeDoc("b", "second", 1), true).ok());
  store->reset();

  auto reopened = DocumentStore::Open(path);
  ASSERT_TRUE(reopened.ok());
  IndexFeed feed(reopened->get());
  RecordingIndexer indexer("vectors");
  feed.Register(&indexer);
  ASSERT_TRUE(feed.CatchUp().ok());
  EXPECT_EQ(indexer.applied_, 1);  // only the entry it had not applied
  EXPECT_EQ(indexer.chunks_.count("b#0"), 1u);
}

TEST(IndexFeedTest, FailedApplyKeepsPositionForRetry) {
  auto store = DocumentStore::Open(TempDbPath("feed_fail"));
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->PutDocument("t", MakeDoc("a", "x", 1), true).ok());
  IndexFeed feed(store->get());
  RecordingIndexer indexer("flaky");
  feed.Register(&indexer);
  indexer.fail_ = true;
  absl::Status status = feed.CatchUp();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("flaky"), std::string::npos);
  EXPECT_EQ(*(*store)->GetIndexerPosition("flaky"), 0);
  indexer.fail_ = false;
  ASSERT_TRUE(feed.CatchUp().ok());
  EXPECT_EQ(indexer.chunks_.count("a#0"), 1u);
}

TEST(IndexFeedTest, BackgroundThreadAppliesAfterNotify) {
  auto store = DocumentStore::Open(TempDbPath("feed_thread"));
  ASSERT_TRUE(store.ok());
  IndexFeed feed(store->get());
  RecordingIndexer indexer("bg");
  feed.Register(&indexer);
  feed.Start(absl::Seconds(30));
  ASSERT_TRUE((*store)->PutDocument("t", MakeDoc("a", "x", 2), true).ok());
  feed.Notify();
  ASSERT_TRUE(feed.WaitForPosition(*(*store)->LogHead(), absl::Seconds(10)));
  feed.Stop();
  EXPECT_EQ(indexer.chunks_.size(), 2u);
}

}  // namespace
}  // namespace tessera::ingest

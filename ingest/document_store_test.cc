#include "ingest/document_store.h"

#include <unistd.h>

#include <cstdlib>
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

PreparedDocument MakeDoc(const std::string& collection, const std::string& id,
                         const std::string& text, int chunks = 1) {
  PreparedDocument prepared;
  prepared.document.set_collection(collection);
  prepared.document.set_id(id);
  prepared.document.set_title("Title of " + id);
  prepared.document.set_text(text);
  for (int i = 0; i < chunks; ++i) {
    Chunk chunk;
    chunk.set_text(text + " part " + std::to_string(i));
    chunk.set_char_start(i);
    chunk.set_char_end(i + 1);
    chunk.add_section_path("Intro");
    prepared.chunks.push_back(chunk);
  }
  return prepared;
}

class DocumentStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = TempDbPath(::testing::UnitTest::GetInstance()->current_test_info()->name());
    auto store = DocumentStore::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }
  std::string path_;
  std::unique_ptr<DocumentStore> store_;
};

TEST_F(DocumentStoreTest, PutGetRoundTripsTextMetadataAndChunks) {
  PreparedDocument doc = MakeDoc("papers", "doc-1", "Aspirin reduces fever.", 2);
  (*doc.document.mutable_metadata())["year"].set_int_value(2021);
  (*doc.document.mutable_metadata())["score"].set_double_value(0.5);
  (*doc.document.mutable_metadata())["open"].set_bool_value(true);
  (*doc.document.mutable_metadata())["tags"].mutable_string_list_value()->add_values("med");
  auto put = store_->PutDocument("acme", doc, /*create_collection=*/true);
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_EQ(put->version, 1);
  EXPECT_FALSE(put->unchanged);
  EXPECT_EQ(put->chunk_count, 2);
  EXPECT_EQ(put->content_hash.size(), 64u);

  auto got = store_->GetDocument("acme", "papers", "doc-1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->text(), "Aspirin reduces fever.");
  EXPECT_EQ(got->title(), "Title of doc-1");
  EXPECT_EQ(got->version(), 1);
  EXPECT_EQ(got->tenant(), "acme");
  EXPECT_EQ(got->collection(), "papers");
  EXPECT_EQ(got->metadata().at("year").int_value(), 2021);
  EXPECT_DOUBLE_EQ(got->metadata().at("score").double_value(), 0.5);
  EXPECT_TRUE(got->metadata().at("open").bool_value());
  EXPECT_EQ(got->metadata().at("tags").string_list_value().values(0), "med");
  EXPECT_EQ(got->chunk_count(), 2);

  auto chunks = store_->GetChunks("acme", "papers", "doc-1");
  ASSERT_TRUE(chunks.ok());
  ASSERT_EQ(chunks->size(), 2u);
  EXPECT_EQ((*chunks)[1].id(), "doc-1#1");
  EXPECT_EQ((*chunks)[1].ordinal(), 1);
  EXPECT_EQ((*chunks)[1].document_id(), "doc-1");
  EXPECT_EQ((*chunks)[1].section_path(0), "Intro");
  EXPECT_EQ((*chunks)[1].document_version(), 1);
}

TEST_F(DocumentStoreTest, MissingCollectionIsNotFoundUnlessCreated) {
  auto put = store_->PutDocument("t", MakeDoc("nope", "a", "x"), /*create_collection=*/false);
  EXPECT_EQ(put.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetDocument("t", "nope", "a").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(DocumentStoreTest, RePutReplacesAtomicallyWithNewVersion) {
  ASSERT_TRUE(store_->PutDocument("t", MakeDoc("c", "a", "first", 3), true).ok());
  auto second = store_->PutDocument("t", MakeDoc("c", "a", "second", 1), true);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->version, 2);
  auto got = store_->GetDocument("t", "c", "a");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->text(), "second");
  auto chunks = store_->GetChunks("t", "c", "a");
  ASSERT_TRUE(chunks.ok());
  ASSERT_EQ(chunks->size(), 1u);  // the old version's three chunks are gone
  EXPECT_EQ((*chunks)[0].document_version(), 2);
}

TEST_F(DocumentStoreTest, IdenticalContentIsDeduplicated) {
  ASSERT_TRUE(store_->PutDocument("t", MakeDoc("c", "a", "same"), true).ok());
  auto again = store_->PutDocument("t", MakeDoc("c", "a", "same"), true);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->unchanged);
  EXPECT_EQ(again->version, 1);
  auto log = store_->ReadLog(0, 100);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->size(), 1u);  // no log entry for the no-op
}

TEST_F(DocumentStoreTest, TenantsAreIsolated) {
  ASSERT_TRUE(store_->PutDocument("alice", MakeDoc("c", "a", "secret"), true).ok());
  EXPECT_EQ(store_->GetDocument("bob", "c", "a").status().code(), absl::StatusCode::kNotFound);
  auto bob_collections = store_->ListCollections("bob");
  ASSERT_TRUE(bob_collections.ok());
  EXPECT_TRUE(bob_collections->empty());
}

TEST_F(DocumentStoreTest, DeleteRemovesDocumentAndLogsIt) {
  ASSERT_TRUE(store_->PutDocument("t", MakeDoc("c", "a", "x"), true).ok());
  auto deleted = store_->DeleteDocument("t", "c", "a");
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(*deleted);
  EXPECT_EQ(store_->GetDocument("t", "c", "a").status().code(), absl::StatusCode::kNotFound);
  auto again = store_->DeleteDocument("t", "c", "a");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  auto log = store_->ReadLog(0, 100);
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(log->size(), 2u);
  EXPECT_EQ((*log)[0].op, LogEntry::Op::kPut);
  EXPECT_EQ((*log)[1].op, LogEntry::Op::kDelete);
  EXPECT_EQ((*log)[1].document_id, "a");
  auto head = store_->LogHead();
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(*head, (*log)[1].position);
}

TEST_F(DocumentStoreTest, CollectionsCreateListCountDelete) {
  Collection config;
  config.set_name("manuals");
  config.set_description("product manuals");
  config.mutable_chunking()->set_max_tokens(128);
  auto created = store_->CreateCollection("t", config, false);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->description(), "product manuals");
  EXPECT_EQ(created->chunking().max_tokens(), 128);
  EXPECT_EQ(store_->CreateCollection("t", config, false).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(store_->CreateCollection("t", config, true).ok());

  ASSERT_TRUE(store_->PutDocument("t", MakeDoc("manuals", "a", "x", 2), false).ok());
  ASSERT_TRUE(store_->PutDocument("t", MakeDoc("manuals", "b", "y", 3), false).ok());
  auto got = store_->GetCollection("t", "manuals");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->document_count(), 2);
  EXPECT_EQ(got->chunk_count(), 5);

  auto deleted = store_->DeleteCollection("t", "manuals");
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 2);
  EXPECT_EQ(store_->GetDocument("t", "manuals", "a").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(DocumentStoreTest, BadCollectionNameIsInvalid) {
  Collection config;
  config.set_name("no spaces/allowed");
  EXPECT_EQ(store_->CreateCollection("t", config, false).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(DocumentStoreTest, BatchIsIdempotentByKey) {
  std::vector<PreparedDocument> docs = {MakeDoc("c", "a", "one"), MakeDoc("c", "b", "two")};
  auto first = store_->PutBatch("t", "c", docs, true, "batch-1");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->succeeded(), 2);
  EXPECT_FALSE(first->replayed());

  // The retry carries different content: it must not be written.
  std::vector<PreparedDocument> retry = {MakeDoc("c", "a", "changed")};
  auto replay = store_->PutBatch("t", "c", retry, true, "batch-1");
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE(replay->replayed());
  EXPECT_EQ(replay->succeeded(), 2);
  EXPECT_EQ(store_->GetDocument("t", "c", "a")->text(), "one");
}

TEST_F(DocumentStoreTest, ListDocumentsPaginates) {
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(store_->PutDocument("t", MakeDoc("c", "doc" + std::to_string(100 + i), "x" +
                                                   std::to_string(i)), true).ok());
  }
  std::string token;
  int seen = 0;
  std::string last;
  do {
    auto page = store_->ListDocuments("t", "c", 10, token);
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_EQ(page->total_size, 25);
    for (const auto& doc : page->documents) {
      EXPECT_GT(doc.id(), last);
      EXPECT_TRUE(doc.text().empty());
      last = doc.id();
      ++seen;
    }
    token = page->next_page_token;
  } while (!token.empty());
  EXPECT_EQ(seen, 25);
  EXPECT_EQ(store_->ListDocuments("t", "c", 10, "!!!").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(DocumentStoreTest, DataSurvivesReopen) {
  ASSERT_TRUE(store_->PutDocument("t", MakeDoc("c", "a", "durable"), true).ok());
  store_.reset();
  auto reopened = DocumentStore::Open(path_);
  ASSERT_TRUE(reopened.ok());
  auto got = (*reopened)->GetDocument("t", "c", "a");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->text(), "durable");
}

TEST(DocumentContentHashTest, IgnoresMetadataOrderButNotValues) {
  Document a;
  a.set_text("t");
  (*a.mutable_metadata())["x"].set_int_value(1);
  (*a.mutable_metadata())["y"].set_string_value("v");
  Document b;
  b.set_text("t");
  (*b.mutable_metadata())["y"].set_string_value("v");
  (*b.mutable_metadata())["x"].set_int_value(1);
  EXPECT_EQ(DocumentContentHash(a), DocumentContentHash(b));
  (*b.mutable_metadata())["x"].set_int_value(2);
  EXPECT_NE(DocumentContentHash(a), DocumentContentHash(b));
}

}  // namespace
}  // namespace tessera::ingest

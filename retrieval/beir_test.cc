#include "retrieval/beir.h"

#include <cstdlib>
#include <fstream>
#include <optional>

#include "absl/container/flat_hash_set.h"
#include "common/shared_data.h"
#include "gtest/gtest.h"

namespace tessera::retrieval {
namespace {

std::string WriteTemp(const std::string& name, const std::string& contents) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << contents;
  return path;
}

TEST(BeirTest, LoadsCorpus) {
  const std::string path = WriteTemp(
      "corpus.jsonl",
      "{\"_id\": \"d1\", \"title\": \"Title\", \"text\": \"Body \\u00e9\", \"metadata\": "
      "{\"year\": 2001}}\n"
      "\n"
      "{\"_id\": 42, \"text\": \"no title\"}\r\n");
  auto corpus = LoadBeirCorpus(path);
  ASSERT_TRUE(corpus.ok()) << corpus.status();
  ASSERT_EQ(corpus->size(), 2u);
  EXPECT_EQ((*corpus)[0].id, "d1");
  EXPECT_EQ((*corpus)[0].title, "Title");
  EXPECT_EQ((*corpus)[0].text, "Body \xC3\xA9");
  EXPECT_EQ((*corpus)[0].metadata_json, "{\"year\":2001}");
  EXPECT_EQ((*corpus)[1].id, "42");
  EXPECT_EQ((*corpus)[1].title, "");
  EXPECT_EQ((*corpus)[1].text, "no title");
}

TEST(BeirTest, CorpusErrorsNameTheLine) {
  auto bad_json = LoadBeirCorpus(WriteTemp("bad.jsonl", "{\"_id\": \"a\", \"text\": \"x\"}\n{oops\n"));
  ASSERT_EQ(bad_json.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad_json.status().message().find(":2:"), std::string::npos) << bad_json.status();
  EXPECT_EQ(LoadBeirCorpus(WriteTemp("noid.jsonl", "{\"text\": \"x\"}\n")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadBeirCorpus(WriteTemp("notext.jsonl", "{\"_id\": \"a\"}\n")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadBeirCorpus(WriteTemp("array.jsonl", "[1, 2]\n")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadBeirCorpus("/nonexistent/corpus.jsonl").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(BeirTest, LoadsQueries) {
  auto queries = LoadBeirQueries(WriteTemp(
      "queries.jsonl", "{\"_id\": \"0\", \"text\": \"first?\", \"metadata\": {}}\n"
                       "{\"_id\": \"7\", \"text\": \"second\"}\n"));
  ASSERT_TRUE(queries.ok()) << queries.status();
  ASSERT_EQ(queries->size(), 2u);
  EXPECT_EQ((*queries)[1].id, "7");
  EXPECT_EQ((*queries)[0].text, "first?");
}

TEST(BeirTest, LoadsQrelsSkippingHeader) {
  auto qrels = LoadBeirQrels(
      WriteTemp("qrels.tsv", "query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\t2\nq2\td1\t0\n"));
  ASSERT_TRUE(qrels.ok()) << qrels.status();
  ASSERT_EQ(qrels->size(), 2u);
  EXPECT_EQ(qrels->at("q1").at("d2"), 2);
  EXPECT_EQ(qrels->at("q2").at("d1"), 0);

  auto bad = LoadBeirQrels(WriteTemp("bad.tsv", "query-id\tcorpus-id\tscore\nq1\td1\n"));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(BeirTest, LoadsSharedSciFact) {
  const auto corpus_path = FindSharedFile("data/scifact/corpus.jsonl");
  const auto queries_path = FindSharedFile("data/scifact/queries.train.jsonl");
  const auto qrels_path = FindSharedFile("data/scifact/qrels/train.tsv");
  if (!corpus_path || !queries_path || !qrels_path) {
    GTEST_SKIP() << "SciFact not found under the shared directory (data/scifact); skipping";
  }
  auto corpus = LoadBeirCorpus(*corpus_path);
  auto queries = LoadBeirQueries(*queries_path);
  auto qrels = LoadBeirQrels(*qrels_path);
  ASSERT_TRUE(corpus.ok()) << corpus.status();
  ASSERT_TRUE(queries.ok()) << queries.status();
  ASSERT_TRUE(qrels.ok()) << qrels.status();
  EXPECT_EQ(corpus->size(), 5183u);
  EXPECT_EQ(queries->size(), 809u);
  absl::flat_hash_set<std::string> doc_ids;
  for (const BeirDocument& document : *corpus) {
    EXPECT_FALSE(document.text.empty()) << document.id;
    doc_ids.insert(document.id);
  }
  EXPECT_EQ(doc_ids.size(), corpus->size());
  absl::flat_hash_set<std::string> query_ids;
  for (const BeirQuery& query : *queries) query_ids.insert(query.id);
  size_t judgments = 0;
  for (const auto& [query, docs] : *qrels) {
    EXPECT_TRUE(query_ids.contains(query)) << query;
    for (const auto& [doc, score] : docs) {
      EXPECT_TRUE(doc_ids.contains(doc)) << doc;
      ++judgments;
    }
  }
  EXPECT_EQ(judgments, 919u);
}

}  // namespace
}  // namespace tessera::retrieval

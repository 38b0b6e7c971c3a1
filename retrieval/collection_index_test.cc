#include "retrieval/collection_index.h"

#include <map>
#include <random>
#include <string>

#include "gtest/gtest.h"

namespace tessera::retrieval {
namespace {

using common::v1::Chunk;
using common::v1::Document;
using retrieval::v1::SearchRequest;

// Supplies precomputed vectors: each text gets the vector the test assigned to a
// keyword it contains, else a fixed pseudo-random vector derived from the text.
class TableEmbedder : public Embedder {
 public:
  std::string name() const override { return "table"; }
  int dimension() const override { return 8; }
  absl::StatusOr<std::vector<std::vector<float>>> Embed(
      absl::Span<const std::string> texts) const override {
    std::vector<std::vector<float>> out;
    for (const std::string& text : texts) {
      std::vector<float> vector(8, 0.0f);
      bool assigned = false;
      for (const auto& [keyword, axis] : axes_) {
        if (text.find(keyword) != std::string::npos) {
          vector[axis] = 1.0f;
          assigned = true;
          break;
        }
      }
      if (!assigned) {
        std::mt19937 random(std::hash<std::string>()(text));
        std::normal_distribution<float> normal;
        for (float& x : vector) x = normal(random);
      }
      out.push_back(vector);
    }
    return out;
  }
  std::map<std::string, int> axes_ = {{"aspirin", 0}, {"vitamin", 1}, {"insulin", 2}};
};

// Scores a passage by how often the query's first word occurs in it.
class CountingReranker : public Reranker {
 public:
  std::string name() const override { return "counting"; }
  absl::StatusOr<std::vector<float>> Score(absl::string_view query,
                                           absl::Span<const std::string> passages) const override {
    std::string word(query.substr(0, query.find(' ')));
    std::vector<float> scores;
    for (const std::string& passage : passages) {
      float count = 0;
      for (size_t at = passage.find(word); at != std::string::npos;
           at = passage.find(word, at + 1)) {
        ++count;
      }
      scores.push_back(count);
    }
    return scores;
  }
};

Document Doc(const std::string& id, const std::string& title, int year) {
  Document doc;
  doc.set_id(id);
  doc.set_title(title);
  doc.set_version(1);
  doc.set_source_uri("file://" + id);
  (*doc.mutable_metadata())["year"].set_int_value(year);
  return doc;
}

std::vector<Chunk> Chunks(const std::string& id, std::vector<std::string> texts) {
  std::vector<Chunk> chunks;
  int64_t at = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    Chunk chunk;
    chunk.set_id(id + "#" + std::to_string(i));
    chunk.set_document_id(id);
    chunk.set_ordinal(static_cast<int>(i));
    chunk.set_text(texts[i]);
    chunk.set_char_start(at);
    at += static_cast<int64_t>(texts[i].size());
    chunk.set_char_end(at);
    chunk.add_section_path("Results");
    chunk.set_page(static_cast<int>(i) + 1);
    chunks.push_back(chunk);
  }
  return chunks;
}

class CollectionIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto index = CollectionIndex::Create({}, &embedder_, &reranker_);
    ASSERT_TRUE(index.ok()) << index.status();
    index_ = std::move(*index);
    Put("d1", "Aspirin trial", 2010, {"aspirin lowers fever in adults", "aspirin and bleeding"});
    Put("d2", "Vitamin study", 2015, {"vitamin D supplements and bone density"});
    Put("d3", "Insulin therapy", 2020, {"insulin dosing for type 1 diabetes"});
  }
  void Put(const std::string& id, const std::string& title, int year,
           std::vector<std::string> texts) {
    ASSERT_TRUE(index_->ReplaceDocument(Doc(id, title, year), Chunks(id, texts)).ok());
  }
  SearchRequest Request(const std::string& query, retrieval::v1::SearchMode mode) {
    SearchRequest request;
    request.set_query(query);
    request.set_mode(mode);
    request.set_top_k(10);
    return request;
  }

  TableEmbedder embedder_;
  CountingReranker reranker_;
  std::unique_ptr<CollectionIndex> index_;
};

TEST_F(CollectionIndexTest, Bm25FindsTheRightChunkWithProvenance) {
  auto request = Request("bone density", retrieval::v1::BM25);
  request.set_include_text(true);
  auto response = index_->Search(request);
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_GE(response->hits_size(), 1);
  const auto& hit = response->hits(0);
  EXPECT_EQ(hit.chunk_id(), "d2#0");
  EXPECT_EQ(hit.document_id(), "d2");
  EXPECT_EQ(hit.text(), "vitamin D supplements and bone density");
  EXPECT_EQ(hit.scores().bm25_rank(), 1);
  EXPECT_GT(hit.scores().bm25_score(), 0);
  EXPECT_EQ(hit.scores().dense_rank(), 0);
  EXPECT_EQ(hit.provenance().title(), "Vitamin study");
  EXPECT_EQ(hit.provenance().source_uri(), "file://d2");
  EXPECT_EQ(hit.provenance().section_path(0), "Results");
  EXPECT_EQ(hit.provenance().page(), 1);
  EXPECT_EQ(hit.metadata().at("year").int_value(), 2015);
}

TEST_F(CollectionIndexTest, DenseAndHybridCarryBothBreakdowns) {
  auto dense = index_->Search(Request("insulin", retrieval::v1::DENSE));
  ASSERT_TRUE(dense.ok()) << dense.status();
  EXPECT_EQ(dense->hits(0).chunk_id(), "d3#0");
  EXPECT_NEAR(dense->hits(0).scores().dense_score(), 1.0f, 1e-5);

  auto hybrid = index_->Search(Request("aspirin fever", retrieval::v1::HYBRID));
  ASSERT_TRUE(hybrid.ok()) << hybrid.status();
  const auto& top = hybrid->hits(0);
  EXPECT_EQ(top.chunk_id(), "d1#0");
  EXPECT_EQ(top.scores().bm25_rank(), 1);
  EXPECT_GE(top.scores().dense_rank(), 1);
  EXPECT_NEAR(top.scores().fused_score(),
              1.0f / (60 + top.scores().bm25_rank()) + 1.0f / (60 + top.scores().dense_rank()),
              1e-6);
}

TEST_F(CollectionIndexTest, QueryVectorIsUsedAsGiven) {
  auto request = Request("", retrieval::v1::DENSE);
  for (float x : {0.f, 1.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f}) request.add_query_vector(x);
  auto response = index_->Search(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->hits(0).document_id(), "d2");
}

TEST_F(CollectionIndexTest, ReplaceAndRemoveDocuments) {
  Put("d2", "Vitamin study", 2015, {"now about magnesium only"});
  auto old_terms = index_->Search(Request("bone density", retrieval::v1::BM25));
  ASSERT_TRUE(old_terms.ok());
  for (const auto& hit : old_terms->hits()) EXPECT_NE(hit.document_id(), "d2");
  ASSERT_TRUE(index_->RemoveDocument("d1").ok());
  ASSERT_TRUE(index_->RemoveDocument("unknown").ok());
  auto gone = index_->Search(Request("aspirin", retrieval::v1::HYBRID));
  ASSERT_TRUE(gone.ok());
  for (const auto& hit : gone->hits()) EXPECT_NE(hit.document_id(), "d1");
  CollectionStats stats = index_->Stats();
  EXPECT_EQ(stats.documents, 2);
  EXPECT_EQ(stats.chunks, 2);
  EXPECT_EQ(stats.dense_vectors, 2);
}

TEST_F(CollectionIndexTest, RerankReordersByCrossEncoderScore) {
  auto request = Request("aspirin", retrieval::v1::BM25);
  Put("d4", "Aspirin review", 2021, {"aspirin aspirin aspirin: a review of aspirin"});
  request.mutable_rerank()->set_enabled(true);
  auto response = index_->Search(request);
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_GE(response->hits_size(), 2);
  EXPECT_EQ(response->hits(0).chunk_id(), "d4#0");
  EXPECT_FLOAT_EQ(response->hits(0).scores().rerank_score(), 4.0f);
  EXPECT_FLOAT_EQ(response->hits(0).score(), 4.0f);
  for (int i = 1; i < response->hits_size(); ++i) {
    EXPECT_GE(response->hits(i - 1).scores().rerank_score(),
              response->hits(i).scores().rerank_score());
  }
}

TEST_F(CollectionIndexTest, SelectiveFiltersStillFillTopK) {
  // 300 documents, 15 of them from 2023; every one mentions "study".
  for (int i = 0; i < 300; ++i) {
    Put("f" + std::to_string(i), "Study " + std::to_string(i), i % 20 == 0 ? 2023 : 1999,
        {"a study of outcome " + std::to_string(i)});
  }
  for (auto mode : {retrieval::v1::BM25, retrieval::v1::DENSE, retrieval::v1::HYBRID}) {
    auto request = Request("study outcome", mode);
    auto* condition = request.mutable_filter()->mutable_condition();
    condition->set_field("year");
    condition->set_op(common::v1::FieldCondition::EQ);
    condition->mutable_value()->set_int_value(2023);
    auto response = index_->Search(request);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->hits_size(), 10) << retrieval::v1::SearchMode_Name(mode);
    EXPECT_EQ(response->filter_matches(), 15);
    for (const auto& hit : response->hits()) {
      EXPECT_EQ(hit.metadata().at("year").int_value(), 2023);
    }
  }
}

TEST_F(CollectionIndexTest, BadRequestsGetClearErrors) {
  auto too_many = Request("x", retrieval::v1::BM25);
  too_many.set_top_k(5000);
  EXPECT_EQ(index_->Search(too_many).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(index_->Search(Request("", retrieval::v1::BM25)).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto bad_filter = Request("x", retrieval::v1::BM25);
  bad_filter.mutable_filter()->mutable_condition()->set_field("year");
  EXPECT_EQ(index_->Search(bad_filter).status().code(), absl::StatusCode::kInvalidArgument);
  auto bad_vector = Request("", retrieval::v1::DENSE);
  bad_vector.add_query_vector(1.0f);  // wrong dimension
  EXPECT_EQ(index_->Search(bad_vector).status().code(), absl::StatusCode::kInvalidArgument);

  auto plain = CollectionIndex::Create({}, nullptr, nullptr);
  ASSERT_TRUE(plain.ok());
  auto dense = (*plain)->Search(Request("x", retrieval::v1::DENSE));
  EXPECT_EQ(dense.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(dense.status().message().find("embedding model"), std::string::npos);
  auto rerank = Request("x", retrieval::v1::BM25);
  rerank.mutable_rerank()->set_enabled(true);
  EXPECT_EQ((*plain)->Search(rerank).status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace tessera::retrieval

#include "retrieval/dense/faiss_flat_vector_index.h"

#include <filesystem>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "retrieval/dense/index_manifest.h"
#include "retrieval/dense/test_vectors.h"

namespace tessera::dense {
namespace {

std::string FreshDir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/flat_test_" + name;
  std::filesystem::remove_all(dir);
  return dir;
}

std::unique_ptr<FaissFlatVectorIndex> MakeIndex(int dimension, Metric metric) {
  absl::StatusOr<std::unique_ptr<FaissFlatVectorIndex>> index =
      FaissFlatVectorIndex::Create(dimension, metric);
  EXPECT_TRUE(index.ok()) << index.status();
  return *std::move(index);
}

// Brute force in the test itself, independent of FAISS.
std::vector<SearchHit> ReferenceSearch(const std::vector<float>& data, size_t count,
                                       int dimension, absl::Span<const float> query,
                                       Metric metric, size_t k) {
  std::vector<SearchHit> hits;
  for (size_t i = 0; i < count; ++i) {
    double score = 0;
    for (int j = 0; j < dimension; ++j) {
      const double a = Row(data, i, dimension)[j];
      score += metric == Metric::kL2 ? -(a - query[j]) * (a - query[j]) : a * query[j];
    }
    hits.push_back({i * 10, static_cast<float>(score)});
  }
  SortAndTruncateHits(k, &hits);
  return hits;
}

class FaissFlatMetricTest : public ::testing::TestWithParam<Metric> {};

TEST_P(FaissFlatMetricTest, MatchesBruteForce) {
  constexpr int kDimension = 20;
  constexpr size_t kCount = 400;
  const Metric metric = GetParam();
  // Unit vectors so that kCosine's normalisation is the identity.
  const std::vector<float> data = RandomUnitVectors(kCount, kDimension, 11);
  const std::vector<float> queries = RandomUnitVectors(20, kDimension, 12);
  std::unique_ptr<FaissFlatVectorIndex> index = MakeIndex(kDimension, metric);
  std::vector<VectorId> ids;
  for (size_t i = 0; i < kCount; ++i) ids.push_back(i * 10);  // Sparse ids.
  ASSERT_TRUE(index->AddBatch(ids, data).ok());
  EXPECT_EQ(index->size(), kCount);
  for (size_t q = 0; q < 20; ++q) {
    absl::StatusOr<std::vector<SearchHit>> hits = index->Search(Row(queries, q, kDimension), 10);
    ASSERT_TRUE(hits.ok());
    const std::vector<SearchHit> expected =
        ReferenceSearch(data, kCount, kDimension, Row(queries, q, kDimension), metric, 10);
    ASSERT_EQ(hits->size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ((*hits)[i].id, expected[i].id);
      EXPECT_NEAR((*hits)[i].score, expected[i].score, 1e-4);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Metrics, FaissFlatMetricTest,
                         ::testing::Values(Metric::kInnerProduct, Metric::kCosine, Metric::kL2));

TEST(FaissFlatVectorIndexTest, UpsertAndDeleteAreImmediate) {
  std::unique_ptr<FaissFlatVectorIndex> index = MakeIndex(4, Metric::kL2);
  ASSERT_TRUE(index->Add(1, std::vector<float>{0, 0, 0, 0}).ok());
  ASSERT_TRUE(index->Add(2, std::vector<float>{5, 5, 5, 5}).ok());
  ASSERT_TRUE(index->Add(1, std::vector<float>{9, 9, 9, 9}).ok());  // Replaces.
  EXPECT_EQ(index->size(), 2u);
  absl::StatusOr<std::vector<SearchHit>> hits = index->Search(std::vector<float>{0, 0, 0, 0}, 5);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 2u);
  EXPECT_EQ((*hits)[0].id, 2u);
  EXPECT_FLOAT_EQ((*hits)[0].score, -100.0f);
  EXPECT_FLOAT_EQ((*hits)[1].score, -324.0f);
  ASSERT_TRUE(index->MarkDeleted(2).ok());
  EXPECT_EQ(index->MarkDeleted(2).code(), absl::StatusCode::kNotFound);
  hits = index->Search(std::vector<float>{0, 0, 0, 0}, 5);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].id, 1u);
}

TEST(FaissFlatVectorIndexTest, ReSignedTruncatedFileIsDataLoss) {
  constexpr int kDimension = 8;
  std::unique_ptr<FaissFlatVectorIndex> index = MakeIndex(kDimension, Metric::kCosine);
  const std::vector<float> data = RandomVectors(100, kDimension, 13);
  for (size_t i = 0; i < 100; ++i) ASSERT_TRUE(index->Add(i, Row(data, i, kDimension)).ok());
  const std::string dir = FreshDir("truncated");
  ASSERT_TRUE(index->Save(dir).ok());
  absl::StatusOr<IndexManifest> manifest = ReadManifest(dir);
  ASSERT_TRUE(manifest.ok());
  // Past the checksum, FAISS's own reader must fail cleanly.
  std::filesystem::resize_file(dir + "/flat.faiss", 1000);
  ASSERT_TRUE(WriteManifest(dir, *manifest).ok());
  std::unique_ptr<FaissFlatVectorIndex> fresh = MakeIndex(kDimension, Metric::kCosine);
  EXPECT_EQ(fresh->Load(dir).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(fresh->size(), 0u);
}

}  // namespace
}  // namespace tessera::dense

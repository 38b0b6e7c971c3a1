#include "retrieval/dense/faiss_ivfpq_vector_index.h"

#include <filesystem>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "retrieval/dense/faiss_flat_vector_index.h"
#include "retrieval/dense/index_manifest.h"
#include "retrieval/dense/test_vectors.h"

namespace tessera::dense {
namespace {

constexpr int kDimension = 32;

std::string FreshDir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/ivfpq_test_" + name;
  std::filesystem::remove_all(dir);
  return dir;
}

IvfPqParams SmallParams() {
  IvfPqParams params;
  params.nlist = 16;
  params.m = 8;
  params.nbits = 6;
  params.nprobe = 4;
  params.train_size = 1000;
  return params;
}

std::unique_ptr<FaissIvfPqVectorIndex> MakeIndex() {
  absl::StatusOr<std::unique_ptr<FaissIvfPqVectorIndex>> index =
      FaissIvfPqVectorIndex::Create(kDimension, Metric::kCosine, SmallParams());
  EXPECT_TRUE(index.ok()) << index.status();
  return *std::move(index);
}

TEST(FaissIvfPqVectorIndexTest, DefaultTrainSizeFollowsFaissMinimum) {
  IvfPqParams params;
  params.nlist = 100;
  params.nbits = 8;
  absl::StatusOr<std::unique_ptr<FaissIvfPqVectorIndex>> index =
      FaissIvfPqVectorIndex::Create(kDimension, Metric::kCosine, params);
  ASSERT_TRUE(index.ok());
  EXPECT_EQ((*index)->train_size(), 39u * 256u);
}

TEST(FaissIvfPqVectorIndexTest, BuffersExactlyUntilTrainedThenIndexes) {
  const std::vector<float> data = RandomVectors(2000, kDimension, 21);
  std::unique_ptr<FaissIvfPqVectorIndex> index = MakeIndex();
  absl::StatusOr<std::unique_ptr<FaissFlatVectorIndex>> exact =
      FaissFlatVectorIndex::Create(kDimension, Metric::kCosine);
  ASSERT_TRUE(exact.ok());
  for (size_t i = 0; i < 999; ++i) {
    ASSERT_TRUE(index->Add(i, Row(data, i, kDimension)).ok());
    ASSERT_TRUE((*exact)->Add(i, Row(data, i, kDimension)).ok());
  }
  EXPECT_FALSE(index->trained());
  // Untrained: the buffer is searched exactly.
  const std::vector<float> query = RandomVectors(1, kDimension, 22);
  absl::StatusOr<std::vector<SearchHit>> buffered = index->Search(query, 10);
  absl::StatusOr<std::vector<SearchHit>> truth = (*exact)->Search(query, 10);
  ASSERT_TRUE(buffered.ok() && truth.ok());
  ASSERT_EQ(buffered->size(), 10u);
  for (size_t i = 0; i < 10; ++i) {
    EXPECT_EQ((*buffered)[i].id, (*truth)[i].id);
    EXPECT_NEAR((*buffered)[i].score, (*truth)[i].score, 1e-5);
  }
  for (size_t i = 999; i < 2000; ++i) ASSERT_TRUE(index->Add(i, Row(data, i, kDimension)).ok());
  EXPECT_TRUE(index->trained());
  EXPECT_EQ(index->size(), 2000u);
  // PQ is lossy, but an indexed vector should find itself near the top.
  size_t self_found = 0;
  for (size_t i = 0; i < 2000; i += 20) {
    absl::StatusOr<std::vector<SearchHit>> hits = index->Search(Row(data, i, kDimension), 10);
    ASSERT_TRUE(hits.ok());
    for (const SearchHit& hit : *hits) self_found += hit.id == i;
  }
  EXPECT_GE(self_found, 90u);
}

TEST(FaissIvfPqVectorIndexTest, DeletesAndUpsertsAfterTraining) {
  const std::vector<float> data = RandomVectors(1500, kDimension, 23);
  std::unique_ptr<FaissIvfPqVectorIndex> index = MakeIndex();
  std::vector<VectorId> ids;
  for (size_t i = 0; i < 1500; ++i) ids.push_back(i);
  ASSERT_TRUE(index->AddBatch(ids, data).ok());
  ASSERT_TRUE(index->trained());
  ASSERT_TRUE(index->MarkDeleted(5).ok());
  EXPECT_EQ(index->MarkDeleted(5).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(index->size(), 1499u);
  SearchOptions everything;
  everything.nprobe = 16;
  absl::StatusOr<std::vector<SearchHit>> hits = index->Search(Row(data, 5, kDimension), 50, everything);
  ASSERT_TRUE(hits.ok());
  for (const SearchHit& hit : *hits) EXPECT_NE(hit.id, 5u);
  // Upsert: id 7 takes id 900's vector; both now match that query.
  ASSERT_TRUE(index->Add(7, Row(data, 900, kDimension)).ok());
  EXPECT_EQ(index->size(), 1499u);
  hits = index->Search(Row(data, 900, kDimension), 2, everything);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 2u);
  EXPECT_EQ(std::min((*hits)[0].id, (*hits)[1].id), 7u);
  EXPECT_EQ(std::max((*hits)[0].id, (*hits)[1].id), 900u);
}

TEST(FaissIvfPqVectorIndexTest, SaveLoadRoundTripsInBothStates) {
  const std::vector<float> data = RandomVectors(1200, kDimension, 24);
  const std::vector<float> queries = RandomVectors(10, kDimension, 25);
  std::unique_ptr<FaissIvfPqVectorIndex> index = MakeIndex();
  for (size_t stage = 0; stage < 2; ++stage) {
    const size_t count = stage == 0 ? 500 : 1200;
    for (size_t i = index->size(); i < count; ++i) {
      ASSERT_TRUE(index->Add(i, Row(data, i, kDimension)).ok());
    }
    ASSERT_EQ(index->trained(), stage == 1);
    const std::string dir = FreshDir("stage" + std::to_string(stage));
    ASSERT_TRUE(index->Save(dir).ok());
    std::unique_ptr<FaissIvfPqVectorIndex> loaded = MakeIndex();
    ASSERT_TRUE(loaded->Load(dir).ok());
    EXPECT_EQ(loaded->trained(), index->trained());
    EXPECT_EQ(loaded->size(), index->size());
    for (size_t q = 0; q < 10; ++q) {
      absl::StatusOr<std::vector<SearchHit>> a = index->Search(Row(queries, q, kDimension), 10);
      absl::StatusOr<std::vector<SearchHit>> b = loaded->Search(Row(queries, q, kDimension), 10);
      ASSERT_TRUE(a.ok() && b.ok());
      EXPECT_EQ(*a, *b);
    }
    // Deletes still work on the loaded index (direct map restored).
    ASSERT_TRUE(loaded->MarkDeleted(3).ok());
    EXPECT_EQ(loaded->size(), index->size() - 1);
  }
}

TEST(FaissIvfPqVectorIndexTest, ReSignedTruncatedFilesAreDataLoss) {
  const std::vector<float> data = RandomVectors(1100, kDimension, 26);
  for (size_t count : {size_t{300}, size_t{1100}}) {
    std::unique_ptr<FaissIvfPqVectorIndex> index = MakeIndex();
    for (size_t i = 0; i < count; ++i) ASSERT_TRUE(index->Add(i, Row(data, i, kDimension)).ok());
    const std::string dir = FreshDir("truncated" + std::to_string(count));
    ASSERT_TRUE(index->Save(dir).ok());
    absl::StatusOr<IndexManifest> manifest = ReadManifest(dir);
    ASSERT_TRUE(manifest.ok());
    const std::string file = dir + "/" + manifest->files[0];
    std::filesystem::resize_file(file, std::filesystem::file_size(file) - 100);
    ASSERT_TRUE(WriteManifest(dir, *manifest).ok());
    std::unique_ptr<FaissIvfPqVectorIndex> fresh = MakeIndex();
    EXPECT_EQ(fresh->Load(dir).code(), absl::StatusCode::kDataLoss) << count;
    EXPECT_EQ(fresh->size(), 0u);
  }
}

}  // namespace
}  // namespace tessera::dense

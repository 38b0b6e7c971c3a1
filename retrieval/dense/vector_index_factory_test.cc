#include "retrieval/dense/vector_index_factory.h"

#include <filesystem>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "retrieval/dense/test_vectors.h"

namespace tessera::dense {
namespace {

constexpr int kDimension = 32;
constexpr size_t kCount = 2500;

VectorIndexConfig ConfigFor(const std::string& backend) {
  VectorIndexConfig config;
  config.backend = backend;
  config.dimension = kDimension;
  config.metric = Metric::kCosine;
  config.ivfpq.nlist = 32;
  config.ivfpq.m = 8;
  config.ivfpq.nbits = 6;
  config.ivfpq.nprobe = 1;  // Small on purpose: filtered searches must widen.
  config.ivfpq.train_size = 1000;
  return config;
}

// Every backend must honour the VectorIndex contract the same way.
class VectorIndexContractTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<VectorIndex>> index = CreateVectorIndex(ConfigFor(GetParam()));
    ASSERT_TRUE(index.ok()) << index.status();
    index_ = *std::move(index);
    data_ = RandomVectors(kCount, kDimension, 31);
    queries_ = RandomVectors(30, kDimension, 32);
    std::vector<VectorId> ids;
    for (size_t i = 0; i < kCount; ++i) ids.push_back(i);
    ASSERT_TRUE(index_->AddBatch(ids, data_).ok());
  }
  std::string FreshDir(const std::string& name) const {
    const std::string dir = ::testing::TempDir() + "/contract_" + GetParam() + "_" + name;
    std::filesystem::remove_all(dir);
    return dir;
  }
  std::vector<SearchHit> MustSearch(const VectorIndex& index, size_t q, size_t k,
                                    const IdFilter* filter = nullptr) const {
    SearchOptions options;
    options.filter = filter;
    absl::StatusOr<std::vector<SearchHit>> hits =
        index.Search(Row(queries_, q, kDimension), k, options);
    EXPECT_TRUE(hits.ok()) << hits.status();
    return hits.ok() ? *hits : std::vector<SearchHit>();
  }

  std::unique_ptr<VectorIndex> index_;
  std::vector<float> data_;
  std::vector<float> queries_;
};

TEST_P(VectorIndexContractTest, ReportsItsShape) {
  EXPECT_EQ(index_->backend(), GetParam());
  EXPECT_EQ(index_->dimension(), kDimension);
  EXPECT_EQ(index_->metric(), Metric::kCosine);
  EXPECT_EQ(index_->size(), kCount);
}

TEST_P(VectorIndexContractTest, SelectiveFilterStillFillsTopK) {
  // 2% of ids pass.
  PredicateIdFilter two_percent([](VectorId id) { return id % 50 == 0; });
  BitsetIdFilter bitset(kCount);
  for (VectorId id = 0; id < kCount; id += 50) bitset.Set(id);
  for (size_t q = 0; q < 30; ++q) {
    for (const IdFilter* filter : {static_cast<const IdFilter*>(&two_percent),
                                   static_cast<const IdFilter*>(&bitset)}) {
      const std::vector<SearchHit> hits = MustSearch(*index_, q, 10, filter);
      ASSERT_EQ(hits.size(), 10u) << "query " << q;
      for (const SearchHit& hit : hits) EXPECT_EQ(hit.id % 50, 0u);
    }
  }
  // Fewer passing ids than k: all of them, and nothing else.
  IdSetFilter three({4, 1000, 2499});
  const std::vector<SearchHit> hits = MustSearch(*index_, 0, 10, &three);
  ASSERT_EQ(hits.size(), 3u);
  for (const SearchHit& hit : hits) EXPECT_TRUE(three.Contains(hit.id));
}

TEST_P(VectorIndexContractTest, DeletedIdsNeverComeBack) {
  for (VectorId id = 0; id < kCount; id += 4) ASSERT_TRUE(index_->MarkDeleted(id).ok());
  EXPECT_EQ(index_->MarkDeleted(0).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(index_->size(), kCount - kCount / 4);
  auto check = [&](const VectorIndex& index, const char* stage) {
    for (size_t q = 0; q < 30; ++q) {
      const std::vector<SearchHit> hits = MustSearch(index, q, 30);
      ASSERT_EQ(hits.size(), 30u) << stage;
      for (const SearchHit& hit : hits) ASSERT_NE(hit.id % 4, 0u) << stage;
    }
  };
  check(*index_, "after delete");
  ASSERT_TRUE(index_->Rebuild().ok());
  check(*index_, "after rebuild");
  const std::string dir = FreshDir("deletes");
  ASSERT_TRUE(index_->Save(dir).ok());
  absl::StatusOr<std::unique_ptr<VectorIndex>> loaded = LoadVectorIndex(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  check(**loaded, "after load");
}

TEST_P(VectorIndexContractTest, SaveLoadGivesIdenticalResults) {
  const std::string dir = FreshDir("round_trip");
  ASSERT_TRUE(index_->Save(dir).ok());
  absl::StatusOr<std::unique_ptr<VectorIndex>> loaded = LoadVectorIndex(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->backend(), GetParam());
  EXPECT_EQ((*loaded)->size(), kCount);
  for (size_t q = 0; q < 30; ++q) EXPECT_EQ(MustSearch(**loaded, q, 10), MustSearch(*index_, q, 10));
}

TEST_P(VectorIndexContractTest, DimensionMismatchIsInvalidArgument) {
  const std::vector<float> short_vector(kDimension - 1, 1.0f);
  EXPECT_EQ(index_->Add(kCount + 1, short_vector).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(index_->Search(short_vector, 5).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(index_->size(), kCount);
}

TEST_P(VectorIndexContractTest, CorruptOrTruncatedFilesAreErrors) {
  const std::string dir = FreshDir("corrupt");
  ASSERT_TRUE(index_->Save(dir).ok());
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().filename() == "MANIFEST.json") continue;
    std::filesystem::resize_file(entry.path(), entry.file_size() / 2);
  }
  EXPECT_EQ(LoadVectorIndex(dir).status().code(), absl::StatusCode::kDataLoss);
  absl::StatusOr<std::unique_ptr<VectorIndex>> fresh = CreateVectorIndex(ConfigFor(GetParam()));
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ((*fresh)->Load(dir).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(LoadVectorIndex(FreshDir("absent")).status().code(), absl::StatusCode::kNotFound);
}

TEST_P(VectorIndexContractTest, LoadIntoAnotherShapeIsFailedPrecondition) {
  const std::string dir = FreshDir("shape");
  ASSERT_TRUE(index_->Save(dir).ok());
  VectorIndexConfig other = ConfigFor(GetParam());
  other.dimension = 16;
  absl::StatusOr<std::unique_ptr<VectorIndex>> index = CreateVectorIndex(other);
  ASSERT_TRUE(index.ok());
  EXPECT_EQ((*index)->Load(dir).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_P(VectorIndexContractTest, EmptyIndexAndLargeK) {
  absl::StatusOr<std::unique_ptr<VectorIndex>> empty = CreateVectorIndex(ConfigFor(GetParam()));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(MustSearch(**empty, 0, 10).empty());
  ASSERT_TRUE((*empty)->Add(42, Row(data_, 0, kDimension)).ok());
  const std::vector<SearchHit> hits = MustSearch(**empty, 0, 10);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].id, 42u);
}

INSTANTIATE_TEST_SUITE_P(Backends, VectorIndexContractTest,
                         ::testing::Values("hnsw", "flat", "ivfpq"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST(CreateVectorIndexTest, RejectsBadConfig) {
  VectorIndexConfig config = ConfigFor("ivfpq");
  config.ivfpq.m = 5;
  EXPECT_EQ(CreateVectorIndex(config).status().code(), absl::StatusCode::kInvalidArgument);
  config = ConfigFor("lsh");
  EXPECT_EQ(CreateVectorIndex(config).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tessera::dense

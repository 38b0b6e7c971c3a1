#include "retrieval/dense/vector_index.h"

#include <cmath>
#include <limits>
#include <vector>

#include "gtest/gtest.h"

namespace tessera::dense {
namespace {

// Records what the base class hands to a backend.
class RecordingIndex : public VectorIndex {
 public:
  RecordingIndex(int dimension, Metric metric) : VectorIndex(dimension, metric) {}
  absl::Status MarkDeleted(VectorId) override { return absl::OkStatus(); }
  absl::Status Save(const std::string&) const override { return absl::OkStatus(); }
  absl::Status Load(const std::string&) override { return absl::OkStatus(); }
  absl::Status Rebuild() override { return absl::OkStatus(); }
  size_t size() const override { return ids.size(); }
  absl::string_view backend() const override { return "recording"; }

  std::vector<VectorId> ids;
  std::vector<float> vectors;
  mutable std::vector<float> last_query;

 protected:
  absl::Status AddPrepared(absl::Span<const VectorId> new_ids,
                           absl::Span<const float> new_vectors) override {
    ids.insert(ids.end(), new_ids.begin(), new_ids.end());
    vectors.insert(vectors.end(), new_vectors.begin(), new_vectors.end());
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<SearchHit>> SearchPrepared(
      absl::Span<const float> query, size_t k, const SearchOptions&) const override {
    last_query.assign(query.begin(), query.end());
    return std::vector<SearchHit>(k, SearchHit{1, 0.5f});
  }
};

TEST(MetricTest, NamesRoundTrip) {
  for (Metric metric : {Metric::kInnerProduct, Metric::kCosine, Metric::kL2}) {
    absl::StatusOr<Metric> parsed = ParseMetric(MetricName(metric));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, metric);
  }
  EXPECT_EQ(ParseMetric("manhattan").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ValidateConfigTest, RejectsBadConfigurations) {
  VectorIndexConfig config;
  config.dimension = 64;
  EXPECT_TRUE(ValidateConfig(config).ok());
  config.backend = "annoy";
  EXPECT_EQ(ValidateConfig(config).code(), absl::StatusCode::kInvalidArgument);
  config.backend = "hnsw";
  config.dimension = 0;
  EXPECT_EQ(ValidateConfig(config).code(), absl::StatusCode::kInvalidArgument);
  config.dimension = 64;
  config.hnsw.m = 1;
  EXPECT_EQ(ValidateConfig(config).code(), absl::StatusCode::kInvalidArgument);
  config.backend = "ivfpq";
  config.ivfpq.m = 6;  // Does not divide 64.
  EXPECT_EQ(ValidateConfig(config).code(), absl::StatusCode::kInvalidArgument);
  config.ivfpq.m = 8;
  EXPECT_TRUE(ValidateConfig(config).ok());
  config.ivfpq.nbits = 0;
  EXPECT_EQ(ValidateConfig(config).code(), absl::StatusCode::kInvalidArgument);
}

TEST(IdFilterTest, BitsetSetAndPredicate) {
  BitsetIdFilter bits(10);
  bits.Set(3);
  bits.Set(42);  // Beyond the bitset: ignored.
  EXPECT_TRUE(bits.Contains(3));
  EXPECT_FALSE(bits.Contains(4));
  EXPECT_FALSE(bits.Contains(42));
  IdSetFilter set({7, 1ull << 40});
  EXPECT_TRUE(set.Contains(1ull << 40));
  EXPECT_FALSE(set.Contains(8));
  PredicateIdFilter even([](VectorId id) { return id % 2 == 0; });
  EXPECT_TRUE(even.Contains(10));
  EXPECT_FALSE(even.Contains(11));
}

TEST(SortAndTruncateHitsTest, BestFirstThenIdAndTruncates) {
  std::vector<SearchHit> hits = {{5, 0.1f}, {2, 0.9f}, {9, 0.5f}, {1, 0.5f}};
  SortAndTruncateHits(3, &hits);
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].id, 2u);
  EXPECT_EQ(hits[1].id, 1u);  // Tie on 0.5 broken by id.
  EXPECT_EQ(hits[2].id, 9u);
}

TEST(VectorIndexTest, RejectsWrongDimensionAndNonFiniteValues) {
  RecordingIndex index(3, Metric::kInnerProduct);
  EXPECT_EQ(index.Add(1, std::vector<float>{1, 2}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(index.Add(1, std::vector<float>{1, NAN, 2}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(index.Add(1, std::vector<float>{1, INFINITY, 2}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(index.Search(std::vector<float>{1, 2, 3, 4}, 5).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(index.ids.empty());
}

TEST(VectorIndexTest, RejectsBadBatchesAndIds) {
  RecordingIndex index(2, Metric::kL2);
  EXPECT_EQ(index.AddBatch(std::vector<VectorId>{1, 2}, std::vector<float>{1, 2, 3}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(index.AddBatch(std::vector<VectorId>{1, 1}, std::vector<float>{1, 2, 3, 4}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(index.Add(kMaxVectorId + 1, std::vector<float>{1, 2}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(index.ids.empty());
  ASSERT_TRUE(index.AddBatch(std::vector<VectorId>{4, 5}, std::vector<float>{1, 2, 3, 4}).ok());
  EXPECT_EQ(index.ids, (std::vector<VectorId>{4, 5}));
  EXPECT_EQ(index.vectors, (std::vector<float>{1, 2, 3, 4}));  // L2: unchanged.
}

TEST(VectorIndexTest, CosineNormalisesVectorsAndQueriesAndRejectsZero) {
  RecordingIndex index(2, Metric::kCosine);
  ASSERT_TRUE(index.Add(1, std::vector<float>{3, 4}).ok());
  EXPECT_FLOAT_EQ(index.vectors[0], 0.6f);
  EXPECT_FLOAT_EQ(index.vectors[1], 0.8f);
  EXPECT_EQ(index.Add(2, std::vector<float>{0, 0}).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(index.Search(std::vector<float>{0, -2}, 1).ok());
  EXPECT_FLOAT_EQ(index.last_query[0], 0.0f);
  EXPECT_FLOAT_EQ(index.last_query[1], -1.0f);
  EXPECT_EQ(index.Search(std::vector<float>{0, 0}, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(VectorIndexTest, KZeroIsEmptyAndNegativeKnobsAreRejected) {
  RecordingIndex index(2, Metric::kInnerProduct);
  absl::StatusOr<std::vector<SearchHit>> hits = index.Search(std::vector<float>{1, 0}, 0);
  ASSERT_TRUE(hits.ok());
  EXPECT_TRUE(hits->empty());
  SearchOptions options;
  options.ef_search = -1;
  EXPECT_EQ(index.Search(std::vector<float>{1, 0}, 3, options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tessera::dense

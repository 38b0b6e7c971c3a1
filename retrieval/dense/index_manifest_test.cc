#include "retrieval/dense/index_manifest.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace tessera::dense {
namespace {

std::string FreshDir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/manifest_test_" + name;
  std::filesystem::remove_all(dir);
  return dir;
}

IndexManifest SampleManifest() {
  IndexManifest manifest;
  manifest.backend = "hnsw";
  manifest.dimension = 8;
  manifest.metric = Metric::kL2;
  manifest.values = {{"count", 3}, {"big", int64_t{1} << 40}, {"negative", -2}};
  manifest.files = {"data.bin"};
  return manifest;
}

absl::Status WriteSample(const std::string& dir) {
  absl::Status status = EnsureDirectory(dir);
  if (!status.ok()) return status;
  status = WriteFileAtomically(dir + "/data.bin", std::string(1000, 'x'));
  if (!status.ok()) return status;
  return WriteManifest(dir, SampleManifest());
}

TEST(IndexManifestTest, RoundTrips) {
  const std::string dir = FreshDir("round_trip");
  ASSERT_TRUE(WriteSample(dir).ok());
  absl::StatusOr<IndexManifest> read = ReadManifest(dir);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->backend, "hnsw");
  EXPECT_EQ(read->dimension, 8);
  EXPECT_EQ(read->metric, Metric::kL2);
  EXPECT_EQ(read->values, SampleManifest().values);
  EXPECT_EQ(read->files, SampleManifest().files);
  EXPECT_TRUE(CheckManifestMatches(*read, "hnsw", 8, Metric::kL2).ok());
  EXPECT_EQ(CheckManifestMatches(*read, "hnsw", 9, Metric::kL2).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CheckManifestMatches(*read, "flat", 8, Metric::kL2).code(),
            absl::StatusCode::kFailedPrecondition);
  absl::StatusOr<int64_t> count = GetManifestValue(*read, "count", 0, 10);
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 3);
  EXPECT_EQ(GetManifestValue(*read, "count", 4, 10).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(GetManifestValue(*read, "absent", 0, 10).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(IndexManifestTest, MissingManifestIsNotFound) {
  EXPECT_EQ(ReadManifest(FreshDir("missing")).status().code(), absl::StatusCode::kNotFound);
}

TEST(IndexManifestTest, TruncatedDataFileIsDataLoss) {
  const std::string dir = FreshDir("truncated");
  ASSERT_TRUE(WriteSample(dir).ok());
  std::filesystem::resize_file(dir + "/data.bin", 999);
  absl::StatusOr<IndexManifest> read = ReadManifest(dir);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(read.status().message().find("truncated"), std::string::npos) << read.status();
}

TEST(IndexManifestTest, FlippedByteIsDataLoss) {
  const std::string dir = FreshDir("flipped");
  ASSERT_TRUE(WriteSample(dir).ok());
  {
    std::fstream file(dir + "/data.bin", std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(500);
    file.put('y');
  }
  EXPECT_EQ(ReadManifest(dir).status().code(), absl::StatusCode::kDataLoss);
}

TEST(IndexManifestTest, MissingDataFileIsDataLoss) {
  const std::string dir = FreshDir("missing_data");
  ASSERT_TRUE(WriteSample(dir).ok());
  std::filesystem::remove(dir + "/data.bin");
  EXPECT_EQ(ReadManifest(dir).status().code(), absl::StatusCode::kDataLoss);
}

TEST(IndexManifestTest, GarbageAndHostileManifestsAreDataLoss) {
  const std::string dir = FreshDir("garbage");
  ASSERT_TRUE(WriteSample(dir).ok());
  const std::string manifest_path = dir + "/" + kManifestFileName;
  for (const std::string& text : {
           std::string("not json"),
           std::string("[1, 2]"),
           std::string(R"({"format": "tessera-dense-index", "version": 99})"),
           std::string(R"({"format": "tessera-dense-index", "version": 1, "backend": "hnsw",
                "dimension": -4, "metric": "l2", "values": {}, "files": []})"),
           std::string(R"({"format": "tessera-dense-index", "version": 1, "backend": "hnsw",
                "dimension": 4, "metric": "l2", "values": {},
                "files": [{"name": "../etc/passwd", "size": 1, "sha256": "00"}]})"),
           std::string(R"({"format": "tessera-dense-index", "version": 1, "backend": "hnsw",
                "dimension": 4, "metric": "l2", "values": {"x": "text"}, "files": []})"),
       }) {
    ASSERT_TRUE(WriteFileAtomically(manifest_path, text).ok());
    EXPECT_EQ(ReadManifest(dir).status().code(), absl::StatusCode::kDataLoss) << text;
  }
}

TEST(IndexManifestTest, WriteRejectsNamesOutsideTheDirectory) {
  const std::string dir = FreshDir("bad_name");
  ASSERT_TRUE(EnsureDirectory(dir).ok());
  IndexManifest manifest = SampleManifest();
  manifest.files = {"../escape"};
  EXPECT_EQ(WriteManifest(dir, manifest).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tessera::dense

#include "eval/dataset_paths.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"

namespace tessera::eval {
namespace {

namespace fs = std::filesystem;

class DatasetPathsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    base_ = fs::path(tmp != nullptr ? tmp : "/tmp") / "dataset_paths";
    fs::remove_all(base_);
    fs::create_directories(base_ / "root" / "sub");
    fs::create_directories(base_ / "outside");
    fs::create_directories(base_ / "root-sibling");
    std::ofstream(base_ / "root" / "sub" / "cases.jsonl") << "{\"input\": \"q\"}\n";
    std::ofstream(base_ / "outside" / "secret.jsonl") << "{\"input\": \"secret\"}\n";
    std::ofstream(base_ / "root-sibling" / "cases.jsonl") << "{\"input\": \"q\"}\n";
    fs::create_symlink(base_ / "outside" / "secret.jsonl", base_ / "root" / "link.jsonl");
    fs::create_directory_symlink(base_ / "outside", base_ / "root" / "linked-dir");
    fs::create_symlink(base_ / "root" / "sub" / "cases.jsonl", base_ / "root" / "inner-link.jsonl");
    roots_ = {(base_ / "root").string()};
  }

  absl::StatusCode Code(const std::string& path) { return ConfineDatasetPath(path, roots_, "dataset.jsonl_path").status().code(); }

  fs::path base_;
  std::vector<std::string> roots_;
};

TEST_F(DatasetPathsTest, AcceptsFilesInsideTheRoot) {
  auto relative = ConfineDatasetPath("sub/cases.jsonl", roots_, "dataset.jsonl_path");
  ASSERT_TRUE(relative.ok()) << relative.status();
  EXPECT_EQ(*relative, fs::canonical(base_ / "root" / "sub" / "cases.jsonl").string());
  auto absolute = ConfineDatasetPath((base_ / "root" / "sub" / "cases.jsonl").string(), roots_, "x");
  ASSERT_TRUE(absolute.ok()) << absolute.status();
  // "." components and symlinks that stay inside are fine.
  EXPECT_TRUE(ConfineDatasetPath("./sub/./cases.jsonl", roots_, "x").ok());
  auto inner = ConfineDatasetPath("inner-link.jsonl", roots_, "x");
  ASSERT_TRUE(inner.ok()) << inner.status();
  EXPECT_EQ(*inner, *relative);
  // A later root also counts.
  std::vector<std::string> two = {(base_ / "root").string(), (base_ / "outside").string()};
  EXPECT_TRUE(ConfineDatasetPath((base_ / "outside" / "secret.jsonl").string(), two, "x").ok());
}

TEST_F(DatasetPathsTest, RefusesEscapes) {
  // Parent components, even ones that would come back inside.
  EXPECT_EQ(Code("../outside/secret.jsonl"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Code("sub/../sub/cases.jsonl"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Code((base_ / "root" / ".." / "outside" / "secret.jsonl").string()), absl::StatusCode::kInvalidArgument);
  // Absolute paths elsewhere, a sibling whose name starts like the root, system files.
  EXPECT_EQ(Code((base_ / "outside" / "secret.jsonl").string()), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Code((base_ / "root-sibling" / "cases.jsonl").string()), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Code("/etc/passwd"), absl::StatusCode::kPermissionDenied);
  // Symlinks out of the root, to a file or through a directory.
  EXPECT_EQ(Code("link.jsonl"), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Code("linked-dir/secret.jsonl"), absl::StatusCode::kPermissionDenied);
  // Missing files and directories.
  EXPECT_EQ(Code("sub/missing.jsonl"), absl::StatusCode::kNotFound);
  EXPECT_EQ(Code("sub"), absl::StatusCode::kInvalidArgument);
  // No roots: no files at all.
  auto none = ConfineDatasetPath("sub/cases.jsonl", {}, "dataset.jsonl_path");
  EXPECT_EQ(none.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StrContains(none.status().message(), "dataset.jsonl_path")) << none.status();
}

TEST_F(DatasetPathsTest, RewritesBothDatasetPaths) {
  std::ofstream(base_ / "root" / "sub" / "qrels.tsv") << "query-id\tcorpus-id\tscore\n";
  v1::Dataset dataset;
  dataset.set_jsonl_path("sub/cases.jsonl");
  dataset.set_qrels_path("sub/qrels.tsv");
  ASSERT_TRUE(ConfineDatasetPaths(roots_, &dataset).ok());
  EXPECT_EQ(dataset.jsonl_path(), fs::canonical(base_ / "root" / "sub" / "cases.jsonl").string());
  EXPECT_EQ(dataset.qrels_path(), fs::canonical(base_ / "root" / "sub" / "qrels.tsv").string());
  dataset.set_qrels_path("link.jsonl");
  auto refused = ConfineDatasetPaths(roots_, &dataset);
  EXPECT_EQ(refused.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StrContains(refused.message(), "dataset.qrels_path")) << refused;
}

}  // namespace
}  // namespace tessera::eval

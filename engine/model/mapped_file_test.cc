#include "engine/model/mapped_file.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace tessera::model {
namespace {

std::string TempPath(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  return std::string(tmp != nullptr ? tmp : "/tmp") + "/" + name;
}

TEST(MappedFileTest, MapsContents) {
  const std::string path = TempPath("mapped.bin");
  std::ofstream(path, std::ios::binary) << "hello";
  auto file = MappedFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_EQ((*file)->size(), 5u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>((*file)->data()), 5), "hello");
}

TEST(MappedFileTest, EmptyMissingAndDirectory) {
  const std::string empty = TempPath("empty.bin");
  std::ofstream(empty, std::ios::binary).close();
  auto file = MappedFile::Open(empty);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ((*file)->size(), 0u);
  EXPECT_EQ(MappedFile::Open(TempPath("missing.bin")).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(MappedFile::Open(TempPath("")).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tessera::model

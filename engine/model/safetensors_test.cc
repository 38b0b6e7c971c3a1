#include "engine/model/safetensors.h"

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace tessera::model {
namespace {

std::string TempPath(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  return std::string(tmp != nullptr ? tmp : "/tmp") + "/" + name;
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), bytes.size());
}

// A file with `header` as its JSON header and `data_size` zero bytes of data.
std::string RawFile(const std::string& header, size_t data_size, uint64_t length_override = 0) {
  const uint64_t length = length_override != 0 ? length_override : header.size();
  std::string bytes;
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>(length >> (8 * i)));
  bytes += header;
  bytes.append(data_size, '\0');
  return bytes;
}

absl::Status OpenRaw(const std::string& name, const std::string& bytes) {
  const std::string path = TempPath(name);
  WriteBytes(path, bytes);
  return SafetensorsFile::Open(path).status();
}

TEST(SafetensorsTest, RoundTripsEveryDtype) {
  struct Case {
    DType dtype;
    std::vector<int64_t> shape;
  };
  const std::vector<Case> cases = {
      {DType::kF32, {2, 3}}, {DType::kF16, {4}},   {DType::kBF16, {1, 5}}, {DType::kF64, {2}},
      {DType::kI64, {3}},    {DType::kI32, {2, 2}}, {DType::kI16, {3}},    {DType::kU16, {1}},
      {DType::kI8, {7}},     {DType::kU8, {0}},     {DType::kBool, {2}},   {DType::kU32, {1}},
      {DType::kU64, {1}},
  };
  std::vector<std::vector<uint8_t>> payloads;
  std::vector<TensorToWrite> tensors;
  for (size_t i = 0; i < cases.size(); ++i) {
    const uint64_t size = *TensorByteSize(cases[i].dtype, cases[i].shape);
    std::vector<uint8_t> bytes(size);
    for (size_t b = 0; b < size; ++b) bytes[b] = static_cast<uint8_t>(i * 31 + b);
    if (cases[i].dtype == DType::kBool) bytes.assign(size, 1);
    payloads.push_back(std::move(bytes));
  }
  for (size_t i = 0; i < cases.size(); ++i) {
    TensorToWrite tensor;
    tensor.name = absl::StrCat("t", i, "_", DTypeName(cases[i].dtype));
    tensor.dtype = cases[i].dtype;
    tensor.shape = cases[i].shape;
    tensor.bytes = payloads[i];
    tensors.push_back(tensor);
  }
  const std::string path = TempPath("all.safetensors");
  ASSERT_TRUE(WriteSafetensors(path, tensors, {{"format", "pt"}}).ok());
  auto file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ((*file)->metadata().at("format"), "pt");
  ASSERT_EQ((*file)->tensors().size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    const TensorView* view = (*file)->Find(tensors[i].name);
    ASSERT_NE(view, nullptr) << tensors[i].name;
    EXPECT_EQ(view->dtype, cases[i].dtype);
    EXPECT_EQ(view->shape, cases[i].shape);
    EXPECT_EQ(std::vector<uint8_t>(view->data, view->data + view->num_bytes), payloads[i]);
  }
  EXPECT_EQ((*file)->Find("absent"), nullptr);
}

TEST(SafetensorsTest, FillCallbackAndF32Values) {
  TensorToWrite tensor;
  tensor.name = "w";
  tensor.dtype = DType::kF16;
  tensor.shape = {2, 2};
  tensor.fill = [](uint8_t* dst, size_t n) {
    const std::vector<float> values = {1, 2, 3, -4};
    ASSERT_EQ(n, 8u);
    ASSERT_TRUE(EncodeF32(values, DType::kF16, dst).ok());
  };
  const std::string path = TempPath("fill.safetensors");
  ASSERT_TRUE(WriteSafetensors(path, {tensor}, {}).ok());
  auto file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  std::vector<float> values;
  ASSERT_TRUE(TensorToF32(*(*file)->Find("w"), &values).ok());
  EXPECT_EQ(values, (std::vector<float>{1, 2, 3, -4}));
}

TEST(SafetensorsTest, WriterRejectsBadTensors) {
  std::vector<uint8_t> bytes(8);
  TensorToWrite tensor{"x", DType::kF32, {3}, bytes, nullptr};
  EXPECT_FALSE(WriteSafetensors(TempPath("bad.safetensors"), {tensor}, {}).ok());
  TensorToWrite quantised{"q", DType::kQ8_0, {32}, {}, nullptr};
  EXPECT_FALSE(WriteSafetensors(TempPath("bad.safetensors"), {quantised}, {}).ok());
  TensorToWrite a{"same", DType::kU8, {8}, bytes, nullptr};
  EXPECT_FALSE(WriteSafetensors(TempPath("bad.safetensors"), {a, a}, {}).ok());
}

TEST(SafetensorsTest, HostileFilesGiveErrorsNotCrashes) {
  const std::string good = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  EXPECT_TRUE(OpenRaw("good", RawFile(good, 8)).ok());
  auto code = [](const absl::Status& s) { return s.code(); };
  EXPECT_EQ(code(OpenRaw("tiny", "abc")), absl::StatusCode::kDataLoss);
  EXPECT_EQ(code(OpenRaw("truncated_header", RawFile(good, 0, good.size() + 100))),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(code(OpenRaw("huge_header", RawFile(good, 8, 1ull << 62))),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(OpenRaw("bad_json", RawFile("{\"a\":", 0))), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(OpenRaw("not_object", RawFile("[1,2]", 0))), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(OpenRaw("past_eof", RawFile(good, 4))), absl::StatusCode::kDataLoss);
  EXPECT_EQ(code(OpenRaw("bad_dtype",
                         RawFile(R"({"a":{"dtype":"F7","shape":[2],"data_offsets":[0,8]}})", 8))),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(OpenRaw("size_mismatch",
                         RawFile(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 12))),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(OpenRaw("reversed",
                         RawFile(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", 8))),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(OpenRaw("negative_dim",
                         RawFile(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8))),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(OpenRaw("overflow", RawFile(R"({"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", 8))),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(OpenRaw("huge_offset", RawFile(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[18446744073709551614,18446744073709551615]}})", 8))),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(code(OpenRaw("overlap", RawFile(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},
                                               "b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                            12))),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(OpenRaw("missing_fields", RawFile(R"({"a":{"dtype":"F32"}})", 0))),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(OpenRaw("bad_metadata", RawFile(R"({"__metadata__":{"k":1}})", 0))),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SafetensorsFile::Open(TempPath("nope.safetensors")).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(SafetensorsTest, ShardedCheckpointThroughIndex) {
  const std::string dir = TempPath("sharded");
  ASSERT_EQ(system(absl::StrCat("mkdir -p ", dir).c_str()), 0);
  std::vector<uint8_t> bytes(4, 7);
  ASSERT_TRUE(WriteSafetensors(dir + "/model-00001-of-00002.safetensors",
                               {TensorToWrite{"a", DType::kF32, {1}, bytes, nullptr}}, {})
                  .ok());
  ASSERT_TRUE(WriteSafetensors(dir + "/model-00002-of-00002.safetensors",
                               {TensorToWrite{"b", DType::kI32, {1}, bytes, nullptr}}, {})
                  .ok());
  WriteBytes(dir + "/model.safetensors.index.json",
             R"({"metadata":{},"weight_map":{"a":"model-00001-of-00002.safetensors",
                 "b":"model-00002-of-00002.safetensors"}})");
  auto checkpoint = SafetensorsCheckpoint::Open(dir);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  ASSERT_NE((*checkpoint)->Find("a"), nullptr);
  ASSERT_NE((*checkpoint)->Find("b"), nullptr);
  EXPECT_EQ((*checkpoint)->Find("b")->dtype, DType::kI32);
  EXPECT_EQ((*checkpoint)->tensors().size(), 2u);

  WriteBytes(dir + "/model.safetensors.index.json",
             R"({"weight_map":{"a":"../../etc/passwd"}})");
  EXPECT_EQ(SafetensorsCheckpoint::Open(dir).status().code(), absl::StatusCode::kInvalidArgument);
  WriteBytes(dir + "/model.safetensors.index.json",
             R"({"weight_map":{"c":"model-00001-of-00002.safetensors"}})");
  EXPECT_EQ(SafetensorsCheckpoint::Open(dir).status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace tessera::model

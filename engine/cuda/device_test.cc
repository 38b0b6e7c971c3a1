#include "engine/cuda/device.h"

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace tessera::cuda {
namespace {

TEST(DeviceTest, DetectionAgreesWithTheStatus) {
  const absl::Status status = CheckCudaAvailable();
  EXPECT_EQ(CudaAvailable(), status.ok());
  if (!status.ok()) {
    // No GPU or driver: a clear reason, never a crash, and nothing pretends to work.
    EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
    EXPECT_FALSE(status.message().empty());
    EXPECT_EQ(CudaDeviceCount(), 0);
    EXPECT_EQ(GetDeviceInfo(0).status().code(), absl::StatusCode::kUnavailable);
    std::printf("CUDA unavailable here (%s); GPU checks of this test skipped\n",
                std::string(status.message()).c_str());
    return;
  }
  ASSERT_GT(CudaDeviceCount(), 0);
  auto info = GetDeviceInfo(0);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_FALSE(info->name.empty());
  EXPECT_GT(info->total_memory, 0u);
  EXPECT_GT(info->free_memory, 0u);
  EXPECT_GE(info->compute_capability, 50);
  std::printf("cuda:0 %s, sm_%d, %zu MiB\n", info->name.c_str(), info->compute_capability,
              info->total_memory >> 20);
  EXPECT_EQ(GetDeviceInfo(CudaDeviceCount()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(DeviceTest, MemoryRoundTripAndErrors) {
  if (!CudaAvailable()) GTEST_SKIP() << "no CUDA device: " << CheckCudaAvailable().message();
  auto stream = Stream::Create();
  ASSERT_TRUE(stream.ok()) << stream.status();
  std::vector<int32_t> values(1000);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<int32_t>(i * 7 - 300);
  auto a = DeviceBuffer::Allocate(values.size() * 4);
  auto b = DeviceBuffer::Allocate(values.size() * 4);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(CopyToDevice(a->data(), values.data(), values.size() * 4, **stream).ok());
  ASSERT_TRUE(CopyOnDevice(b->data(), a->data(), values.size() * 4, **stream).ok());
  std::vector<int32_t> back(values.size());
  ASSERT_TRUE(CopyToHost(back.data(), b->data(), back.size() * 4, **stream).ok());
  EXPECT_EQ(back, values);
  // Far more than any GPU has: a clean RESOURCE_EXHAUSTED, and the device stays usable.
  auto huge = DeviceBuffer::Allocate(size_t{1} << 50);
  EXPECT_EQ(huge.status().code(), absl::StatusCode::kResourceExhausted) << huge.status();
  ASSERT_TRUE(CopyToHost(back.data(), a->data(), back.size() * 4, **stream).ok());
  EXPECT_EQ(back, values);
  auto blas = Blas::Create(**stream);
  EXPECT_TRUE(blas.ok()) << blas.status();
}

}  // namespace
}  // namespace tessera::cuda

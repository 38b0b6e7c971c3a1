#include "engine/cuda/device.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/cuda/runtime_api.h"

namespace tessera::cuda {

absl::Status CudaStatus(int error, absl::string_view what) {
  const rt::ErrorKind kind = rt::KindOf(error);
  if (kind == rt::ErrorKind::kOk) return absl::OkStatus();
  const std::string message =
      absl::StrCat(what, ": ", rt::ErrorName(error), " (", rt::ErrorString(error), ")");
  switch (kind) {
    case rt::ErrorKind::kUnavailable:
      return absl::UnavailableError(message);
    case rt::ErrorKind::kOutOfMemory:
      return absl::ResourceExhaustedError(message);
    default:
      return absl::InternalError(message);
  }
}

namespace {

absl::Status ProbeCuda() {
  int count = 0;
  const int error = rt::GetDeviceCount(&count);
  if (error != 0) {
    int driver = 0;
    rt::DriverVersion(&driver);
    return absl::UnavailableError(absl::StrCat(
        "no usable CUDA device: ", rt::ErrorName(error), " (", rt::ErrorString(error), ")",
        driver == 0 ? "; no NVIDIA driver found" : absl::StrCat("; driver version ", driver)));
  }
  if (count == 0) return absl::UnavailableError("no CUDA device");
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckCudaAvailable() {
  static const absl::Status* const status = new absl::Status(ProbeCuda());
  return *status;
}

bool CudaAvailable() {
  static const bool available = [] {
    const absl::Status status = CheckCudaAvailable();
    if (!status.ok()) spdlog::info("CUDA path off: {}", std::string(status.message()));
    return status.ok();
  }();
  return available;
}

int CudaDeviceCount() {
  if (!CheckCudaAvailable().ok()) return 0;
  int count = 0;
  return rt::GetDeviceCount(&count) == 0 ? count : 0;
}

absl::StatusOr<DeviceInfo> GetDeviceInfo(int device) {
  if (absl::Status status = CheckCudaAvailable(); !status.ok()) return status;
  const int count = CudaDeviceCount();
  if (device < 0 || device >= count) {
    return absl::InvalidArgumentError(
        absl::StrCat("CUDA device ", device, " does not exist (", count, " present)"));
  }
  if (absl::Status status = CudaStatus(rt::SetDevice(device), "cudaSetDevice"); !status.ok()) {
    return status;
  }
  rt::Properties properties;
  if (absl::Status status =
          CudaStatus(rt::GetProperties(device, &properties), "cudaGetDeviceProperties");
      !status.ok()) {
    return status;
  }
  DeviceInfo info;
  info.index = device;
  info.name = properties.name;
  info.total_memory = properties.total_memory;
  info.compute_capability = properties.major * 10 + properties.minor;
  info.multiprocessors = properties.multiprocessors;
  size_t total = 0;
  if (absl::Status status = CudaStatus(rt::MemGetInfo(&info.free_memory, &total), "cudaMemGetInfo");
      !status.ok()) {
    return status;
  }
  return info;
}

absl::Status UseDevice(int device) {
  return CudaStatus(rt::SetDevice(device), absl::StrCat("cudaSetDevice(", device, ")"));
}

DeviceBuffer::~DeviceBuffer() {
  if (data_ != nullptr) rt::Free(data_);
}

DeviceBuffer::DeviceBuffer(DeviceBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) rt::Free(data_);
    data_ = std::exchange(other.data_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

absl::StatusOr<DeviceBuffer> DeviceBuffer::Allocate(size_t bytes) {
  DeviceBuffer buffer;
  if (bytes == 0) return buffer;
  const int error = rt::Malloc(&buffer.data_, bytes);
  if (error != 0) {
    buffer.data_ = nullptr;
    rt::GetLastError();  // cudaMalloc's error is sticky until read; clear it.
    return CudaStatus(error, absl::StrCat("cudaMalloc of ", bytes, " bytes"));
  }
  buffer.bytes_ = bytes;
  return buffer;
}

Stream::~Stream() {
  if (handle_ != nullptr) rt::StreamDestroy(handle_);
}

absl::StatusOr<std::unique_ptr<Stream>> Stream::Create() {
  std::unique_ptr<Stream> stream(new Stream);
  if (absl::Status status = CudaStatus(rt::StreamCreate(&stream->handle_), "cudaStreamCreate");
      !status.ok()) {
    stream->handle_ = nullptr;
    return status;
  }
  return stream;
}

absl::Status Stream::Synchronize() const {
  return CudaStatus(rt::StreamSynchronize(handle_), "CUDA stream (a kernel or copy failed)");
}

absl::Status CopyToDevice(void* dst, const void* src, size_t bytes, const Stream& stream) {
  if (bytes == 0) return absl::OkStatus();
  return CudaStatus(rt::CopyHostToDevice(dst, src, bytes, stream.handle()),
                    "cudaMemcpyAsync host to device");
}

absl::Status CopyToHost(void* dst, const void* src, size_t bytes, const Stream& stream) {
  if (bytes == 0) return absl::OkStatus();
  absl::Status status = CudaStatus(rt::CopyDeviceToHost(dst, src, bytes, stream.handle()),
                                   "cudaMemcpyAsync device to host");
  if (!status.ok()) return status;
  return stream.Synchronize();
}

absl::Status CopyOnDevice(void* dst, const void* src, size_t bytes, const Stream& stream) {
  if (bytes == 0) return absl::OkStatus();
  return CudaStatus(rt::CopyDeviceToDevice(dst, src, bytes, stream.handle()),
                    "cudaMemcpyAsync device to device");
}

absl::Status KernelLaunchStatus(absl::string_view what) {
  return CudaStatus(rt::GetLastError(), absl::StrCat("launch of ", what));
}

Blas::~Blas() {
  if (handle_ != nullptr) rt::BlasDestroy(handle_);
}

absl::StatusOr<std::unique_ptr<Blas>> Blas::Create(const Stream& stream) {
  std::string error;
  if (!rt::BlasLoad(&error)) return absl::UnavailableError(error);
  std::unique_ptr<Blas> blas(new Blas);
  const int status = rt::BlasCreate(&blas->handle_, stream.handle());
  if (status != 0) {
    blas->handle_ = nullptr;
    return absl::UnavailableError(absl::StrCat("cublasCreate: ", rt::BlasStatusName(status)));
  }
  return blas;
}

absl::Status Blas::Gemm(const void* w, const void* x, float* c, int n, int t, int k,
                        float beta) const {
  const int status = rt::BlasGemmF16(handle_, w, x, c, n, t, k, 1.0f, beta);
  if (status != 0) {
    return absl::InternalError(absl::StrCat("cublasGemmEx (", n, " x ", k, " weights, ", t,
                                            " tokens): ", rt::BlasStatusName(status)));
  }
  return absl::OkStatus();
}

}  // namespace tessera::cuda

// CUDA devices for the serving engine: detection (false, with the reason
// logged once, on machines without a GPU or without the NVIDIA driver), device
// memory, a stream, and cuBLAS, with every CUDA error turned into absl::Status:
// UNAVAILABLE when there is no usable device or driver, RESOURCE_EXHAUSTED when
// device memory runs out, INTERNAL otherwise.
#ifndef TESSERA_ENGINE_CUDA_DEVICE_H_
#define TESSERA_ENGINE_CUDA_DEVICE_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tessera::cuda {

// OK when `error` (a cudaError_t value) is cudaSuccess, else a status naming
// `what` and the CUDA error.
absl::Status CudaStatus(int error, absl::string_view what);

// OK when at least one CUDA device can be used, else UNAVAILABLE with the
// reason (no driver, no device, ...). Probed once per process.
absl::Status CheckCudaAvailable();
// The same as a bool; logs the reason (info level) the first time it is false.
bool CudaAvailable();

struct DeviceInfo {
  int index = 0;
  std::string name;              // "NVIDIA H200"
  size_t total_memory = 0;       // Bytes.
  size_t free_memory = 0;        // Bytes, when asked.
  int compute_capability = 0;    // 90 for sm_90.
  int multiprocessors = 0;
};

int CudaDeviceCount();  // 0 without a usable driver.
// Also makes `device` current for the calling thread.
absl::StatusOr<DeviceInfo> GetDeviceInfo(int device);
// Makes `device` current for the calling thread (CUDA's current device is
// per thread, and callers may come from any thread).
absl::Status UseDevice(int device);

// Device memory, freed on destruction.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& other) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  // RESOURCE_EXHAUSTED when the device has too little free memory.
  static absl::StatusOr<DeviceBuffer> Allocate(size_t bytes);

  void* data() const { return data_; }
  template <typename T>
  T* as() const {
    return static_cast<T*>(data_);
  }
  size_t bytes() const { return bytes_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

// A non-blocking CUDA stream; work queued on it runs in order.
class Stream {
 public:
  ~Stream();
  static absl::StatusOr<std::unique_ptr<Stream>> Create();
  void* handle() const { return handle_; }
  // Waits for the queued work; reports errors of the kernels that ran.
  absl::Status Synchronize() const;

 private:
  Stream() = default;
  void* handle_ = nullptr;
};

// Queue copies on `stream`. CopyToHost waits for the stream, so `dst` is
// valid on return; CopyToDevice reads `src` before it returns only when `src`
// is pageable memory, so callers keep `src` alive until the stream is synced.
absl::Status CopyToDevice(void* dst, const void* src, size_t bytes, const Stream& stream);
absl::Status CopyToHost(void* dst, const void* src, size_t bytes, const Stream& stream);
absl::Status CopyOnDevice(void* dst, const void* src, size_t bytes, const Stream& stream);
// The launch errors of kernels queued since the last check (bad grid, ...).
absl::Status KernelLaunchStatus(absl::string_view what);

// cuBLAS bound to a stream. UNAVAILABLE when libcublas.so.13 cannot be loaded.
class Blas {
 public:
  ~Blas();
  static absl::StatusOr<std::unique_ptr<Blas>> Create(const Stream& stream);
  // Row-major c[t][n] = sum_k x[t][k] * w[n][k] + beta * c[t][n]: `w` is an f16
  // weight matrix [n, k], `x` f16 activations [t, k], `c` f32 [t, n]; f32
  // accumulation. beta = 1 adds to c (residual connections).
  absl::Status Gemm(const void* w, const void* x, float* c, int n, int t, int k,
                    float beta = 0.0f) const;

 private:
  Blas() = default;
  void* handle_ = nullptr;
};

}  // namespace tessera::cuda

#endif  // TESSERA_ENGINE_CUDA_DEVICE_H_

// The few CUDA runtime and cuBLAS calls the CUDA executor needs, behind plain
// C++ declarations: runtime_api.cc is compiled by nvcc (which knows the CUDA
// headers), everything else by the ordinary C++ toolchain, which never sees a
// CUDA header. Each call returns a cudaError_t value (0 = success) or, for
// cuBLAS, a cublasStatus_t value; device.h turns them into absl::Status.
#ifndef TESSERA_ENGINE_CUDA_RUNTIME_API_H_
#define TESSERA_ENGINE_CUDA_RUNTIME_API_H_

#include <cstddef>
#include <string>

namespace tessera::cuda::rt {

enum class ErrorKind { kOk, kUnavailable, kOutOfMemory, kInternal };

// For a cudaError_t value.
const char* ErrorName(int error);
const char* ErrorString(int error);
ErrorKind KindOf(int error);

int GetDeviceCount(int* count);
int DriverVersion(int* version);
int RuntimeVersion(int* version);
int SetDevice(int device);
struct Properties {
  std::string name;
  size_t total_memory = 0;
  int major = 0;
  int minor = 0;
  int multiprocessors = 0;
};
int GetProperties(int device, Properties* properties);
int MemGetInfo(size_t* free_bytes, size_t* total_bytes);

int Malloc(void** pointer, size_t bytes);
int Free(void* pointer);
int StreamCreate(void** stream);
int StreamDestroy(void* stream);
int StreamSynchronize(void* stream);
int CopyHostToDevice(void* dst, const void* src, size_t bytes, void* stream);
int CopyDeviceToHost(void* dst, const void* src, size_t bytes, void* stream);
int CopyDeviceToDevice(void* dst, const void* src, size_t bytes, void* stream);
int Memset(void* dst, int value, size_t bytes, void* stream);
// cudaGetLastError(): the launch error of the kernels queued since the last call.
int GetLastError();

// cuBLAS, loaded with dlopen on first use. BlasLoad returns false and sets
// `*error` when libcublas.so.13 cannot be loaded or lacks a symbol.
bool BlasLoad(std::string* error);
const char* BlasStatusName(int status);
int BlasCreate(void** handle, void* stream);
int BlasDestroy(void* handle);
// Row-major c[t][n] = alpha * sum_k x[t][k] * w[n][k] + beta * c[t][n] with x
// and w f16, c f32, accumulation in f32 (cublasGemmEx, column-major view:
// c^T = w * x^T).
int BlasGemmF16(void* handle, const void* w, const void* x, float* c, int n, int t, int k,
                float alpha, float beta);

}  // namespace tessera::cuda::rt

#endif  // TESSERA_ENGINE_CUDA_RUNTIME_API_H_

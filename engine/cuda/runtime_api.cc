// Compiled by nvcc (bazel/cuda.bzl): the only file besides kernels.cu that
// includes CUDA headers.
#include "engine/cuda/runtime_api.h"

#include <cublas_api.h>
#include <cuda_runtime_api.h>
#include <dlfcn.h>

#include <string>
#include <type_traits>

namespace tessera::cuda::rt {
namespace {

cudaStream_t AsStream(void* stream) { return static_cast<cudaStream_t>(stream); }

}  // namespace

const char* ErrorName(int error) { return cudaGetErrorName(static_cast<cudaError_t>(error)); }
const char* ErrorString(int error) {
  return cudaGetErrorString(static_cast<cudaError_t>(error));
}

ErrorKind KindOf(int error) {
  switch (static_cast<cudaError_t>(error)) {
    case cudaSuccess:
      return ErrorKind::kOk;
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver:
    case cudaErrorInitializationError:
    case cudaErrorSystemDriverMismatch:
    case cudaErrorCompatNotSupportedOnDevice:
    case cudaErrorDevicesUnavailable:
    case cudaErrorInvalidDevice:
    case cudaErrorNoKernelImageForDevice:
    case cudaErrorSystemNotReady:
    case cudaErrorStubLibrary:
    case cudaErrorDeviceUninitialized:
      return ErrorKind::kUnavailable;
    case cudaErrorMemoryAllocation:
      return ErrorKind::kOutOfMemory;
    default:
      return ErrorKind::kInternal;
  }
}

int GetDeviceCount(int* count) {
  *count = 0;
  return cudaGetDeviceCount(count);
}
int DriverVersion(int* version) { return cudaDriverGetVersion(version); }
int RuntimeVersion(int* version) { return cudaRuntimeGetVersion(version); }
int SetDevice(int device) { return cudaSetDevice(device); }

int GetProperties(int device, Properties* properties) {
  cudaDeviceProp prop;
  const cudaError_t error = cudaGetDeviceProperties(&prop, device);
  if (error != cudaSuccess) return error;
  properties->name = prop.name;
  properties->total_memory = prop.totalGlobalMem;
  properties->major = prop.major;
  properties->minor = prop.minor;
  properties->multiprocessors = prop.multiProcessorCount;
  return cudaSuccess;
}

int MemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  return cudaMemGetInfo(free_bytes, total_bytes);
}

int Malloc(void** pointer, size_t bytes) { return cudaMalloc(pointer, bytes); }
int Free(void* pointer) { return cudaFree(pointer); }

int StreamCreate(void** stream) {
  cudaStream_t s = nullptr;
  const cudaError_t error = cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);
  *stream = s;
  return error;
}
int StreamDestroy(void* stream) { return cudaStreamDestroy(AsStream(stream)); }
int StreamSynchronize(void* stream) { return cudaStreamSynchronize(AsStream(stream)); }

int CopyHostToDevice(void* dst, const void* src, size_t bytes, void* stream) {
  return cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, AsStream(stream));
}
int CopyDeviceToHost(void* dst, const void* src, size_t bytes, void* stream) {
  return cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, AsStream(stream));
}
int CopyDeviceToDevice(void* dst, const void* src, size_t bytes, void* stream) {
  return cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, AsStream(stream));
}
int Memset(void* dst, int value, size_t bytes, void* stream) {
  return cudaMemsetAsync(dst, value, bytes, AsStream(stream));
}
int GetLastError() { return cudaGetLastError(); }

// --- cuBLAS through dlopen ---------------------------------------------------

namespace {

struct BlasFunctions {
  decltype(&cublasCreate_v2) create = nullptr;
  decltype(&cublasDestroy_v2) destroy = nullptr;
  decltype(&cublasSetStream_v2) set_stream = nullptr;
  // The C entry point (the header also has a C++ overload taking cudaDataType).
  cublasStatus_t (*gemm_ex)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int,
                            const void*, const void*, cudaDataType, int, const void*,
                            cudaDataType, int, const void*, void*, cudaDataType, int,
                            cublasComputeType_t, cublasGemmAlgo_t) = nullptr;
  std::string error;
};

const BlasFunctions& Blas() {
  static const BlasFunctions* functions = [] {
    auto* f = new BlasFunctions;
    void* library = nullptr;
    std::string tried;
    for (const char* name : {"libcublas.so.13", "/usr/local/cuda/lib64/libcublas.so.13"}) {
      library = dlopen(name, RTLD_NOW | RTLD_LOCAL);
      if (library != nullptr) break;
      const char* why = dlerror();
      tried += std::string(tried.empty() ? "" : "; ") + (why != nullptr ? why : name);
    }
    if (library == nullptr) {
      f->error = "cannot load cuBLAS: " + tried;
      return f;
    }
    auto resolve = [&](auto* slot, const char* symbol) {
      *slot = reinterpret_cast<std::remove_pointer_t<decltype(slot)>>(dlsym(library, symbol));
      if (*slot == nullptr && f->error.empty()) f->error = std::string("cuBLAS lacks ") + symbol;
    };
    resolve(&f->create, "cublasCreate_v2");
    resolve(&f->destroy, "cublasDestroy_v2");
    resolve(&f->set_stream, "cublasSetStream_v2");
    resolve(&f->gemm_ex, "cublasGemmEx");
    return f;  // The library stays loaded for the life of the process.
  }();
  return *functions;
}

}  // namespace

bool BlasLoad(std::string* error) {
  const BlasFunctions& f = Blas();
  if (!f.error.empty()) {
    *error = f.error;
    return false;
  }
  return true;
}

const char* BlasStatusName(int status) {
  switch (static_cast<cublasStatus_t>(status)) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    default: return "CUBLAS_STATUS_UNKNOWN";
  }
}

int BlasCreate(void** handle, void* stream) {
  const BlasFunctions& f = Blas();
  if (!f.error.empty()) return CUBLAS_STATUS_NOT_INITIALIZED;
  cublasHandle_t h = nullptr;
  cublasStatus_t status = f.create(&h);
  if (status != CUBLAS_STATUS_SUCCESS) return status;
  status = f.set_stream(h, AsStream(stream));
  if (status != CUBLAS_STATUS_SUCCESS) {
    f.destroy(h);
    return status;
  }
  *handle = h;
  return CUBLAS_STATUS_SUCCESS;
}

int BlasDestroy(void* handle) {
  const BlasFunctions& f = Blas();
  if (!f.error.empty() || handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  return f.destroy(static_cast<cublasHandle_t>(handle));
}

int BlasGemmF16(void* handle, const void* w, const void* x, float* c, int n, int t, int k,
                float alpha, float beta) {
  const BlasFunctions& f = Blas();
  if (!f.error.empty()) return CUBLAS_STATUS_NOT_INITIALIZED;
  // Column-major: w is k x n (ld k), x is k x t (ld k), c is n x t (ld n).
  return f.gemm_ex(static_cast<cublasHandle_t>(handle), CUBLAS_OP_T, CUBLAS_OP_N, n, t, k, &alpha,
                   w, CUDA_R_16F, k, x, CUDA_R_16F, k, &beta, c, CUDA_R_32F, n,
                   CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
}

}  // namespace tessera::cuda::rt

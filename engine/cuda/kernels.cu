// The kernels of kernels.h. Quantised blocks are 34 (Q8_0) or 18 (Q4_0) bytes,
// so a block's f16 scale is only 2-byte aligned: every packed value is read
// byte by byte.
#include "engine/cuda/kernels.h"

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

namespace tessera::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kWarp = 32;
constexpr int kAttentionWarps = 8;
constexpr int kQuantBlock = 32;
constexpr int kQ8_0BlockBytes = 34;
constexpr int kQ4_0BlockBytes = 18;

cudaStream_t AsStream(void* stream) { return static_cast<cudaStream_t>(stream); }

__device__ __forceinline__ float HalfBitsToFloat(uint16_t bits) {
  return __half2float(__ushort_as_half(bits));
}
__device__ __forceinline__ uint16_t FloatToHalfBits(float value) {
  return __half_as_ushort(__float2half_rn(value));
}
__device__ __forceinline__ uint16_t LoadU16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] | (p[1] << 8));
}

// Element e of a tensor stored as `type` whose data starts at `base`.
__device__ __forceinline__ float LoadElement(WeightType type, const uint8_t* base, int64_t e) {
  switch (type) {
    case WeightType::kF32:
      return reinterpret_cast<const float*>(base)[e];
    case WeightType::kF16:
      return HalfBitsToFloat(LoadU16(base + 2 * e));
    case WeightType::kBF16:
      return __uint_as_float(static_cast<uint32_t>(LoadU16(base + 2 * e)) << 16);
    case WeightType::kQ8_0: {
      const uint8_t* block = base + (e / kQuantBlock) * kQ8_0BlockBytes;
      const int j = static_cast<int>(e % kQuantBlock);
      return HalfBitsToFloat(LoadU16(block)) * static_cast<float>(static_cast<int8_t>(block[2 + j]));
    }
    case WeightType::kQ4_0: {
      const uint8_t* block = base + (e / kQuantBlock) * kQ4_0BlockBytes;
      const int j = static_cast<int>(e % kQuantBlock);
      const uint8_t byte = block[2 + (j & 15)];
      const int q = j < 16 ? (byte & 0x0F) : (byte >> 4);
      return HalfBitsToFloat(LoadU16(block)) * static_cast<float>(q - 8);
    }
  }
  return 0.0f;
}

__global__ void ConvertToF16Kernel(WeightType type, const uint8_t* src, int64_t elements,
                                   uint16_t* dst) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < elements;
       e += stride) {
    dst[e] = FloatToHalfBits(LoadElement(type, src, e));
  }
}

__global__ void EmbeddingKernel(WeightType type, const uint8_t* table, size_t row_bytes, int dim,
                                const int32_t* ids, float* out) {
  const int t = blockIdx.x;
  const uint8_t* row = table + static_cast<size_t>(ids[t]) * row_bytes;
  for (int i = threadIdx.x; i < dim; i += blockDim.x) {
    out[static_cast<size_t>(t) * dim + i] = LoadElement(type, row, i);
  }
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread
// gets the total.
__device__ float BlockSum(float value) {
  __shared__ float partial[kWarp];
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  for (int offset = kWarp / 2; offset > 0; offset /= 2) {
    value += __shfl_xor_sync(0xffffffffu, value, offset);
  }
  __syncthreads();  // `partial` may still be read from a previous call.
  if (lane == 0) partial[warp] = value;
  __syncthreads();
  const int warps = blockDim.x / kWarp;
  float total = 0.0f;
  for (int w = 0; w < warps; ++w) total += partial[w];
  return total;
}

__global__ void RmsNormKernel(const float* x, const int32_t* rows, int dim, const float* weight,
                              float eps, uint16_t* out) {
  const int r = blockIdx.x;
  const int src = rows != nullptr ? rows[r] : r;
  const float* in = x + static_cast<size_t>(src) * dim;
  float sum = 0.0f;
  for (int i = threadIdx.x; i < dim; i += blockDim.x) sum += in[i] * in[i];
  sum = BlockSum(sum);
  const float scale = 1.0f / sqrtf(sum / static_cast<float>(dim) + eps);
  for (int i = threadIdx.x; i < dim; i += blockDim.x) {
    out[static_cast<size_t>(r) * dim + i] = FloatToHalfBits(weight[i] * (in[i] * scale));
  }
}

__global__ void RopeKernel(float* qkv, int row_stride, int heads, int head_dim,
                           const int32_t* positions, const float* inv_freq, bool interleaved) {
  const int t = blockIdx.x;
  const int half = head_dim / 2;
  const float pos = static_cast<float>(positions[t]);
  float* row = qkv + static_cast<size_t>(t) * row_stride;
  for (int pair = threadIdx.x; pair < heads * half; pair += blockDim.x) {
    const int head = pair / half, i = pair % half;
    float* h = row + head * head_dim;
    const int a = interleaved ? 2 * i : i;
    const int b = interleaved ? 2 * i + 1 : i + half;
    float sin_angle, cos_angle;
    sincosf(pos * inv_freq[i], &sin_angle, &cos_angle);
    const float x0 = h[a], x1 = h[b];
    h[a] = x0 * cos_angle - x1 * sin_angle;
    h[b] = x1 * cos_angle + x0 * sin_angle;
  }
}

__device__ __forceinline__ size_t SlotOffset(const int32_t* table, int position, int block_size,
                                             int kv_dim) {
  const int block = table[position / block_size];
  return (static_cast<size_t>(block) * block_size + position % block_size) * kv_dim;
}

__global__ void WriteKvKernel(const float* qkv, int row_stride, int k_offset, int v_offset,
                              int kv_dim, const int32_t* positions, const int32_t* table_offsets,
                              const int32_t* block_tables, int block_size, uint16_t* key_cache,
                              uint16_t* value_cache) {
  const int t = blockIdx.x;
  const size_t slot =
      SlotOffset(block_tables + table_offsets[t], positions[t], block_size, kv_dim);
  const float* row = qkv + static_cast<size_t>(t) * row_stride;
  for (int i = threadIdx.x; i < kv_dim; i += blockDim.x) {
    key_cache[slot + i] = FloatToHalfBits(row[k_offset + i]);
    value_cache[slot + i] = FloatToHalfBits(row[v_offset + i]);
  }
}

// One block per (token, query head); each warp takes every kAttentionWarps-th
// position with its own running max / sum / output (online softmax), lanes
// splitting the head dimension (lane + 32 j); the warps' partial results are
// merged at the end.
__global__ void __launch_bounds__(kAttentionWarps * kWarp)
    PagedAttentionKernel(const float* q, int q_stride, int num_heads, int num_kv_heads,
                         int head_dim, const int32_t* positions, const int32_t* table_offsets,
                         const int32_t* block_tables, int block_size, const uint16_t* key_cache,
                         const uint16_t* value_cache, float scale, uint16_t* out) {
  constexpr int kPerLane = kMaxHeadDim / kWarp;
  __shared__ float query[kMaxHeadDim];
  __shared__ float warp_max[kAttentionWarps];
  __shared__ float warp_sum[kAttentionWarps];
  __shared__ float warp_out[kAttentionWarps][kMaxHeadDim];

  const int t = blockIdx.x, head = blockIdx.y;
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  const int kv_dim = num_kv_heads * head_dim;
  const int kv_head = head / (num_heads / num_kv_heads);
  const int last = positions[t];
  const int32_t* table = block_tables + table_offsets[t];

  for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
    query[d] = q[static_cast<size_t>(t) * q_stride + head * head_dim + d] * scale;
  }
  __syncthreads();

  float running_max = -INFINITY, running_sum = 0.0f;
  float acc[kPerLane];
#pragma unroll
  for (int j = 0; j < kPerLane; ++j) acc[j] = 0.0f;

  for (int p = warp; p <= last; p += kAttentionWarps) {
    const size_t slot = SlotOffset(table, p, block_size, kv_dim) + kv_head * head_dim;
    const uint16_t* k = key_cache + slot;
    const uint16_t* v = value_cache + slot;
    float dot = 0.0f;
#pragma unroll
    for (int j = 0; j < kPerLane; ++j) {
      const int d = lane + j * kWarp;
      if (d < head_dim) dot += query[d] * HalfBitsToFloat(k[d]);
    }
    for (int offset = kWarp / 2; offset > 0; offset /= 2) {
      dot += __shfl_xor_sync(0xffffffffu, dot, offset);
    }
    const float new_max = fmaxf(running_max, dot);
    const float correction = __expf(running_max - new_max);  // 0 on the first position.
    const float weight = __expf(dot - new_max);
    running_sum = running_sum * correction + weight;
#pragma unroll
    for (int j = 0; j < kPerLane; ++j) {
      const int d = lane + j * kWarp;
      if (d < head_dim) acc[j] = acc[j] * correction + weight * HalfBitsToFloat(v[d]);
    }
    running_max = new_max;
  }
  if (lane == 0) {
    warp_max[warp] = running_max;
    warp_sum[warp] = running_sum;
  }
#pragma unroll
  for (int j = 0; j < kPerLane; ++j) {
    const int d = lane + j * kWarp;
    if (d < head_dim) warp_out[warp][d] = acc[j];
  }
  __syncthreads();

  float global_max = -INFINITY;
  for (int w = 0; w < kAttentionWarps; ++w) global_max = fmaxf(global_max, warp_max[w]);
  float total = 0.0f;
  for (int w = 0; w < kAttentionWarps; ++w) {
    if (warp_sum[w] > 0.0f) total += warp_sum[w] * __expf(warp_max[w] - global_max);
  }
  const float inv_total = 1.0f / total;  // Position 0 always exists: total > 0.
  for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
    float value = 0.0f;
    for (int w = 0; w < kAttentionWarps; ++w) {
      if (warp_sum[w] > 0.0f) value += warp_out[w][d] * __expf(warp_max[w] - global_max);
    }
    out[static_cast<size_t>(t) * num_heads * head_dim + head * head_dim + d] =
        FloatToHalfBits(value * inv_total);
  }
}

__global__ void SwiGluKernel(const float* gate_up, int64_t total, int ffn_dim, uint16_t* out) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += stride) {
    const int64_t t = e / ffn_dim, i = e % ffn_dim;
    const float gate = gate_up[t * 2 * ffn_dim + i];
    const float up = gate_up[t * 2 * ffn_dim + ffn_dim + i];
    out[e] = FloatToHalfBits(gate / (1.0f + expf(-gate)) * up);
  }
}

__global__ void CopyKvBlocksKernel(uint16_t* key_cache, uint16_t* value_cache,
                                   size_t layer_elements, size_t block_elements,
                                   const int32_t* pairs) {
  const int pair = blockIdx.x, layer = blockIdx.y;
  uint16_t* pool = (blockIdx.z == 0 ? key_cache : value_cache) + layer * layer_elements;
  const uint16_t* src = pool + static_cast<size_t>(pairs[2 * pair]) * block_elements;
  uint16_t* dst = pool + static_cast<size_t>(pairs[2 * pair + 1]) * block_elements;
  for (size_t i = threadIdx.x; i < block_elements; i += blockDim.x) dst[i] = src[i];
}

__global__ void ArgmaxKernel(const float* logits, int vocab, int32_t* out) {
  __shared__ float best_value[kThreads];
  __shared__ int best_index[kThreads];
  const float* row = logits + static_cast<size_t>(blockIdx.x) * vocab;
  float value = -INFINITY;
  int index = vocab;  // Larger than any real index, so real ones win ties.
  for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
    if (row[i] > value || (row[i] == value && i < index)) {
      value = row[i];
      index = i;
    }
  }
  best_value[threadIdx.x] = value;
  best_index[threadIdx.x] = index;
  __syncthreads();
  for (int half = blockDim.x / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) {
      const float other = best_value[threadIdx.x + half];
      const int other_index = best_index[threadIdx.x + half];
      if (other > best_value[threadIdx.x] ||
          (other == best_value[threadIdx.x] && other_index < best_index[threadIdx.x])) {
        best_value[threadIdx.x] = other;
        best_index[threadIdx.x] = other_index;
      }
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) out[blockIdx.x] = best_index[0] < vocab ? best_index[0] : 0;
}

int GridFor(int64_t elements) {
  const int64_t blocks = (elements + kThreads - 1) / kThreads;
  return static_cast<int>(blocks < 65535 ? (blocks > 0 ? blocks : 1) : 65535);
}

}  // namespace

int LaunchConvertToF16(WeightType type, const void* src, int64_t elements, uint16_t* dst,
                       void* stream) {
  if (elements <= 0) return cudaSuccess;
  if ((type == WeightType::kQ8_0 || type == WeightType::kQ4_0) && elements % kQuantBlock != 0) {
    return cudaErrorInvalidValue;
  }
  ConvertToF16Kernel<<<GridFor(elements), kThreads, 0, AsStream(stream)>>>(
      type, static_cast<const uint8_t*>(src), elements, dst);
  return cudaGetLastError();
}

int LaunchEmbedding(WeightType type, const void* table, size_t row_bytes, int dim,
                    const int32_t* ids, int tokens, float* out, void* stream) {
  if (tokens <= 0) return cudaSuccess;
  EmbeddingKernel<<<tokens, kThreads, 0, AsStream(stream)>>>(
      type, static_cast<const uint8_t*>(table), row_bytes, dim, ids, out);
  return cudaGetLastError();
}

int LaunchRmsNorm(const float* x, const int32_t* rows, int count, int dim, const float* weight,
                  float eps, uint16_t* out, void* stream) {
  if (count <= 0) return cudaSuccess;
  RmsNormKernel<<<count, kThreads, 0, AsStream(stream)>>>(x, rows, dim, weight, eps, out);
  return cudaGetLastError();
}

int LaunchRope(float* qkv, int tokens, int row_stride, int num_heads, int num_kv_heads,
               int head_dim, const int32_t* positions, const float* inv_freq, bool interleaved,
               void* stream) {
  if (tokens <= 0) return cudaSuccess;
  if (head_dim % 2 != 0) return cudaErrorInvalidValue;
  RopeKernel<<<tokens, kThreads, 0, AsStream(stream)>>>(
      qkv, row_stride, num_heads + num_kv_heads, head_dim, positions, inv_freq, interleaved);
  return cudaGetLastError();
}

int LaunchWriteKv(const float* qkv, int tokens, int row_stride, int k_offset, int v_offset,
                  int kv_dim, const int32_t* positions, const int32_t* table_offsets,
                  const int32_t* block_tables, int block_size, uint16_t* key_cache,
                  uint16_t* value_cache, void* stream) {
  if (tokens <= 0) return cudaSuccess;
  WriteKvKernel<<<tokens, kThreads, 0, AsStream(stream)>>>(
      qkv, row_stride, k_offset, v_offset, kv_dim, positions, table_offsets, block_tables,
      block_size, key_cache, value_cache);
  return cudaGetLastError();
}

int LaunchPagedAttention(const float* q, int tokens, int q_stride, int num_heads,
                         int num_kv_heads, int head_dim, const int32_t* positions,
                         const int32_t* table_offsets, const int32_t* block_tables,
                         int block_size, const uint16_t* key_cache, const uint16_t* value_cache,
                         float scale, uint16_t* out, void* stream) {
  if (tokens <= 0) return cudaSuccess;
  if (head_dim <= 0 || head_dim > kMaxHeadDim || num_kv_heads <= 0 ||
      num_heads % num_kv_heads != 0 || num_heads > 65535) {
    return cudaErrorInvalidValue;
  }
  const dim3 grid(tokens, num_heads);
  PagedAttentionKernel<<<grid, kAttentionWarps * kWarp, 0, AsStream(stream)>>>(
      q, q_stride, num_heads, num_kv_heads, head_dim, positions, table_offsets, block_tables,
      block_size, key_cache, value_cache, scale, out);
  return cudaGetLastError();
}

int LaunchSwiGlu(const float* gate_up, int tokens, int ffn_dim, uint16_t* out, void* stream) {
  const int64_t total = static_cast<int64_t>(tokens) * ffn_dim;
  if (total <= 0) return cudaSuccess;
  SwiGluKernel<<<GridFor(total), kThreads, 0, AsStream(stream)>>>(gate_up, total, ffn_dim, out);
  return cudaGetLastError();
}

int LaunchCopyKvBlocks(uint16_t* key_cache, uint16_t* value_cache, size_t layer_elements,
                       int num_layers, size_t block_elements, const int32_t* pairs, int num_pairs,
                       void* stream) {
  if (num_pairs <= 0 || num_layers <= 0) return cudaSuccess;
  if (num_layers > 65535) return cudaErrorInvalidValue;
  const dim3 grid(num_pairs, num_layers, 2);
  CopyKvBlocksKernel<<<grid, kThreads, 0, AsStream(stream)>>>(key_cache, value_cache,
                                                               layer_elements, block_elements,
                                                               pairs);
  return cudaGetLastError();
}

int LaunchArgmax(const float* logits, int rows, int vocab, int32_t* out, void* stream) {
  if (rows <= 0) return cudaSuccess;
  ArgmaxKernel<<<rows, kThreads, 0, AsStream(stream)>>>(logits, vocab, out);
  return cudaGetLastError();
}

}  // namespace tessera::cuda

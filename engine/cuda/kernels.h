// CUDA kernels of the LLaMA forward pass over a paged KV cache, behind plain
// C++ launch functions (kernels.cu is compiled by nvcc; callers need no CUDA
// header). Every pointer is a device pointer, `stream` is a cudaStream_t, and
// every function queues its kernel and returns cudaGetLastError() (0 when the
// launch was accepted; errors inside the kernel surface at the next stream
// synchronisation). f16 values are IEEE binary16 bit patterns in uint16_t.
//
// The KV pool of one layer is [num_blocks][block_size][num_kv_heads * head_dim]
// f16 for keys and the same for values. Token t of a step sits at absolute
// position positions[t]; its sequence's block table starts at
// block_tables[table_offsets[t]], and position p lives in block
// table[p / block_size], slot p % block_size.
#ifndef TESSERA_ENGINE_CUDA_KERNELS_H_
#define TESSERA_ENGINE_CUDA_KERNELS_H_

#include <cstddef>
#include <cstdint>

namespace tessera::cuda {

// Element types of weights as stored in model files (ggml block layouts for
// Q8_0 / Q4_0: see engine/model/tensor.h).
enum class WeightType { kF32, kF16, kBF16, kQ8_0, kQ4_0 };

// Largest head dimension the attention kernel handles.
inline constexpr int kMaxHeadDim = 256;

// dst[e] = f16(element e of `src`) for e in [0, elements). Quantised matrices
// are sequences of 32-element blocks (rows hold whole blocks), so `elements`
// must be a multiple of 32 for them.
int LaunchConvertToF16(WeightType type, const void* src, int64_t elements, uint16_t* dst,
                       void* stream);

// out[t][:] = row ids[t] of an embedding table of `dim` columns stored as
// `type` with `row_bytes` bytes a row, as f32.
int LaunchEmbedding(WeightType type, const void* table, size_t row_bytes, int dim,
                    const int32_t* ids, int tokens, float* out, void* stream);

// out[r][:] = f16(weight * x[src] / rms(x[src])) with src = rows[r] (or r when
// `rows` is null), for r in [0, count); x is f32 [*, dim].
int LaunchRmsNorm(const float* x, const int32_t* rows, int count, int dim, const float* weight,
                  float eps, uint16_t* out, void* stream);

// Rotates, in place, the query heads (columns [0, num_heads * head_dim)) and
// the key heads that follow them of each row of `qkv` (f32, `row_stride`
// floats a row) by the angles positions[t] * inv_freq[i]. `interleaved`:
// pairs (2i, 2i + 1) (GGUF); else (i, i + head_dim / 2) (Hugging Face).
int LaunchRope(float* qkv, int tokens, int row_stride, int num_heads, int num_kv_heads,
               int head_dim, const int32_t* positions, const float* inv_freq, bool interleaved,
               void* stream);

// Stores each token's key (columns [k_offset, k_offset + kv_dim) of `qkv`) and
// value (from v_offset) as f16 in its block slot of one layer's pool.
int LaunchWriteKv(const float* qkv, int tokens, int row_stride, int k_offset, int v_offset,
                  int kv_dim, const int32_t* positions, const int32_t* table_offsets,
                  const int32_t* block_tables, int block_size, uint16_t* key_cache,
                  uint16_t* value_cache, void* stream);

// Causal grouped-query attention read through the block tables: query head h
// of token t (columns h * head_dim of row t of `q`, f32, `q_stride` floats a
// row) attends to positions [0, positions[t]] of kv head h / (num_heads /
// num_kv_heads), with an online softmax of scores * `scale`. Writes f16
// out[t][h * head_dim + d]. head_dim <= kMaxHeadDim.
int LaunchPagedAttention(const float* q, int tokens, int q_stride, int num_heads,
                         int num_kv_heads, int head_dim, const int32_t* positions,
                         const int32_t* table_offsets, const int32_t* block_tables,
                         int block_size, const uint16_t* key_cache, const uint16_t* value_cache,
                         float scale, uint16_t* out, void* stream);

// out[t][i] = f16(silu(gate) * up) with gate = gate_up[t][i], up =
// gate_up[t][ffn_dim + i] (f32 rows of 2 * ffn_dim).
int LaunchSwiGlu(const float* gate_up, int tokens, int ffn_dim, uint16_t* out, void* stream);

// For each pair (pairs[2i], pairs[2i + 1]) = (source, destination) block and
// each layer, copies the block's keys and values. Pools are `num_layers`
// layers of `layer_elements` f16 values; a block has `block_elements`.
int LaunchCopyKvBlocks(uint16_t* key_cache, uint16_t* value_cache, size_t layer_elements,
                       int num_layers, size_t block_elements, const int32_t* pairs, int num_pairs,
                       void* stream);

// out[r] = the index of the largest of logits[r][0, vocab) (the lowest index
// among equal values), for r in [0, rows).
int LaunchArgmax(const float* logits, int rows, int vocab, int32_t* out, void* stream);

}  // namespace tessera::cuda

#endif  // TESSERA_ENGINE_CUDA_KERNELS_H_

// Tensor descriptions shared by the model-file readers and writers (safetensors,
// GGUF), and the element conversions the runtime needs: f16/bf16 <-> f32 and
// ggml's Q8_0/Q4_0 block (de)quantisation.
#ifndef TESSERA_ENGINE_MODEL_TENSOR_H_
#define TESSERA_ENGINE_MODEL_TENSOR_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace tessera::model {

// Element types. The quantised types are stored in blocks along the innermost
// (last, row-major) dimension; Q*_K and the other ggml quantisations are known
// (so files holding them can be opened and validated) but not dequantised.
enum class DType {
  kF32,
  kF16,
  kBF16,
  kF64,
  kI8,
  kU8,
  kI16,
  kU16,
  kI32,
  kU32,
  kI64,
  kU64,
  kBool,
  kQ4_0,
  kQ4_1,
  kQ5_0,
  kQ5_1,
  kQ8_0,
  kQ8_1,
  kQ2_K,
  kQ3_K,
  kQ4_K,
  kQ5_K,
  kQ6_K,
  kQ8_K,
};

// "F32", "Q4_0", ... (safetensors spelling for the plain types).
absl::string_view DTypeName(DType dtype);

// Elements per storage block: 1 for plain types, 32 for Q4_0/Q8_0, 256 for K quants.
int64_t DTypeBlockElements(DType dtype);
// Bytes per storage block.
int64_t DTypeBlockBytes(DType dtype);

// Number of elements of `shape`; INVALID_ARGUMENT for a negative dimension or
// when the product overflows int64.
absl::StatusOr<int64_t> ShapeElements(absl::Span<const int64_t> shape);

// Bytes a tensor of this type and row-major shape occupies. INVALID_ARGUMENT on
// overflow, a negative dimension, or (block types) an innermost dimension that
// is not a multiple of the block size.
absl::StatusOr<uint64_t> TensorByteSize(DType dtype, absl::Span<const int64_t> shape);

// A non-owning view of a tensor inside a mapped file or another buffer. `shape`
// is row-major (outermost first) for every format; GGUF's reversed dimension
// order is undone by the reader.
struct TensorView {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  uint64_t num_bytes = 0;

  int64_t num_elements() const;
};

// A tensor to be written by a file writer. Its bytes come from `bytes`, or, to
// keep memory flat when writing multi-gigabyte files, from `fill`, which is called
// once with a zeroed buffer of exactly TensorByteSize() bytes.
struct TensorToWrite {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  absl::Span<const uint8_t> bytes;
  std::function<void(uint8_t* dst, size_t num_bytes)> fill;
};

// Scalar conversions (round to nearest even; NaN and infinities preserved).
float F16ToF32(uint16_t h);
uint16_t F32ToF16(float f);
float BF16ToF32(uint16_t b);
uint16_t F32ToBF16(float f);

// Bulk conversions; the f16 one uses the F16C instructions when the CPU has them.
void ConvertF16ToF32(const uint16_t* src, float* dst, size_t n);
void ConvertBF16ToF32(const uint16_t* src, float* dst, size_t n);
void ConvertF32ToF16(const float* src, uint16_t* dst, size_t n);
void ConvertF32ToBF16(const float* src, uint16_t* dst, size_t n);

// ggml block layouts, QK = 32 elements per block:
//   Q8_0: f16 scale d, then 32 int8 q;           x = q * d          (34 bytes)
//   Q4_0: f16 scale d, then 16 bytes of nibbles;  x = (q - 8) * d    (18 bytes)
//         byte j holds element j in its low nibble and element j + 16 in its high.
inline constexpr int kQuantBlock = 32;
inline constexpr int kQ8_0BlockBytes = 34;
inline constexpr int kQ4_0BlockBytes = 18;

// `n` must be a multiple of 32 (checked by the callers that know the shape).
void DequantizeQ8_0(const uint8_t* src, float* dst, size_t n);
void DequantizeQ4_0(const uint8_t* src, float* dst, size_t n);
// ggml's reference quantisers: Q8_0 scales by max|x| / 127 and rounds; Q4_0
// scales by the signed value of largest magnitude / -8.
void QuantizeQ8_0(const float* src, uint8_t* dst, size_t n);
void QuantizeQ4_0(const float* src, uint8_t* dst, size_t n);

// Converts a floating-point or quantised tensor to f32 (appending nothing else:
// `out` is resized). UNIMPLEMENTED for integer and unsupported quantised types;
// INVALID_ARGUMENT when the byte size does not match the shape.
absl::Status TensorToF32(const TensorView& tensor, std::vector<float>* out);

// Encodes f32 values as `dtype` (F32, F16, BF16, Q8_0, Q4_0) into `dst`, which
// must hold TensorByteSize(dtype, {n}) bytes. UNIMPLEMENTED for other types.
absl::Status EncodeF32(absl::Span<const float> src, DType dtype, uint8_t* dst);

}  // namespace tessera::model

#endif  // TESSERA_ENGINE_MODEL_TENSOR_H_

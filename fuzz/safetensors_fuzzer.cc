// safetensors model files: the 8-byte header length, the JSON header (dtypes,
// shapes, data offsets, __metadata__) and the tensor bytes it points at.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/model/safetensors.h"
#include "engine/model/tensor.h"
#include "fuzz/fuzz_util.h"
#include "fuzz/tensor_checks.h"

namespace {
constexpr uint64_t kMaxBytesConverted = 1 << 16;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static tessera::fuzz::MemoryFile* const file = new tessera::fuzz::MemoryFile();
  file->Write(data, size);
  absl::StatusOr<std::unique_ptr<tessera::model::SafetensorsFile>> safetensors =
      tessera::model::SafetensorsFile::Open(file->path());
  if (!safetensors.ok()) return 0;
  for (const tessera::model::TensorView& tensor : (*safetensors)->tensors()) {
    TESSERA_FUZZ_CHECK((*safetensors)->Find(tensor.name) != nullptr);
    absl::StatusOr<uint64_t> expected = tessera::model::TensorByteSize(tensor.dtype, tensor.shape);
    TESSERA_FUZZ_CHECK(expected.ok() && *expected == tensor.num_bytes);
    if (tensor.num_bytes > 0) {
      volatile uint8_t first = tensor.data[0];
      volatile uint8_t last = tensor.data[tensor.num_bytes - 1];
      (void)first;
      (void)last;
    }
    if (tensor.num_bytes <= kMaxBytesConverted) {
      std::vector<float> values;
      (void)tessera::model::TensorToF32(tensor, &values);
    }
  }
  tessera::fuzz::CheckTensorsDisjoint((*safetensors)->tensors());
  for (const auto& [key, value] : (*safetensors)->metadata()) (void)value.size();
  return 0;
}

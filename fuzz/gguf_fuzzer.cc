// GGUF model files: header, typed metadata, tensor infos, the llama.* hyper-
// parameters, the tokenizer.ggml.* vocabulary and the tokenizer built from it.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/model/gguf.h"
#include "engine/model/tensor.h"
#include "engine/tokenizer/sentencepiece_bpe.h"
#include "fuzz/fuzz_util.h"
#include "fuzz/tensor_checks.h"
#include "fuzz/tokenizer_checks.h"

namespace {

using tessera::fuzz::MemoryFile;
using tessera::model::GgufFile;

// Converting big tensors would only measure memory bandwidth.
constexpr uint64_t kMaxBytesConverted = 1 << 16;

void ExerciseVocab(const GgufFile& file) {
  absl::StatusOr<tessera::model::GgufVocab> vocab = tessera::model::ReadGgufVocab(file);
  if (!vocab.ok() || vocab->tokens.empty()) return;
  // What the Llama loader does with a "llama" vocabulary.
  tessera::tokenizer::SentencePieceVocab sp;
  sp.pieces = vocab->tokens;
  sp.scores = vocab->scores;
  if (sp.scores.empty()) sp.scores.assign(sp.pieces.size(), 0.0f);
  for (size_t i = 0; i < sp.pieces.size(); ++i) {
    sp.types.push_back(i < vocab->token_types.size()
                           ? static_cast<tessera::tokenizer::PieceType>(vocab->token_types[i])
                           : tessera::tokenizer::PieceType::kNormal);
  }
  tessera::tokenizer::SentencePieceOptions options;
  options.bos_id = static_cast<int32_t>(vocab->bos_id);
  options.eos_id = static_cast<int32_t>(vocab->eos_id);
  options.unk_id = static_cast<int32_t>(vocab->unk_id);
  auto tokenizer = tessera::tokenizer::SentencePieceBpeTokenizer::Create(std::move(sp), options);
  if (tokenizer.ok()) tessera::fuzz::ExerciseTokenizerWithSamples(**tokenizer);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static MemoryFile* const file = new MemoryFile();
  file->Write(data, size);
  absl::StatusOr<std::unique_ptr<GgufFile>> gguf = GgufFile::Open(file->path());
  if (!gguf.ok()) return 0;

  for (const auto& [key, value] : (*gguf)->metadata()) {
    TESSERA_FUZZ_CHECK((*gguf)->FindValue(key) != nullptr);
    (void)(*gguf)->GetUint(key);
    (void)(*gguf)->GetInt(key);
    (void)(*gguf)->GetFloat(key);
    (void)(*gguf)->GetBool(key);
    (void)(*gguf)->GetString(key);
    (void)(*gguf)->GetStringArray(key);
    (void)(*gguf)->GetFloatArray(key);
    (void)(*gguf)->GetIntArray(key);
  }
  for (const tessera::model::TensorView& tensor : (*gguf)->tensors()) {
    TESSERA_FUZZ_CHECK((*gguf)->Find(tensor.name) != nullptr);
    // Every tensor byte must lie inside the mapping (ASan or SIGBUS otherwise).
    if (tensor.num_bytes > 0) {
      volatile uint8_t first = tensor.data[0];
      volatile uint8_t last = tensor.data[tensor.num_bytes - 1];
      (void)first;
      (void)last;
    }
    (void)tensor.num_elements();
    if (tensor.num_bytes <= kMaxBytesConverted) {
      std::vector<float> values;
      (void)tessera::model::TensorToF32(tensor, &values);
    }
  }
  tessera::fuzz::CheckTensorsDisjoint((*gguf)->tensors());
  (void)tessera::model::ReadLlamaHyperParams(**gguf);
  ExerciseVocab(**gguf);
  return 0;
}

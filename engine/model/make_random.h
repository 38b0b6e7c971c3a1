// Random-weight models of real shapes (`tessera model make-random`): the exact
// tensor names and file layouts of Hugging Face checkpoints and of llama.cpp's
// GGUF files, so every loader can be exercised without the real weights.
#ifndef TESSERA_ENGINE_MODEL_MAKE_RANDOM_H_
#define TESSERA_ENGINE_MODEL_MAKE_RANDOM_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tessera::model {

// Writes a model and returns the path written.
//   arch "bert": `out_path` is a directory (created) holding config.json,
//     model.safetensors (BertModel names: embeddings.*, encoder.layer.N.*,
//     pooler.dense.*), vocab.txt (copied from the shared all-MiniLM-L6-v2 files when
//     the vocabulary size is 30522 and they exist, else generated) and the
//     sentence-transformers files (modules.json, 1_Pooling/config.json with mean
//     pooling, sentence_bert_config.json).
//   arch "bert-cross-encoder": the same as BertForSequenceClassification with one
//     label ("bert." prefixed names + classifier.weight/bias), no pooling files.
//   arch "llama", format "safetensors": a directory with config.json and
//     model.safetensors (HF names: model.embed_tokens.weight, model.layers.N.*,
//     model.norm.weight, lm_head.weight) and tokenizer.model when available.
//   arch "llama", format "gguf": the file `out_path` with llama.cpp's names
//     (token_embd, blk.N.attn_q, ..., output_norm, output), llama.* metadata and a
//     tokenizer.ggml.* vocabulary (from the shared Llama 2 tokenizer.model when
//     present and of the shape's size, else a byte vocabulary padded to size).
//     attn_q/attn_k rows are permuted as llama.cpp's converter does, so the GGUF and
//     safetensors files of one seed hold the same model.
//   arch "llama", format "llama2c" (f32 only): the file `out_path` as llama2.c's
//     legacy (version 0) .bin, the GGUF tensors in llama2.c's order (so it holds the
//     same model as the GGUF file of that seed), plus tokenizer.bin from the shared
//     Llama 2 files beside it when the vocabulary is 32000 and none is there yet.
// `shape`: a name from NamedBertShape/NamedLlamaShape. `dtype`: "f32" (default when
// empty), "f16", "bf16" (safetensors only), "q8_0", "q4_0" (GGUF only; 1-D tensors
// stay f32 as llama.cpp keeps them). The same seed gives the same bytes.
absl::StatusOr<std::string> MakeRandomModel(absl::string_view arch, absl::string_view shape,
                                            absl::string_view format,
                                            const std::string& out_path, uint64_t seed,
                                            absl::string_view dtype);

}  // namespace tessera::model

#endif  // TESSERA_ENGINE_MODEL_MAKE_RANDOM_H_

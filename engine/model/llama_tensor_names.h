// Where each LLaMA weight lives under a checkpoint format's names: llama.cpp's
// (GGUF files, and llama2.c files once read) and Hugging Face's (safetensors).
// The loader, the llama2.c reader and the random-model writer share them.
#ifndef TESSERA_ENGINE_MODEL_LLAMA_TENSOR_NAMES_H_
#define TESSERA_ENGINE_MODEL_LLAMA_TENSOR_NAMES_H_

namespace tessera::model {

struct LlamaTensorNames {
  const char* embedding;
  const char* output;
  const char* output_norm;
  const char* layer_prefix;  // Followed by the layer number and ".".
  const char* q;
  const char* k;
  const char* v;
  const char* o;
  const char* gate;
  const char* up;
  const char* down;
  const char* attn_norm;
  const char* ffn_norm;
};

inline constexpr LlamaTensorNames kLlamaCppTensorNames = {
    "token_embd.weight", "output.weight",      "output_norm.weight", "blk.",
    "attn_q.weight",     "attn_k.weight",      "attn_v.weight",      "attn_output.weight",
    "ffn_gate.weight",   "ffn_up.weight",      "ffn_down.weight",    "attn_norm.weight",
    "ffn_norm.weight"};

inline constexpr LlamaTensorNames kHuggingFaceTensorNames = {
    "model.embed_tokens.weight", "lm_head.weight",           "model.norm.weight",
    "model.layers.",             "self_attn.q_proj.weight",  "self_attn.k_proj.weight",
    "self_attn.v_proj.weight",   "self_attn.o_proj.weight",  "mlp.gate_proj.weight",
    "mlp.up_proj.weight",        "mlp.down_proj.weight",     "input_layernorm.weight",
    "post_attention_layernorm.weight"};

}  // namespace tessera::model

#endif  // TESSERA_ENGINE_MODEL_LLAMA_TENSOR_NAMES_H_

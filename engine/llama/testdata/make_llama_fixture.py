#!/usr/bin/python3
"""Builds the tiny random LLaMA fixture of engine/llama tests.

Writes, next to this script:
  tiny_llama/config.json, tiny_llama/model.safetensors (f16 weights, HF names,
  tied embeddings; safetensors written by hand), and tiny_llama_expected.json:
  the prompt, the f32 logits of every prompt position and the greedy
  continuation, all from the hand-written Hugging Face-style forward pass below
  (rotate_half RoPE, GQA, SwiGLU, RMSNorm), computed in float32 on the
  f16-rounded weights.

Run: /usr/bin/python3 engine/llama/testdata/make_llama_fixture.py
"""
import json
import os
import struct

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "vocab_size": 288,
    "hidden_size": 64,
    "intermediate_size": 96,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "rms_norm_eps": 1e-5,
    "rope_theta": 10000.0,
    "max_position_embeddings": 128,
    "tie_word_embeddings": True,
    "bos_token_id": 1,
    "eos_token_id": 2,
    "hidden_act": "silu",
    "torch_dtype": "float16",
}
PROMPT = [1, 70, 101, 108, 108, 111, 260, 33, 200, 45]
GREEDY_TOKENS = 8


def make_weights(seed):
    g = torch.Generator().manual_seed(seed)
    c = CONFIG
    h, inter = c["hidden_size"], c["intermediate_size"]
    head_dim = h // c["num_attention_heads"]
    kv = head_dim * c["num_key_value_heads"]

    def randn(*shape, std):
        return (torch.randn(*shape, generator=g) * std).half()

    def norm(n):
        return (1.0 + 0.1 * torch.randn(n, generator=g)).half()

    w = {"model.embed_tokens.weight": randn(c["vocab_size"], h, std=1.0)}
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        w[p + "input_layernorm.weight"] = norm(h)
        w[p + "self_attn.q_proj.weight"] = randn(h, h, std=0.25)
        w[p + "self_attn.k_proj.weight"] = randn(kv, h, std=0.25)
        w[p + "self_attn.v_proj.weight"] = randn(kv, h, std=0.25)
        w[p + "self_attn.o_proj.weight"] = randn(h, h, std=0.15)
        w[p + "post_attention_layernorm.weight"] = norm(h)
        w[p + "mlp.gate_proj.weight"] = randn(inter, h, std=0.2)
        w[p + "mlp.up_proj.weight"] = randn(inter, h, std=0.2)
        w[p + "mlp.down_proj.weight"] = randn(h, inter, std=0.15)
    w["model.norm.weight"] = norm(h)
    return w


def rms_norm(x, weight, eps):
    variance = x.pow(2).mean(-1, keepdim=True)
    return weight * (x * torch.rsqrt(variance + eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def forward(w, ids):
    """Logits [len(ids), vocab] of a causal LLaMA, as transformers computes them."""
    c = CONFIG
    w = {k: v.float() for k, v in w.items()}
    h, nh, nkv = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
    hd = h // nh
    eps = c["rms_norm_eps"]
    t = len(ids)
    x = w["model.embed_tokens.weight"][torch.tensor(ids)]
    inv_freq = 1.0 / (c["rope_theta"] ** (torch.arange(0, hd, 2).float() / hd))
    freqs = torch.outer(torch.arange(t).float(), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    mask = torch.full((t, t), float("-inf")).triu(1)
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        y = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = (y @ w[p + "self_attn.q_proj.weight"].T).view(t, nh, hd).transpose(0, 1)
        k = (y @ w[p + "self_attn.k_proj.weight"].T).view(t, nkv, hd).transpose(0, 1)
        v = (y @ w[p + "self_attn.v_proj.weight"].T).view(t, nkv, hd).transpose(0, 1)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(nh // nkv, dim=0)
        v = v.repeat_interleave(nh // nkv, dim=0)
        scores = q @ k.transpose(1, 2) / (hd ** 0.5) + mask
        attn = torch.softmax(scores, dim=-1) @ v
        attn = attn.transpose(0, 1).reshape(t, h)
        x = x + attn @ w[p + "self_attn.o_proj.weight"].T
        y = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        gate = y @ w[p + "mlp.gate_proj.weight"].T
        up = y @ w[p + "mlp.up_proj.weight"].T
        x = x + (torch.nn.functional.silu(gate) * up) @ w[p + "mlp.down_proj.weight"].T
    x = rms_norm(x, w["model.norm.weight"], eps)
    return x @ w["model.embed_tokens.weight"].T


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, tensor in tensors.items():
        data = tensor.contiguous().numpy().tobytes()
        header[name] = {"dtype": "F16", "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def main():
    torch.set_num_threads(1)
    w = make_weights(1234)
    logits = forward(w, PROMPT)
    ids = list(PROMPT)
    greedy, margins = [], []
    for _ in range(GREEDY_TOKENS):
        last = forward(w, ids)[-1]
        top = torch.topk(last, 2).values
        margins.append(float(top[0] - top[1]))
        token = int(torch.argmax(last))
        greedy.append(token)
        ids.append(token)
    # The C++ side matches greedy tokens exactly; near-ties would make that flaky.
    assert min(margins) > 0.02, margins
    out_dir = os.path.join(HERE, "tiny_llama")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2)
    write_safetensors(os.path.join(out_dir, "model.safetensors"), w)
    expected = {
        "prompt": PROMPT,
        "vocab_size": CONFIG["vocab_size"],
        "logits": [[float("%.6g" % v) for v in row] for row in logits.tolist()],
        "greedy": greedy,
        "min_greedy_margin": min(margins),
    }
    with open(os.path.join(HERE, "tiny_llama_expected.json"), "w") as f:
        json.dump(expected, f, separators=(",", ":"))


if __name__ == "__main__":
    main()

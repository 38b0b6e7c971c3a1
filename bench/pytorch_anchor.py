#!/usr/bin/python3
"""PyTorch CPU anchor for bench/engine_vs_pytorch.sh: the same model files our
engine loads (Hugging Face config.json + model.safetensors, as `tessera model
make-random` writes them), run by an independent forward pass written in plain
torch ops (no transformers), timed the way bench/llama_bench and
bench/encoder_bench time ours.

Figures are best-of (the fastest encoder batch, the best of --repeats LLaMA
runs), as in our benches: other work on a shared machine only slows runs down.
Prints one JSON object per line, e.g.
  {"impl": "pytorch", "bench": "decode", "dtype": "f32", "threads": 1, "tok_s": 2.4, ...}
and, when torch is missing, one line {"impl": "pytorch", "skipped": "..."}.

Run with Debian's torch: /usr/bin/python3 bench/pytorch_anchor.py --llama=DIR --bert=DIR --cross=DIR
"""
import argparse
import json
import math
import mmap
import os
import struct
import sys
import time
import warnings


def emit(**fields):
    print(json.dumps(fields), flush=True)


try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as error:  # The driver prints this as the anchor's "skipped" line.
    emit(impl="pytorch", skipped="apt-get install python3-torch (%s)" % error)
    sys.exit(0)

DTYPES = {"f32": torch.float32, "bf16": torch.bfloat16, "f16": torch.float16}
# torch.from_numpy over a read-only mmap warns once per tensor; we never write to them.
warnings.filterwarnings("ignore", message="The given NumPy array is not writable")


def load_safetensors(path, dtype):
    """All tensors of a safetensors file, converted to `dtype` (contiguous copies)."""
    with open(path, "rb") as f:
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    (header_len,) = struct.unpack("<Q", mapped[:8])
    header = json.loads(mapped[8:8 + header_len])
    base = 8 + header_len
    raw = np.frombuffer(mapped, dtype=np.uint8)
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        blob = raw[base + begin:base + end]
        # Views of the read-only mapping; .to() and .clone() make the tensors we keep.
        if info["dtype"] == "F32":
            t = torch.from_numpy(blob.view(np.float32))
        elif info["dtype"] == "F16":
            t = torch.from_numpy(blob.view(np.float16))
        elif info["dtype"] == "BF16":
            t = torch.from_numpy(blob.view(np.int16)).view(torch.bfloat16)
        else:
            raise ValueError("%s: unsupported dtype %s" % (name, info["dtype"]))
        t = t.reshape(info["shape"])
        out[name] = t.to(dtype) if t.dtype != dtype else t.clone()
    return out


def read_config(directory):
    with open(os.path.join(directory, "config.json")) as f:
        return json.load(f)


# ----------------------------------------------------------------------------- LLaMA


class Llama:
    """Hugging Face LLaMA (rotate_half RoPE, GQA, SwiGLU, RMSNorm) with a
    preallocated KV cache; activations in the weights' dtype like
    transformers' model.to(dtype)."""

    def __init__(self, directory, dtype, capacity):
        c = read_config(directory)
        self.c = c
        self.dtype = dtype
        self.w = load_safetensors(os.path.join(directory, "model.safetensors"), dtype)
        self.h = c["hidden_size"]
        self.nh = c["num_attention_heads"]
        self.nkv = c.get("num_key_value_heads", self.nh)
        self.hd = self.h // self.nh
        self.layers = c["num_hidden_layers"]
        self.eps = c.get("rms_norm_eps", 1e-5)
        self.lm_head = self.w.get("lm_head.weight", self.w["model.embed_tokens.weight"])
        hd = self.hd
        inv_freq = 1.0 / (c.get("rope_theta", 10000.0) ** (torch.arange(0, hd, 2).float() / hd))
        freqs = torch.outer(torch.arange(capacity).float(), inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        self.cos, self.sin = emb.cos().to(dtype), emb.sin().to(dtype)
        self.k_cache = torch.zeros(self.layers, self.nkv, capacity, hd, dtype=dtype)
        self.v_cache = torch.zeros_like(self.k_cache)
        self.pos = 0

    def rms_norm(self, x, weight):
        xf = x.float()
        xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return weight * xf.to(self.dtype)

    # nn.Linear's path (what transformers runs), and torch.mv for one token: in
    # torch 1.13 with Debian's OpenBLAS a 1-row F.linear goes through sgemm, which
    # repacks the whole weight matrix per call; mv reads it once.
    matvec = False

    @staticmethod
    def linear(x, weight):
        return F.linear(x, weight)

    @staticmethod
    def mv(x, weight):
        return torch.mv(weight, x[0]).unsqueeze(0)

    def weight_bytes_per_token(self):
        """Bytes of the matrices one decode step reads (the embedding row aside)."""
        names = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                 "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]
        total = self.lm_head.numel() * self.lm_head.element_size()
        for i in range(self.layers):
            for name in names:
                t = self.w["model.layers.%d.%s.weight" % (i, name)]
                total += t.numel() * t.element_size()
        return total

    @staticmethod
    def rotate_half(x):
        half = x.shape[-1] // 2
        return torch.cat((-x[..., half:], x[..., :half]), dim=-1)

    def forward(self, ids):
        """Logits of the last of `ids`, run at positions [pos, pos + len)."""
        w, t, start = self.w, len(ids), self.pos
        lin = self.linear if t > 1 or not self.matvec else self.mv
        end = start + t
        nh, nkv, hd, group = self.nh, self.nkv, self.hd, self.nh // self.nkv
        x = w["model.embed_tokens.weight"][torch.tensor(ids)]
        cos, sin = self.cos[start:end], self.sin[start:end]
        mask = None
        if t > 1:
            mask = torch.full((t, end), float("-inf"), dtype=self.dtype).triu(start + 1)
        for i in range(self.layers):
            p = "model.layers.%d." % i
            y = self.rms_norm(x, w[p + "input_layernorm.weight"])
            q = lin(y, w[p + "self_attn.q_proj.weight"]).view(t, nh, hd).transpose(0, 1)
            k = lin(y, w[p + "self_attn.k_proj.weight"]).view(t, nkv, hd).transpose(0, 1)
            v = lin(y, w[p + "self_attn.v_proj.weight"]).view(t, nkv, hd).transpose(0, 1)
            q = q * cos + self.rotate_half(q) * sin
            k = k * cos + self.rotate_half(k) * sin
            self.k_cache[i, :, start:end] = k
            self.v_cache[i, :, start:end] = v
            keys = self.k_cache[i, :, :end]      # [nkv, end, hd]
            values = self.v_cache[i, :, :end]
            qg = q.reshape(nkv, group * t, hd)   # Heads of one kv group share its keys.
            scores = (qg @ keys.transpose(1, 2)).view(nkv, group, t, end) / math.sqrt(hd)
            if mask is not None:
                scores = scores + mask
            probs = torch.softmax(scores.float(), dim=-1).to(self.dtype)
            attn = (probs.view(nkv, group * t, end) @ values).view(nh, t, hd)
            attn = attn.transpose(0, 1).reshape(t, self.h)
            x = x + lin(attn, w[p + "self_attn.o_proj.weight"])
            y = self.rms_norm(x, w[p + "post_attention_layernorm.weight"])
            gate = lin(y, w[p + "mlp.gate_proj.weight"])
            up = lin(y, w[p + "mlp.up_proj.weight"])
            x = x + lin(F.silu(gate) * up, w[p + "mlp.down_proj.weight"])
        self.pos = end
        x = self.rms_norm(x[-1:], w["model.norm.weight"])
        return lin(x, self.lm_head)[0].float()


def bench_llama(args, threads_list):
    for dtype_name in args.llama_dtypes.split(","):
        dtype = DTYPES[dtype_name]
        start = time.time()
        model = Llama(args.llama, dtype, args.prompt_tokens + args.decode_tokens + 1)
        load_s = time.time() - start
        c = model.c
        prompt = [(i * 7919 + 3) % c["vocab_size"] for i in range(args.prompt_tokens)]
        variants = [(dtype_name, False)]
        if dtype_name == "f32" and args.matvec_variant:
            variants.append(("f32-mv", True))
        for threads, (label, matvec) in [(t, v) for t in threads_list for v in variants]:
            model.matvec = matvec
            torch.set_num_threads(threads)
            best_prefill, best_decode, steps_done = 0.0, 0.0, 0
            with torch.inference_mode():
                model.pos = 0
                model.forward(prompt[:4])  # Warm-up (first-call allocations, oneDNN kernels).
                for _ in range(args.repeats):
                    model.pos = 0
                    t0 = time.perf_counter()
                    logits = model.forward(prompt)
                    best_prefill = max(best_prefill, len(prompt) / (time.perf_counter() - t0))
                    token = int(torch.argmax(logits))
                    t0 = time.perf_counter()
                    steps = 0
                    for _ in range(args.decode_tokens):
                        token = int(torch.argmax(model.forward([token])))
                        steps += 1
                        if time.perf_counter() - t0 > args.max_decode_seconds and steps >= 3:
                            break
                    rate = steps / (time.perf_counter() - t0)
                    if rate > best_decode:
                        best_decode, steps_done = rate, steps
            if not matvec:  # Prefill does not change with the decode variant.
                emit(impl="pytorch", bench="prefill", model="llama", dtype=label, threads=threads,
                     tokens=len(prompt), tok_s=best_prefill, load_s=load_s)
            emit(impl="pytorch", bench="decode", model="llama", dtype=label, threads=threads,
                 tokens=steps_done, tok_s=best_decode,
                 weight_gb_per_token=model.weight_bytes_per_token() / 1e9)
        del model


# ----------------------------------------------------------------------------- BERT


class Bert:
    """BertModel (post-LN, GELU) over a padded batch with an attention mask, plus
    sentence-transformers mean pooling + L2 normalisation, or the
    BertForSequenceClassification head (pooler tanh + classifier)."""

    def __init__(self, directory, dtype):
        self.c = read_config(directory)
        self.dtype = dtype
        self.w = load_safetensors(os.path.join(directory, "model.safetensors"), dtype)
        self.prefix = "bert." if "bert.embeddings.word_embeddings.weight" in self.w else ""

    def hidden(self, ids, types, mask):
        c, w, pre = self.c, self.w, self.prefix
        h, heads = c["hidden_size"], c["num_attention_heads"]
        eps = c.get("layer_norm_eps", 1e-12)
        batch, seq = ids.shape
        d = h // heads
        pos = torch.arange(seq).unsqueeze(0).expand(batch, seq)
        x = (w[pre + "embeddings.word_embeddings.weight"][ids]
             + w[pre + "embeddings.position_embeddings.weight"][pos]
             + w[pre + "embeddings.token_type_embeddings.weight"][types])
        x = F.layer_norm(x, (h,), w[pre + "embeddings.LayerNorm.weight"],
                         w[pre + "embeddings.LayerNorm.bias"], eps)
        additive = ((1.0 - mask[:, None, None, :].float()) * -1e9).to(self.dtype)
        for i in range(c["num_hidden_layers"]):
            p = "%sencoder.layer.%d." % (pre, i)

            def lin(t, n):
                return F.linear(t, w[p + n + ".weight"], w[p + n + ".bias"])

            def split(t):
                return t.view(batch, seq, heads, d).transpose(1, 2)

            q = split(lin(x, "attention.self.query"))
            k = split(lin(x, "attention.self.key"))
            v = split(lin(x, "attention.self.value"))
            scores = q @ k.transpose(-1, -2) / math.sqrt(d) + additive
            ctx = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(batch, seq, h)
            x = F.layer_norm(lin(ctx, "attention.output.dense") + x, (h,),
                             w[p + "attention.output.LayerNorm.weight"],
                             w[p + "attention.output.LayerNorm.bias"], eps)
            mid = F.gelu(lin(x, "intermediate.dense"))
            x = F.layer_norm(lin(mid, "output.dense") + x, (h,), w[p + "output.LayerNorm.weight"],
                             w[p + "output.LayerNorm.bias"], eps)
        return x

    def embed(self, ids, types, mask):
        states = self.hidden(ids, types, mask).float()
        m = mask.unsqueeze(-1).float()
        pooled = (states * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return F.normalize(pooled, p=2, dim=1)

    def score(self, ids, types, mask):
        w, pre = self.w, self.prefix
        states = self.hidden(ids, types, mask)
        pooled = torch.tanh(F.linear(states[:, 0], w[pre + "pooler.dense.weight"],
                                     w[pre + "pooler.dense.bias"]))
        return F.linear(pooled, w["classifier.weight"], w["classifier.bias"]).float()


def encoder_batch(vocab, batch, seq, pairs):
    """The batch encoder_bench.cc builds: [CLS] ids [SEP] (pairs: query of 16
    tokens, then the passage), every sequence exactly `seq` tokens."""
    ids = torch.zeros(batch, seq, dtype=torch.long)
    types = torch.zeros(batch, seq, dtype=torch.long)
    for b in range(batch):
        row = [101] + [1000 + (b * 7919 + i * 104729) % (vocab - 1000) for i in range(seq - 2)] + [102]
        if pairs:
            query_len = 16
            row[query_len + 1] = 102
            types[b, query_len + 2:] = 1
        ids[b] = torch.tensor(row)
    return ids, types, torch.ones(batch, seq, dtype=torch.long)


def bench_encoder(args, threads_list, directory, kind):
    for dtype_name in args.bert_dtypes.split(","):
        model = Bert(directory, DTYPES[dtype_name])
        ids, types, mask = encoder_batch(model.c["vocab_size"], args.batch, args.seq, kind == "rerank")
        run = model.embed if kind == "embed" else model.score
        for threads in threads_list:
            torch.set_num_threads(threads)
            with torch.inference_mode():
                run(ids, types, mask)  # Warm-up.
                batches, best = 0, float("inf")
                start = time.perf_counter()
                while True:
                    t0 = time.perf_counter()
                    run(ids, types, mask)
                    best = min(best, time.perf_counter() - t0)
                    batches += 1
                    if (batches >= args.min_batches
                            and time.perf_counter() - start > args.min_encoder_seconds):
                        break
            emit(impl="pytorch", bench=kind, model="bert", dtype=dtype_name, threads=threads,
                 batch=args.batch, seq=args.seq, batches=batches, items_s=args.batch / best)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--llama", help="HF LLaMA directory (config.json + model.safetensors)")
    parser.add_argument("--bert", help="HF BERT directory (sentence embedder)")
    parser.add_argument("--cross", help="HF BertForSequenceClassification directory")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--llama_dtypes", default="f32,bf16")
    parser.add_argument("--bert_dtypes", default="f32,bf16")
    parser.add_argument("--prompt_tokens", type=int, default=64)
    parser.add_argument("--decode_tokens", type=int, default=16)
    parser.add_argument("--max_decode_seconds", type=float, default=15.0)
    parser.add_argument("--repeats", type=int, default=2, help="LLaMA runs; the best is reported")
    parser.add_argument("--matvec_variant", type=int, default=1,
                        help="also time f32 decode with torch.mv (dtype \"f32-mv\")")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--min_batches", type=int, default=3)
    parser.add_argument("--min_encoder_seconds", type=float, default=3.0)
    args = parser.parse_args()
    threads_list = [int(t) for t in args.threads.split(",")]
    emit(impl="pytorch", info="torch %s, %s" % (torch.__version__,
                                                torch.backends.cpu.get_cpu_capability()
                                                if hasattr(torch.backends, "cpu") else "cpu"))
    if args.bert:
        bench_encoder(args, threads_list, args.bert, "embed")
    if args.cross:
        bench_encoder(args, threads_list, args.cross, "rerank")
    if args.llama:
        bench_llama(args, threads_list)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Builds the tiny random BERT fixtures of bert_encoder_test with PyTorch (CPU).

Writes, next to this script:
  tiny_bert/   config.json, model.safetensors (word embeddings bf16, attention
               weights f16, the rest f32), vocab.txt, modules.json,
               1_Pooling/config.json (mean pooling + Normalize);
  tiny_cross/  BertForSequenceClassification (one label, "bert." names, f16);
  expected.json  mean-pooled normalised embeddings and cross-encoder logits of a
               padded batch, computed by an independent PyTorch implementation.
Run: /usr/bin/python3 engine/bert/testdata/make_bert_fixture.py
"""
import json
import math
import os
import struct

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
HIDDEN, LAYERS, HEADS, INTER, MAX_POS, TYPES = 32, 2, 4, 64, 32, 2
WORDS = ["the", "cat", "dog", "sat", "on", "mat", "a", "bird", "flew", "over", "house",
         "red", "blue", "green", "runs", "fast", "slow", "big", "small", "tree"]
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS + [
    "word%d" % i for i in range(64 - 5 - len(WORDS))]
EPS = 1e-12

DTYPE_NAMES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}


def write_safetensors(path, tensors):
    """tensors: list of (name, tensor in its storage dtype)."""
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors:
        t = t.contiguous()
        if t.dtype == torch.bfloat16:
            raw = t.view(torch.int16).numpy().tobytes()
        else:
            raw = t.numpy().tobytes()
        header[name] = {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def random_params(gen, prefix, classifier):
    def w(*shape):
        return torch.randn(*shape, generator=gen) * 0.2

    p = {
        prefix + "embeddings.word_embeddings.weight": w(len(VOCAB), HIDDEN),
        prefix + "embeddings.position_embeddings.weight": w(MAX_POS, HIDDEN),
        prefix + "embeddings.token_type_embeddings.weight": w(TYPES, HIDDEN),
        prefix + "embeddings.LayerNorm.weight": 1 + w(HIDDEN),
        prefix + "embeddings.LayerNorm.bias": w(HIDDEN),
    }
    for i in range(LAYERS):
        q = "%sencoder.layer.%d." % (prefix, i)
        for n in ("query", "key", "value"):
            p[q + "attention.self.%s.weight" % n] = w(HIDDEN, HIDDEN)
            p[q + "attention.self.%s.bias" % n] = w(HIDDEN)
        p[q + "attention.output.dense.weight"] = w(HIDDEN, HIDDEN)
        p[q + "attention.output.dense.bias"] = w(HIDDEN)
        p[q + "attention.output.LayerNorm.weight"] = 1 + w(HIDDEN)
        p[q + "attention.output.LayerNorm.bias"] = w(HIDDEN)
        p[q + "intermediate.dense.weight"] = w(INTER, HIDDEN)
        p[q + "intermediate.dense.bias"] = w(INTER)
        p[q + "output.dense.weight"] = w(HIDDEN, INTER)
        p[q + "output.dense.bias"] = w(HIDDEN)
        p[q + "output.LayerNorm.weight"] = 1 + w(HIDDEN)
        p[q + "output.LayerNorm.bias"] = w(HIDDEN)
    p[prefix + "pooler.dense.weight"] = w(HIDDEN, HIDDEN)
    p[prefix + "pooler.dense.bias"] = w(HIDDEN)
    if classifier:
        p["classifier.weight"] = w(1, HIDDEN)
        p["classifier.bias"] = w(1)
    return p


def storage_dtype(name, mode):
    if mode == "f16":
        return torch.float16
    if "word_embeddings" in name:
        return torch.bfloat16
    if "attention.self" in name and name.endswith("weight"):
        return torch.float16
    return torch.float32


def stored(params, mode):
    """Rounds each tensor to its file dtype; returns (file tensors, f32 values)."""
    files, values = [], {}
    for name, t in params.items():
        s = t.to(storage_dtype(name, mode))
        files.append((name, s))
        values[name] = s.to(torch.float32)
    return files, values


def bert_forward(p, prefix, ids, types, mask):
    """Padded-batch BERT (post-LN, erf GELU) with an additive attention mask."""
    batch, seq = ids.shape
    pos = torch.arange(seq).unsqueeze(0).expand(batch, seq)
    x = (p[prefix + "embeddings.word_embeddings.weight"][ids]
         + p[prefix + "embeddings.position_embeddings.weight"][pos]
         + p[prefix + "embeddings.token_type_embeddings.weight"][types])
    x = torch.nn.functional.layer_norm(x, (HIDDEN,), p[prefix + "embeddings.LayerNorm.weight"],
                                       p[prefix + "embeddings.LayerNorm.bias"], EPS)
    additive = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
    d = HIDDEN // HEADS
    for i in range(LAYERS):
        q = "%sencoder.layer.%d." % (prefix, i)
        lin = lambda t, n: torch.nn.functional.linear(t, p[q + n + ".weight"], p[q + n + ".bias"])
        split = lambda t: t.view(batch, seq, HEADS, d).transpose(1, 2)
        Q = split(lin(x, "attention.self.query"))
        K = split(lin(x, "attention.self.key"))
        V = split(lin(x, "attention.self.value"))
        scores = Q @ K.transpose(-1, -2) / math.sqrt(d) + additive
        ctx = (torch.softmax(scores, dim=-1) @ V).transpose(1, 2).reshape(batch, seq, HIDDEN)
        x = torch.nn.functional.layer_norm(lin(ctx, "attention.output.dense") + x, (HIDDEN,),
                                           p[q + "attention.output.LayerNorm.weight"],
                                           p[q + "attention.output.LayerNorm.bias"], EPS)
        hmid = torch.nn.functional.gelu(lin(x, "intermediate.dense"))
        x = torch.nn.functional.layer_norm(lin(hmid, "output.dense") + x, (HIDDEN,),
                                           p[q + "output.LayerNorm.weight"],
                                           p[q + "output.LayerNorm.bias"], EPS)
    return x


def pad(seqs):
    longest = max(len(s[0]) for s in seqs)
    ids = torch.zeros(len(seqs), longest, dtype=torch.long)
    types = torch.zeros(len(seqs), longest, dtype=torch.long)
    mask = torch.zeros(len(seqs), longest, dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, :len(s[0])] = torch.tensor(s[0])
        types[i, :len(s[1])] = torch.tensor(s[1])
        mask[i, :len(s[0])] = 1
    return ids, types, mask


def config(classifier):
    c = {"architectures": ["BertForSequenceClassification" if classifier else "BertModel"],
         "model_type": "bert", "vocab_size": len(VOCAB), "hidden_size": HIDDEN,
         "num_hidden_layers": LAYERS, "num_attention_heads": HEADS, "intermediate_size": INTER,
         "max_position_embeddings": MAX_POS, "type_vocab_size": TYPES, "layer_norm_eps": EPS,
         "hidden_act": "gelu", "pad_token_id": 0, "position_embedding_type": "absolute"}
    if classifier:
        c["id2label"] = {"0": "LABEL_0"}
        c["label2id"] = {"LABEL_0": 0}
    return c


def ids_of(text):
    return [2] + [VOCAB.index(w) for w in text.split()] + [3]


def main():
    gen = torch.Generator().manual_seed(1234)
    texts = ["the cat sat on the mat", "a bird", "big red tree runs fast over the small blue house",
             "dog"]
    seqs = [(ids_of(t), [0] * len(ids_of(t))) for t in texts]
    seqs.append(([2, 1, 44, 63, 3], [0] * 5))  # [UNK] and filler words.

    # Embedding model.
    emb_dir = os.path.join(HERE, "tiny_bert")
    os.makedirs(os.path.join(emb_dir, "1_Pooling"), exist_ok=True)
    files, values = stored(random_params(gen, "", False), "mixed")
    write_safetensors(os.path.join(emb_dir, "model.safetensors"), files)
    json.dump(config(False), open(os.path.join(emb_dir, "config.json"), "w"), indent=2)
    open(os.path.join(emb_dir, "vocab.txt"), "w").write("\n".join(VOCAB) + "\n")
    json.dump([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
               {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}],
              open(os.path.join(emb_dir, "modules.json"), "w"), indent=2)
    json.dump({"word_embedding_dimension": HIDDEN, "pooling_mode_cls_token": False,
               "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
               "pooling_mode_mean_sqrt_len_tokens": False},
              open(os.path.join(emb_dir, "1_Pooling", "config.json"), "w"), indent=2)
    ids, types, mask = pad(seqs)
    with torch.no_grad():
        states = bert_forward(values, "", ids, types, mask)
        m = mask.unsqueeze(-1).float()
        pooled = (states * m).sum(1) / m.sum(1).clamp(min=1e-9)
        embeddings = torch.nn.functional.normalize(pooled, p=2, dim=1)

    # Cross-encoder.
    cross_dir = os.path.join(HERE, "tiny_cross")
    os.makedirs(cross_dir, exist_ok=True)
    files, cvalues = stored(random_params(gen, "bert.", True), "f16")
    write_safetensors(os.path.join(cross_dir, "model.safetensors"), files)
    json.dump(config(True), open(os.path.join(cross_dir, "config.json"), "w"), indent=2)
    open(os.path.join(cross_dir, "vocab.txt"), "w").write("\n".join(VOCAB) + "\n")
    query = "the cat"
    passages = ["the cat sat on the mat", "a bird flew over the house", "green tree"]
    pairs = []
    for passage in passages:
        a, b = ids_of(query), ids_of(passage)[1:]
        pairs.append((a + b, [0] * len(a) + [1] * len(b)))
    ids, types, mask = pad(pairs)
    with torch.no_grad():
        states = bert_forward(cvalues, "bert.", ids, types, mask)
        pooled = torch.tanh(torch.nn.functional.linear(
            states[:, 0], cvalues["bert.pooler.dense.weight"], cvalues["bert.pooler.dense.bias"]))
        logits = torch.nn.functional.linear(pooled, cvalues["classifier.weight"],
                                            cvalues["classifier.bias"])

    expected = {
        "embedding": {"texts": texts, "ids": [s[0] for s in seqs],
                      "vectors": [[round(v, 7) for v in row] for row in embeddings.tolist()]},
        "cross": {"query": query, "passages": passages,
                  "ids": [p[0] for p in pairs], "token_type_ids": [p[1] for p in pairs],
                  "logits": [round(row[0], 7) for row in logits.tolist()]},
    }
    json.dump(expected, open(os.path.join(HERE, "expected.json"), "w"), indent=1)


if __name__ == "__main__":
    main()

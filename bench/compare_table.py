#!/usr/bin/python3
"""Prints the table of bench/engine_vs_pytorch.sh from the JSON lines that
bench/llama_bench, bench/encoder_bench, bench/pytorch_anchor.py and
bench/c_anchor/llama2c_run wrote
(one file, argument 1). Needs no torch."""
import json
import sys

TARGET = 2.0  # Issue 5: at least 2x PyTorch CPU at batch-1 decode and encoder batch 32.


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    pass
    return rows


def fmt(value, digits=1):
    return "-" if value is None else "%.*f" % (digits, value)


def ratio(a, b):
    if a is None or b is None or b <= 0:
        return None
    return a / b


def fmt_ratio(r):
    return "-" if r is None else "%.2fx" % r


def main():
    rows = load(sys.argv[1])
    skipped = next((r["skipped"] for r in rows if r.get("impl") == "pytorch" and "skipped" in r), None)
    info = next((r["info"] for r in rows if r.get("impl") == "pytorch" and "info" in r), "")

    def pick(impl, bench, dtype=None, threads=None, key="tok_s"):
        values = [r[key] for r in rows if r.get("impl") == impl and r.get("bench") == bench
                  and (dtype is None or r.get("dtype") == dtype)
                  and (threads is None or r.get("threads") == threads) and key in r]
        return max(values) if values else None

    def first(impl, bench, dtype, threads):
        for r in rows:
            if (r.get("impl") == impl and r.get("bench") == bench and r.get("dtype") == dtype
                    and r.get("threads") == threads):
                return r
        return None

    threads = sorted({r["threads"] for r in rows if r.get("impl") == "ours" and "threads" in r})
    ours_llama = [d for d in ("F32", "F16", "Q8_0", "Q4_0")
                  if any(r.get("impl") == "ours" and r.get("dtype") == d for r in rows)]
    torch_cols = ("f32", "bf16")
    anchor_note = "skipped: %s" % skipped if skipped else None

    print("Tessera vs PyTorch CPU on the same model files, same run (best of repeats; "
          "ratio = ours / PyTorch)")
    if info:
        print("anchor: %s" % info)
    if anchor_note:
        print("PyTorch columns %s" % anchor_note)
    print()
    header = "%-34s %3s %9s %11s %7s %11s %7s %12s %7s" % (
        "benchmark", "thr", "ours", "PyTorch f32", "ratio", "f32, mv(*)", "ratio", "PyTorch bf16",
        "ratio")
    print(header)
    print("-" * len(header))
    verdicts = []

    def line(label, t, ours, bench, key):
        torch = {d: pick("pytorch", bench, d, t, key) for d in torch_cols + ("f32-mv",)}
        if anchor_note:
            cells = ("skipped", "", "", "", "skipped", "")
        else:
            cells = (fmt(torch["f32"], 2), fmt_ratio(ratio(ours, torch["f32"])),
                     fmt(torch["f32-mv"], 2), fmt_ratio(ratio(ours, torch["f32-mv"])),
                     fmt(torch["bf16"], 2), fmt_ratio(ratio(ours, torch["bf16"])))
        print("%-34s %3d %9s %11s %7s %11s %7s %12s %7s" % ((label, t, fmt(ours, 2)) + cells))
        return torch

    for t in threads:
        for d in ours_llama:
            torch = line("decode tok/s, batch 1, ours %s" % d, t, pick("ours", "decode", d, t), "decode",
                         "tok_s")
            verdicts.append(("decode batch 1, ours %s vs PyTorch f32, %d thread(s)" % (d, t),
                             ratio(pick("ours", "decode", d, t), torch["f32"])))
            verdicts.append(("decode batch 1, ours %s vs PyTorch f32 with mv, %d thread(s)" % (d, t),
                             ratio(pick("ours", "decode", d, t), torch["f32-mv"])))
    for t in threads:
        for d in ours_llama:
            line("prefill tok/s (64), ours %s" % d, t, pick("ours", "prefill", d, t), "prefill", "tok_s")
    for t in threads:
        torch = line("embed passages/s, 32 x 128, f32", t, pick("ours", "embed", None, t, "items_s"),
                     "embed", "items_s")
        verdicts.append(("encoder batch 32 (embed), ours f32 vs PyTorch f32, %d thread(s)" % t,
                         ratio(pick("ours", "embed", None, t, "items_s"), torch["f32"])))
        line("rerank pairs/s, 32 x 128, f32", t, pick("ours", "rerank", None, t, "items_s"), "rerank",
             "items_s")

    # llama.cpp on the same GGUF files.
    llamacpp_skipped = next((r["skipped"] for r in rows
                             if r.get("impl") == "llama.cpp" and "skipped" in r), None)
    if any(r.get("impl") == "ours" and r.get("bench") == "decode" for r in rows):
        print()
        header = "%-34s %3s %10s %12s %8s" % ("same GGUF vs llama.cpp", "thr", "ours", "llama.cpp",
                                               "ratio")
        print(header)
        print("-" * len(header))
        if llamacpp_skipped:
            print("llama.cpp columns skipped: %s" % llamacpp_skipped)
        for bench, label in (("decode", "decode tok/s, batch 1"), ("prefill", "prefill tok/s (64)")):
            for t in threads:
                for d in ("Q8_0", "Q4_0"):
                    ours = pick("ours", bench, d, t)
                    theirs = pick("llama.cpp", bench, d, t)
                    if ours is None or (theirs is None and not llamacpp_skipped):
                        continue
                    print("%-34s %3d %10s %12s %8s" % (
                        "%s, %s" % (label, d), t, fmt(ours, 2),
                        "skipped" if llamacpp_skipped else fmt(theirs, 2),
                        "" if llamacpp_skipped else fmt_ratio(ratio(ours, theirs))))

    # The same llama2.c checkpoint (f32) through ours and the plain C run.c anchor.
    anchor_builds = sorted({r.get("isa") for r in rows if r.get("impl") == "c-anchor"})
    if anchor_builds:
        print()
        header = "%-34s %3s %10s %12s %8s" % ("same llama2.c .bin (f32) vs plain C", "thr", "ours",
                                               "C anchor", "ratio")
        print(header)
        print("-" * len(header))
        for t in threads:
            ours = pick("ours", "decode", "F32", t)
            for isa in anchor_builds:
                theirs = max([r["tok_s"] for r in rows if r.get("impl") == "c-anchor"
                              and r.get("isa") == isa and r.get("threads") == t] or [None],
                             key=lambda v: -1 if v is None else v)
                if theirs is None:
                    continue
                label = "decode tok/s, C %s" % ("-march=native" if isa != "sse" else "x86-64-v2")
                print("%-34s %3d %10s %12s %8s" % (label, t, fmt(ours, 2), fmt(theirs, 2),
                                                   fmt_ratio(ratio(ours, theirs))))

    # Decode against the memory bandwidth measured in the same run.
    threads_bw = threads if any(r.get("bench") == "memory_bandwidth" for r in rows) else []
    if threads_bw:
        print()
        header = "%-34s %3s %12s %8s %12s %12s %9s" % (
            "decode vs memory bandwidth", "thr", "GB/token", "tok/s", "GB/s read", "bandwidth",
            "fraction")
        print(header)
        print("-" * len(header))
    for t in threads_bw:
        bandwidth = pick("ours", "memory_bandwidth", None, t, "read_gb_s")
        copy = pick("ours", "memory_bandwidth", None, t, "copy_gb_s")
        print("%-34s %3d %12s %8s %12s %12s %9s" % (
            "measured: read (copy %s GB/s)" % fmt(copy), t, "", "", "", fmt(bandwidth), ""))
        candidates = [("ours %s" % d, first("ours", "decode", d, t), pick("ours", "decode", d, t))
                      for d in ours_llama]
        for isa in anchor_builds:
            records = [r for r in rows if r.get("impl") == "c-anchor" and r.get("isa") == isa
                       and r.get("threads") == t]
            if records:
                best = max(records, key=lambda r: r["tok_s"])
                candidates.append(("C run.c anchor F32 (%s)" % isa, best, best["tok_s"]))
        if not anchor_note:
            candidates += [("PyTorch %s" % d, first("pytorch", "decode", d, t),
                            pick("pytorch", "decode", d, t)) for d in ("f32", "f32-mv", "bf16")]
        for label, record, tok_s in candidates:
            if record is None or tok_s is None:
                continue
            gb = record.get("weight_gb_per_token")
            streamed = gb * tok_s if gb is not None else None
            print("%-34s %3d %12s %8s %12s %12s %9s" % (
                label, t, fmt(gb, 3), fmt(tok_s, 2), fmt(streamed), fmt(bandwidth),
                "-" if streamed is None or not bandwidth else "%.0f%%" % (100 * streamed / bandwidth)))

    print()
    print("(*) PyTorch f32 decode with torch.mv for the one-token products instead of nn.Linear's")
    print("    F.linear (what transformers runs), which in torch 1.13 + Debian's OpenBLAS goes")
    print("    through sgemm and repacks every weight matrix per token.")
    print("target: >= %.0fx PyTorch CPU (f32, its default) at batch-1 decode and at encoder batch 32"
          % TARGET)
    if anchor_note:
        print("  not checked: PyTorch %s" % anchor_note)
    for label, r in verdicts:
        if r is None:
            continue
        print("  %-62s %7s  %s" % (label, fmt_ratio(r), "met" if r >= TARGET else "NOT met"))


if __name__ == "__main__":
    main()

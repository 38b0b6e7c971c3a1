#!/usr/bin/python3
"""Writes llama_fixture.json: reference encodings from Debian's python3-sentencepiece.

Usage: /usr/bin/python3 make_llama_fixture.py /work/shared/tokenizers/llama2/tokenizer.model > llama_fixture.json

The ids are `SentencePieceProcessor.encode(text)` (no BOS/EOS), i.e. exactly what
`tessera tokenize` prints for a SentencePiece model.
"""
import json
import sys

import sentencepiece as spm

TEXTS = [
    "Hello world",
    "Hello, world! How are you?",
    "The quick brown fox jumps over the lazy dog.",
    "  leading spaces",
    "trailing spaces   ",
    "multiple   spaces    between words",
    " ",
    "a",
    "line one\nline two\n\nline four",
    "tabs\tand\tmore\ttabs",
    "Numbers: 1234567890 and 3.14159, -42, 1e-9",
    "Prices cost $19.99 (or €17,50) — 20% off!",
    "日本語のテキストです。",
    "中文分词测试：我们今天去北京。",
    "한국어 문장입니다",
    "Emoji test 😀🎉👍🏽 done",
    "Café naïve résumé coöperate São Paulo Zürich",
    "Ελληνικά και русский текст",
    "def foo(x):\n    return x * 2  # comment\n",
    "for (int i = 0; i < n; ++i) { sum += a[i]; }",
    "<s> looks like a control token but is text </s>",
    "URL: https://example.com/path?q=1&r=two#frag",
    "e-mail: someone@example.org",
    "ALL CAPS SENTENCE WITH ACRONYMS LIKE NASA",
    "Mixed\u00a0non-breaking\u2003em-space",
    "Zero\u200bwidth\u200djoiner",
    "Rare chars: \u2603 \u2764\ufe0f \U0001F9EC \u0e01\u0e32\u0e23",
    "Glycogen synthase kinase-3\u03b2 (GSK-3\u03b2) regulates \u03b1-synuclein.",
    "\n\nleading newlines",
    "ends with newline\n",
    "",
]


def main():
    sp = spm.SentencePieceProcessor(model_file=sys.argv[1])
    cases = []
    for text in TEXTS:
        ids = sp.encode(text)
        cases.append({"text": text, "ids": ids, "decoded": sp.decode(ids)})
    json.dump({
        "generator": "make_llama_fixture.py with Debian python3-sentencepiece " + spm.__version__,
        "model": "llama2 tokenizer.model (32000 pieces)",
        "add_bos": False,
        "cases": cases,
    }, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

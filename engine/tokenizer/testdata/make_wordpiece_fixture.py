#!/usr/bin/python3
"""Writes wordpiece_fixture.json: expected BERT-uncased ids derived from vocab.txt.

Neither python3-transformers nor python3-tokenizers is installable here (checked with
`apt-cache policy python3-transformers python3-tokenizers`: no candidate), so this
script is an independent re-implementation of BERT's reference tokenizer
(google-research/bert tokenization.py semantics: BasicTokenizer with clean-text,
CJK splitting, lower-casing + NFD accent stripping, punctuation split; then greedy
longest-match-first WordPiece, max 100 chars per word) using only Python's
`unicodedata`. Written from the algorithm's description, not copied.

Usage: /usr/bin/python3 make_wordpiece_fixture.py /work/shared/models/all-MiniLM-L6-v2/vocab.txt > wordpiece_fixture.json
"""
import json
import sys
import unicodedata

TEXTS = [
    "Hello world",
    "Hello, World! How are you?",
    "The quick brown fox jumps over the lazy dog.",
    "  multiple   spaces\tand\ttabs\nand newlines  ",
    "Café naïve résumé coöperate São Paulo ZÜRICH",
    "Numbers 1234567890, 3.14159 and -42%",
    "unaffable tokenization of antidisestablishmentarianism",
    "中文分词测试：我们今天去北京。",
    "日本語のテキストです",
    "Emoji 😀 and symbols © ® ™ → ∞",
    "Glycogen synthase kinase-3β (GSK-3β) regulates α-synuclein.",
    "control\u0000chars\u0007removed\ufffdhere",
    "don't stop-believing; it's e-mail@example.com",
    "a" * 101 + " short",
    "Ελληνικά και русский текст",
    "",
]


def is_whitespace(ch):
    if ch in (" ", "\t", "\n", "\r"):
        return True
    return unicodedata.category(ch) == "Zs"


def is_control(ch):
    if ch in ("\t", "\n", "\r"):
        return False
    return unicodedata.category(ch).startswith("C")


def is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or
            0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2B73F or
            0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF or
            0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def basic_tokenize(text):
    cleaned = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or is_control(ch):
            continue
        cleaned.append(" " if is_whitespace(ch) else ch)
    spaced = []
    for ch in cleaned:
        if is_cjk(ord(ch)):
            spaced.extend([" ", ch, " "])
        else:
            spaced.append(ch)
    tokens = []
    for word in "".join(spaced).split():
        word = word.lower()
        word = "".join(c for c in unicodedata.normalize("NFD", word)
                       if unicodedata.category(c) != "Mn")
        current = []
        for ch in word:
            if is_punctuation(ch):
                if current:
                    tokens.append("".join(current))
                    current = []
                tokens.append(ch)
            else:
                current.append(ch)
        if current:
            tokens.append("".join(current))
    return tokens


def wordpiece(word, vocab):
    if len(word) > 100:
        return ["[UNK]"]
    pieces = []
    start = 0
    while start < len(word):
        end = len(word)
        found = None
        while start < end:
            candidate = word[start:end]
            if start > 0:
                candidate = "##" + candidate
            if candidate in vocab:
                found = candidate
                break
            end -= 1
        if found is None:
            return ["[UNK]"]
        pieces.append(found)
        start = end
    return pieces


def main():
    vocab = {}
    with open(sys.argv[1], encoding="utf-8") as f:
        for index, line in enumerate(f):
            vocab[line.rstrip("\n")] = index
    cases = []
    for text in TEXTS:
        tokens = [p for w in basic_tokenize(text) for p in wordpiece(w, vocab)]
        cases.append({"text": text, "tokens": tokens,
                      "ids": [vocab[t] for t in tokens]})
    json.dump({
        "generator": "make_wordpiece_fixture.py: independent Python re-implementation of "
                     "BERT's BasicTokenizer + WordpieceTokenizer over all-MiniLM-L6-v2 "
                     "vocab.txt (no transformers/tokenizers package available)",
        "add_special_tokens": False,
        "cases": cases,
    }, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

#!/usr/bin/env node
// Records reference token ids from the Hugging Face `tokenizers` library (the Rust
// library built as a Node addon, npm package "tokenizers") into the JSON fixtures
// that engine/tokenizer/hf_reference_test.cc checks our C++ tokenizers against.
// A developer tool only: CI reads the committed fixtures and never runs npm.
//
//   mkdir -p /tmp/hftok && (cd /tmp/hftok && npm install tokenizers@0.23.2)
//   export HF_TOKENIZERS_MODULE=/tmp/hftok/node_modules/tokenizers
//
//   # Ids of texts (a JSON array of strings or {text, pair?, max_length?}, or an
//   # existing fixture, whose cases' inputs are re-recorded):
//   node tools/hf_tokenizer_fixture.mjs record --tokenizer TOKENIZER.json \
//       --texts TEXTS.json [--name DESCRIPTION] --out FIXTURE.json
//
//   # A small byte-level BPE trained by the library on a text file (or on title
//   # and text of the first --records records of a BEIR corpus.jsonl), cut to the
//   # 256 byte symbols plus the first N merges, with one special token:
//   node tools/hf_tokenizer_fixture.mjs train-bpe --corpus LINES.txt|CORPUS.jsonl \
//       [--records 300] --merges N --out TOKENIZER.json
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);

function parseArgs(argv) {
  const [command, ...rest] = argv;
  const options = {};
  for (let i = 0; i < rest.length; i += 2) {
    if (!rest[i].startsWith('--') || i + 1 >= rest.length) usage(`bad argument ${rest[i]}`);
    options[rest[i].slice(2)] = rest[i + 1];
  }
  return { command, options };
}

function usage(message) {
  console.error(`${message}\nusage: hf_tokenizer_fixture.mjs record --tokenizer F --texts F --out F [--name S]\n` +
                '       hf_tokenizer_fixture.mjs train-bpe --corpus F [--records N] --merges N --out F');
  process.exit(2);
}

function loadLibrary() {
  const where = process.env.HF_TOKENIZERS_MODULE || 'tokenizers';
  const library = require(where);
  const packageJson = JSON.parse(readFileSync(require.resolve(`${where}/package.json`), 'utf8'));
  return { library, version: packageJson.version };
}

function commandLine() {
  const args = process.argv.slice(2).map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a}'`));
  return `node tools/hf_tokenizer_fixture.mjs ${args.join(' ')}`;
}

// Inputs from a JSON array or from an existing fixture's cases.
function readInputs(file) {
  const parsed = JSON.parse(readFileSync(file, 'utf8'));
  const list = Array.isArray(parsed) ? parsed : parsed.cases;
  if (!Array.isArray(list)) usage(`${file}: neither an array nor a fixture with "cases"`);
  return list.map((item) => {
    if (typeof item === 'string') return { text: item };
    const input = { text: item.text };
    if (item.pair !== undefined) input.pair = item.pair;
    if (item.max_length !== undefined) input.max_length = item.max_length;
    return input;
  });
}

async function record(options) {
  for (const key of ['tokenizer', 'texts', 'out']) if (!options[key]) usage(`--${key} is required`);
  const { library, version } = loadLibrary();
  const tokenizer = library.Tokenizer.fromFile(options.tokenizer);
  tokenizer.disablePadding();
  const cases = [];
  for (const input of readInputs(options.texts)) {
    // No truncation unless the case asks for it: our Encode never truncates;
    // EncodePair takes max_length explicitly.
    if (input.max_length !== undefined) {
      tokenizer.setTruncation(input.max_length, { strategy: 'LongestFirst' });
    } else {
      tokenizer.disableTruncation();
    }
    const out = { ...input };
    if (input.pair !== undefined) {
      const encoding = await tokenizer.encode(input.text, input.pair, { addSpecialTokens: true });
      out.ids = encoding.getIds();
      out.type_ids = encoding.getTypeIds();
      out.tokens = encoding.getTokens();
    } else {
      const plain = await tokenizer.encode(input.text, null, { addSpecialTokens: false });
      const wrapped = await tokenizer.encode(input.text, null, { addSpecialTokens: true });
      out.ids = plain.getIds();
      out.tokens = plain.getTokens();
      out.ids_with_special_tokens = wrapped.getIds();
      out.decoded = await tokenizer.decode(wrapped.getIds(), true);
    }
    cases.push(out);
  }
  const fixture = {
    made_with: `tokenizers ${version} (npm), command: ${commandLine()}`,
    tokenizer: options.name || options.tokenizer,
    cases,
  };
  // One case a line: small files, readable diffs.
  const head = JSON.stringify({ made_with: fixture.made_with, tokenizer: fixture.tokenizer }, null, 1);
  const body = cases.map((c) => ` ${JSON.stringify(c)}`).join(',\n');
  writeFileSync(options.out, `${head.slice(0, -2)},\n "cases": [\n${body}\n ]\n}\n`);
  console.error(`${options.out}: ${cases.length} cases`);
}

async function trainBpe(options) {
  for (const key of ['corpus', 'merges', 'out']) if (!options[key]) usage(`--${key} is required`);
  const { library, version } = loadLibrary();
  const mergeCount = Number(options.merges);
  // The Node binding trains with the model's default trainer (no vocab-size
  // option), so train fully, then keep the first merges: a prefix of a BPE merge
  // list is itself a consistent BPE model.
  const trainer = new library.Tokenizer(library.BPE.empty());
  trainer.setPreTokenizer(library.byteLevelPreTokenizer(false, true));
  const scratch = mkdtempSync(path.join(tmpdir(), 'hf-bpe-'));
  let corpus = options.corpus;
  if (corpus.endsWith('.jsonl')) {
    // A BEIR corpus (e.g. SciFact's corpus.jsonl): title and text of the first records.
    const records = readFileSync(corpus, 'utf8').split('\n').filter((l) => l.trim() !== '')
        .slice(0, Number(options.records || 300)).map((l) => JSON.parse(l));
    corpus = path.join(scratch, 'corpus.txt');
    writeFileSync(corpus, records.map((r) => `${r.title}\n${r.text}\n`).join(''));
  }
  trainer.train([corpus]);
  const trainedPath = path.join(scratch, 'trained.json');
  trainer.save(trainedPath);
  const trained = JSON.parse(readFileSync(trainedPath, 'utf8'));
  rmSync(scratch, { recursive: true });
  const merges = trained.model.merges
      .map((m) => (Array.isArray(m) ? m : m.split(' ')))
      .slice(0, mergeCount);
  if (merges.length < mergeCount) usage(`training produced only ${merges.length} merges`);
  // Ids: the 256 byte symbols (sorted, as the trainer orders its alphabet), then
  // each merge's result, then the special token.
  const vocab = {};
  for (const symbol of library.byteLevelAlphabet().sort()) vocab[symbol] = Object.keys(vocab).length;
  for (const [left, right] of merges) {
    if (!(left in vocab) || !(right in vocab)) throw new Error(`merge ${left} ${right} uses unknown parts`);
    if (!(left + right in vocab)) vocab[left + right] = Object.keys(vocab).length;
  }
  const special = '<|endoftext|>';
  const specialId = Object.keys(vocab).length;
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: specialId, content: special, single_word: false, lstrip: false, rstrip: false,
                     normalized: false, special: true }],
    normalizer: null,
    pre_tokenizer: byteLevel,
    // "<|endoftext|> $A": a BOS-style prefix, so that add_special_tokens is exercised.
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: special, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: special, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
             { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { [special]: { id: special, ids: [specialId], tokens: [special] } },
    },
    decoder: byteLevel,
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null,
      end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false,
      vocab, merges,
    },
  };
  writeFileSync(options.out, `${JSON.stringify(tokenizerJson)}\n`);
  // Round trip through the library: the file must load as written.
  const reloaded = library.Tokenizer.fromFile(options.out);
  console.error(`${options.out}: tokenizers ${version}, vocabulary ${reloaded.getVocabSize(true)}, ` +
                `${merges.length} merges`);
}

const { command, options } = parseArgs(process.argv.slice(2));
if (command === 'record') {
  await record(options);
} else if (command === 'train-bpe') {
  await trainBpe(options);
} else {
  usage(`unknown command ${command}`);
}

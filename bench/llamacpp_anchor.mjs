// llama.cpp anchor for bench/engine_vs_pytorch.sh: prefill and batch-1 decode
// of the same GGUF files bench/llama_bench runs, through the prebuilt llama.cpp
// that the npm package node-llama-cpp carries (installed outside the repository:
// `npm install node-llama-cpp @node-llama-cpp/linux-x64` in DIR; no build, no
// network at run time). Timed like ours: best of --repeats runs.
//
//   node bench/llamacpp_anchor.mjs --modules=DIR --model=m.gguf [--model=...]
//        [--threads=1,2] [--prompt_tokens=64] [--decode_tokens=16] [--repeats=2]
//
// Prints one JSON object per line; {"impl": "llama.cpp", "skipped": ...} when the
// package is missing.
import path from "node:path";
import {performance} from "node:perf_hooks";

function emit(fields) {
  console.log(JSON.stringify(fields));
}

const args = {modules: "", models: [], threads: "1,2", prompt_tokens: 64, decode_tokens: 16,
              repeats: 2};
for (const arg of process.argv.slice(2)) {
  const match = /^--([a-z_]+)=(.*)$/.exec(arg);
  if (!match) continue;
  if (match[1] === "model") args.models.push(match[2]);
  else args[match[1]] = match[2];
}

let getLlama, LlamaLogLevel;
try {
  ({getLlama, LlamaLogLevel} = await import(
      path.join(args.modules, "node_modules/node-llama-cpp/dist/index.js")));
} catch (error) {
  emit({impl: "llama.cpp", skipped: "npm install node-llama-cpp @node-llama-cpp/linux-x64 (" +
        String(error.message).split("\n")[0] + ")"});
  process.exit(0);
}

const threadCounts = String(args.threads).split(",").map(Number);
const promptTokens = Number(args.prompt_tokens), decodeTokens = Number(args.decode_tokens);
const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error,
                              maxThreads: Math.max(...threadCounts)});
emit({impl: "llama.cpp", info: "node-llama-cpp prebuilt llama.cpp, CPU"});
for (const modelPath of args.models) {
  const model = await llama.loadModel({modelPath, gpuLayers: 0});
  const vocab = model.tokens.vocabSize ?? 32000;
  const dtype = /q4_0/i.test(modelPath) ? "Q4_0" : /q8_0/i.test(modelPath) ? "Q8_0" :
                /f16/i.test(modelPath) ? "F16" : "?";
  const prompt = Array.from({length: promptTokens}, (_, i) => (i * 7919 + 3) % vocab);
  for (const threads of threadCounts) {
    const context = await model.createContext({
      contextSize: promptTokens + decodeTokens + 16, batchSize: Math.max(512, promptTokens),
      threads: {ideal: threads, min: threads}});
    const sequence = context.getSequence();
    let bestPrefill = 0, bestDecode = 0;
    for (let r = 0; r < Number(args.repeats); ++r) {
      await sequence.clearHistory();
      const start = performance.now();
      let first = 0, generated = 0;
      // The first token comes after the prompt's batch; each later one is a decode step.
      for await (const token of sequence.evaluate(prompt, {temperature: 0})) {
        if (generated === 0) first = performance.now();
        if (++generated > decodeTokens) break;
      }
      const end = performance.now();
      bestPrefill = Math.max(bestPrefill, promptTokens / ((first - start) / 1000));
      bestDecode = Math.max(bestDecode, decodeTokens / ((end - first) / 1000));
    }
    emit({impl: "llama.cpp", bench: "prefill", model: modelPath, dtype, threads,
          tokens: promptTokens, tok_s: bestPrefill});
    emit({impl: "llama.cpp", bench: "decode", model: modelPath, dtype, threads,
          tokens: decodeTokens, tok_s: bestDecode});
    await context.dispose();
  }
  await model.dispose();
}
await llama.dispose();

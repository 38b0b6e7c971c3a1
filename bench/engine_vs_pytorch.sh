#!/usr/bin/env bash
# Tessera's CPU model runtime against PyTorch CPU (Debian's python3-torch, run by
# bench/pytorch_anchor.py) on the same random-weight model files, in one run:
#   - LLaMA at TinyLlama-1.1B shape: batch-1 decode and 64-token prefill, ours on
#     F16 (the same safetensors PyTorch loads), Q8_0 and Q4_0 (GGUF, the same
#     weights quantised), PyTorch in f32 and bf16; decode also as GB/s of weights
#     streamed against the memory bandwidth measured in the same run;
#   - the same model as a llama2.c checkpoint (f32 .bin): decode with ours (the
#     same file loaded by LlamaModel) against bench/c_anchor/llama2c_run, a plain
#     C11 implementation of llama2.c's run.c algorithm (OpenMP over matmul rows),
#     built with the repository's -march and with -march=native as `make runomp`;
#   - BERT at MiniLM-L6 shape: embeddings (passages/s) and cross-encoder scores
#     (pairs/s) at batch 32 x 128 tokens, both in f32 (PyTorch also in bf16).
# Each figure is the best of a few repetitions (other work on the machine only
# ever slows a run down). Prints a table of ours, PyTorch, and the ratio.
#
#   bazel run //bench:engine_vs_pytorch
#   bazel run //bench:engine_vs_pytorch -- --threads=1 --decode_tokens=32 --keep
#
# Flags: --threads=1,2  --decode_tokens=16  --prompt_tokens=64  --repeats=2
#        --work_dir=DIR (default: a fresh directory under $TMPDIR, removed after)
#        --keep (keep the model files)  --skip_llama  --skip_encoder  --skip_c_anchor
#        --python=/usr/bin/python3
#        --llamacpp=DIR: also run llama.cpp (bench/llamacpp_anchor.mjs) on the same
#          GGUF files, from DIR/node_modules after
#          `cd DIR && npm install node-llama-cpp @node-llama-cpp/linux-x64`
set -euo pipefail

threads=1,2
decode_tokens=16
prompt_tokens=64
repeats=2
work_dir=""
keep=0
skip_llama=0
skip_encoder=0
skip_c_anchor=0
python=/usr/bin/python3
llamacpp=""
for arg in "$@"; do
  case "${arg}" in
    --threads=*) threads="${arg#*=}" ;;
    --decode_tokens=*) decode_tokens="${arg#*=}" ;;
    --prompt_tokens=*) prompt_tokens="${arg#*=}" ;;
    --repeats=*) repeats="${arg#*=}" ;;
    --work_dir=*) work_dir="${arg#*=}" ;;
    --keep) keep=1 ;;
    --skip_llama) skip_llama=1 ;;
    --skip_encoder) skip_encoder=1 ;;
    --skip_c_anchor) skip_c_anchor=1 ;;
    --python=*) python="${arg#*=}" ;;
    --llamacpp=*) llamacpp="${arg#*=}" ;;
    *) echo "unknown flag ${arg}" >&2; exit 2 ;;
  esac
done

# Files of this sh_binary: under `bazel run` the runfiles tree sits next to $0.
runfiles="${RUNFILES_DIR:-$0.runfiles}/tessera"
[[ -d "${runfiles}" ]] || runfiles="$(cd "$(dirname "$0")/.." && pwd)"
tessera="${runfiles}/services/tessera"
llama_bench="${runfiles}/bench/llama_bench"
encoder_bench="${runfiles}/bench/encoder_bench"
anchor="${runfiles}/bench/pytorch_anchor.py"
llamacpp_anchor="${runfiles}/bench/llamacpp_anchor.mjs"
table="${runfiles}/bench/compare_table.py"
c_anchor="${runfiles}/bench/c_anchor/llama2c_run"
c_anchor_native="${runfiles}/bench/c_anchor/llama2c_run_native"

if [[ -z "${work_dir}" ]]; then
  work_dir="$(mktemp -d "${TMPDIR:-/tmp}/tessera_engine_vs_pytorch.XXXXXX")"
  [[ ${keep} -eq 1 ]] || trap 'rm -rf "${work_dir}"' EXIT
fi
mkdir -p "${work_dir}"
results="${work_dir}/results.jsonl"
: > "${results}"
started=${SECONDS}

make_random() {  # make_random OUT ARGS...: once per work dir (same seed, same bytes)
  local out=$1; shift
  if [[ ! -e "${out}" ]]; then
    "${tessera}" model make-random "$@" --seed=1 --out="${out}" >/dev/null
  fi
}

echo "writing random models to ${work_dir} ..."
# Two at a time (the writer is single-threaded).
if [[ ${skip_encoder} -eq 0 ]]; then
  make_random "${work_dir}/minilm" --arch=bert --shape=minilm-l6 --format=safetensors --dtype=f32 &
  make_random "${work_dir}/minilm_cross" --arch=bert-cross-encoder --shape=minilm-l6 \
    --format=safetensors --dtype=f32
  wait
fi
if [[ ${skip_llama} -eq 0 ]]; then
  make_random "${work_dir}/tinyllama_f16" --arch=llama --shape=tinyllama-1.1b \
    --format=safetensors --dtype=f16 &
  make_random "${work_dir}/tinyllama_q8_0.gguf" --arch=llama --shape=tinyllama-1.1b \
    --format=gguf --dtype=q8_0
  wait
  make_random "${work_dir}/tinyllama_q4_0.gguf" --arch=llama --shape=tinyllama-1.1b \
    --format=gguf --dtype=q4_0 &
  if [[ ${skip_c_anchor} -eq 0 ]]; then  # 4.4 GB of f32
    make_random "${work_dir}/tinyllama_llama2c/model.bin" --arch=llama --shape=tinyllama-1.1b \
      --format=llama2c --dtype=f32
  fi
  wait
fi
echo "models written in $((SECONDS - started)) s"

have_torch=1
if ! "${python}" -c "import torch" 2>/dev/null; then
  have_torch=0
  echo '{"impl": "pytorch", "skipped": "apt-get install python3-torch"}' >> "${results}"
fi

run() {  # run WHAT COMMAND...: appends the command's JSON lines to the results
  local what=$1; shift
  local start=${SECONDS}
  echo -n "running ${what} ... "
  "$@" | grep '^{' >> "${results}"
  echo "$((SECONDS - start)) s"
}

# Ours, then PyTorch, back to back, so both see the machine in about the same
# state; the encoders (short runs) alternate twice and the table keeps the best.
if [[ ${skip_encoder} -eq 0 ]]; then
  for round in 1 2; do
    run "ours: encoder (round ${round})" "${encoder_bench}" --json --threads="${threads}" \
      --min_batches=2 --min_seconds=1.5 --embedder="${work_dir}/minilm" --reranker="${work_dir}/minilm_cross"
    if [[ ${have_torch} -eq 1 ]]; then
      run "pytorch: encoder (round ${round})" "${python}" "${anchor}" --threads="${threads}" \
        --min_batches=2 --min_encoder_seconds=1.5 --bert="${work_dir}/minilm" --cross="${work_dir}/minilm_cross"
    fi
  done
fi
if [[ ${skip_llama} -eq 0 ]]; then
  for model in tinyllama_f16 tinyllama_q8_0.gguf tinyllama_q4_0.gguf; do
    run "ours: decoder ${model}" "${llama_bench}" --json --scalar=false --threads="${threads}" \
      --repeats="${repeats}" --prompt_tokens="${prompt_tokens}" --gen_tokens="${decode_tokens}" \
      --model="${work_dir}/${model}"
  done
  if [[ -n "${llamacpp}" ]]; then
    run "llama.cpp: decoder" node "${llamacpp_anchor}" --modules="${llamacpp}" \
      --threads="${threads}" --repeats="${repeats}" --prompt_tokens="${prompt_tokens}" \
      --decode_tokens="${decode_tokens}" --model="${work_dir}/tinyllama_q8_0.gguf" \
      --model="${work_dir}/tinyllama_q4_0.gguf"
  else
    echo '{"impl": "llama.cpp", "skipped": "not run; --llamacpp=DIR after cd DIR && npm install node-llama-cpp @node-llama-cpp/linux-x64"}' >> "${results}"
  fi
  if [[ ${skip_c_anchor} -eq 0 ]]; then
    # Ours and the C anchor on the same llama2.c file, alternating per thread count.
    # The anchor feeds its prompt one token at a time as run.c does, so it gets a
    # short one (attention over a few more positions is noise at this size).
    llama2c="${work_dir}/tinyllama_llama2c/model.bin"
    for t in ${threads//,/ }; do
      run "ours: decoder llama2.c f32, ${t} thread(s)" "${llama_bench}" --json --scalar=false \
        --bandwidth=false --threads="${t}" --repeats="${repeats}" --prompt_tokens="${prompt_tokens}" \
        --gen_tokens="${decode_tokens}" --model="${llama2c}"
      for r in $(seq "${repeats}"); do
        run "c anchor (-march of the build), ${t} thread(s)" "${c_anchor}" "${llama2c}" \
          -t "${t}" -n "${decode_tokens}" -p 4
        run "c anchor (-march=native), ${t} thread(s)" "${c_anchor_native}" "${llama2c}" \
          -t "${t}" -n "${decode_tokens}" -p 4
      done
    done
  fi
  if [[ ${have_torch} -eq 1 ]]; then
    run "pytorch: decoder" "${python}" "${anchor}" --threads="${threads}" \
      --llama="${work_dir}/tinyllama_f16" --prompt_tokens="${prompt_tokens}" \
      --decode_tokens="${decode_tokens}" --repeats="${repeats}" --max_decode_seconds=6
  fi
fi

echo
python3 "${table}" "${results}"
echo
echo "total $((SECONDS - started)) s; raw figures: ${results}$([[ ${keep} -eq 1 ]] || echo ' (removed on exit; --keep keeps them)')"

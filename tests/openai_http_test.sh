#!/usr/bin/env bash
# The OpenAI-compatible HTTP API with curl, as an OpenAI client would call it:
# a server with random-weight models (GGUF generator, BERT embedder) and
# --http_port; chat completions (plain and streamed), embeddings, models, errors.
set -uo pipefail

RUNFILES="${TEST_SRCDIR}/${TEST_WORKSPACE}"
TESSERA="${RUNFILES}/services/tessera"
WORK="${TEST_TMPDIR}/openai"
mkdir -p "${WORK}"
failures=0
check() {
  local what=$1; shift
  if "$@"; then echo "ok   ${what}"; else echo "FAIL ${what}"; failures=$((failures + 1)); fi
}

"${TESSERA}" model make-random --arch=llama --shape=tiny-llama --format=gguf --dtype=q8_0 \
  --out="${WORK}/tiny.gguf" >/dev/null || exit 1
"${TESSERA}" model make-random --arch=bert --shape=tiny-bert --format=safetensors \
  --out="${WORK}/embedder" >/dev/null || exit 1

HTTP_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${RUNFILES}/services/tessera_server" --host=127.0.0.1 --port=0 --port_file="${WORK}/port" \
  --http_port="${HTTP_PORT}" --data_dir="${WORK}/data" --log_level=warn \
  --generator_model="${WORK}/tiny.gguf" --embedder_model="${WORK}/embedder" &
pid=$!
trap 'kill -TERM ${pid} 2>/dev/null; wait ${pid} 2>/dev/null' EXIT
BASE="http://127.0.0.1:${HTTP_PORT}"
for _ in $(seq 1 300); do curl -sf "${BASE}/healthz" >/dev/null && break; sleep 0.1; done

body='{"model":"tiny.gguf","messages":[{"role":"user","content":"Say hello"}],"max_tokens":6,"temperature":0}'
out=$(curl -s -H 'Content-Type: application/json' -d "${body}" "${BASE}/v1/chat/completions")
check "chat completion object" python3 -c 'import json,sys; r=json.loads(sys.argv[1]); assert r["object"]=="chat.completion", r; assert r["choices"][0]["message"]["role"]=="assistant"; assert r["usage"]["completion_tokens"]>0' "${out}"

stream_body='{"model":"tiny.gguf","messages":[{"role":"user","content":"Say hello"}],"max_tokens":6,"temperature":0,"stream":true}'
out=$(curl -sN -H 'Content-Type: application/json' -d "${stream_body}" "${BASE}/v1/chat/completions")
check "streamed chunks are server-sent events" grep -q '^data: {.*"chat.completion.chunk"' <<<"${out}"
check "the stream ends with [DONE]" grep -qx 'data: \[DONE\]' <<<"${out}"
plain=$(curl -s -H 'Content-Type: application/json' -d "${body}" "${BASE}/v1/chat/completions")
check "streamed text equals the plain completion" python3 -c '
import json,sys
plain=json.loads(sys.argv[1])["choices"][0]["message"]["content"]
text="".join(json.loads(l[6:])["choices"][0]["delta"].get("content","") for l in sys.argv[2].splitlines() if l.startswith("data: {") and json.loads(l[6:])["choices"])
assert text==plain, (text, plain)' "${plain}" "${out}"

out=$(curl -s -H 'Content-Type: application/json' -d '{"model":"embedder","input":["bone density","aspirin"]}' "${BASE}/v1/embeddings")
check "embeddings for two inputs" python3 -c 'import json,sys; r=json.loads(sys.argv[1]); assert len(r["data"])==2 and len(r["data"][0]["embedding"])>0, r' "${out}"

out=$(curl -s "${BASE}/v1/models")
check "models lists the generator and the embedder" python3 -c 'import json,sys; ids=[m["id"] for m in json.loads(sys.argv[1])["data"]]; assert "tiny.gguf" in ids and "embedder" in ids, ids' "${out}"

code=$(curl -s -o "${WORK}/err.json" -w '%{http_code}' -H 'Content-Type: application/json' -d '{"messages": [' "${BASE}/v1/chat/completions")
check "malformed JSON is a 400" test "${code}" = "400"
check "with an OpenAI error object" python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["error"]; assert e["message"], e' "${WORK}/err.json"
code=$(curl -s -o "${WORK}/err2.json" -w '%{http_code}' -H 'Content-Type: application/json' \
  -d '{"model":"gpt-4","messages":[{"role":"user","content":"x"}]}' "${BASE}/v1/chat/completions")
check "an unknown model is a 404" test "${code}" = "404"

# API keys: once one is issued (here while the server runs), the router requires
# one on every call; the key travels as a bearer token through the HTTP API.
key=$("${TESSERA}" keys create --data_dir="${WORK}/data" --tenant=acme --name=curl 2>/dev/null)
check "keys create prints a key" grep -q '^tsk_' <<<"${key}"
for _ in $(seq 1 40); do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d "${body}" "${BASE}/v1/chat/completions")
  [ "${code}" = "401" ] && break
  sleep 0.25
done
check "without a key the API answers 401" test "${code}" = "401"
out=$(curl -sN -H 'Content-Type: application/json' -H "Authorization: Bearer ${key}" -d "${stream_body}" "${BASE}/v1/chat/completions")
check "with the key, streaming works" grep -qx 'data: \[DONE\]' <<<"${out}"
listed=$("${TESSERA}" keys list --data_dir="${WORK}/data")
check "keys list shows the key" grep -q $'\tacme\tuser\tcurl\t' <<<"${listed}"
check "but never its secret" test "${listed/${key}/}" = "${listed}"

echo "${failures} failure(s)"
exit $(( failures > 0 ))

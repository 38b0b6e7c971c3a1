#!/usr/bin/env bash
# The manifests validate offline (deploy/validate_manifests.py), every server
# config in them is accepted by the real router binary (--check_config), and
# the validator catches typical mistakes: each injected into a copy must fail it.
set -euo pipefail

RUNFILES="${TEST_SRCDIR}/${TEST_WORKSPACE}"
PYTHON=/usr/bin/python3
"${PYTHON}" -c "import yaml" || { echo "python3-yaml is missing (tools/install_deps.sh)"; exit 1; }
ROUTER="${RUNFILES}/services/standalone/router"

# A writable copy (the real router binary checks the config keys).
WORK="${TEST_TMPDIR}/validate"
rm -rf "${WORK}"
mkdir -p "${WORK}"
cp -rL "${RUNFILES}/deploy" "${WORK}/deploy"
chmod -R u+w "${WORK}"

echo "== the manifests as they are"
"${PYTHON}" "${WORK}/deploy/validate_manifests.py" --check-config "${ROUTER}" "${WORK}/deploy"

# expect_failure DESCRIPTION EXPECTED_MESSAGE FILE PYTHON_EXPRESSION_ON_TEXT
expect_failure() {
  local description="$1" expected="$2" file="$3" edit="$4"
  rm -rf "${WORK}/mutated" && cp -r "${WORK}/deploy" "${WORK}/mutated"
  "${PYTHON}" - "${WORK}/mutated/${file}" "${edit}" <<'PY'
import sys
path, edit = sys.argv[1], sys.argv[2]
text = open(path).read()
changed = eval(edit, {"text": text})
assert changed != text, "the mutation changed nothing"
open(path, "w").write(changed)
PY
  local output check=()
  # The real server only where the mutation is in a server config (it is slower).
  [[ "${file}" == *.json ]] && check=(--check-config "${ROUTER}")
  if output="$("${PYTHON}" "${WORK}/deploy/validate_manifests.py" "${check[@]}" "${WORK}/mutated" 2>&1)"; then
    echo "FAIL: ${description}: the validator accepted it"
    exit 1
  fi
  if ! grep -q -- "${expected}" <<<"${output}"; then
    echo "FAIL: ${description}: expected a problem mentioning '${expected}', got:"
    echo "${output}"
    exit 1
  fi
  echo "ok   ${description}: $(grep -m1 -- "${expected}" <<<"${output}")"
}

echo "== mistakes the validator must catch"
expect_failure "a typo in a container field" "unknown container field 'imagePullPolcy'" \
  kubernetes/base/router.yaml 'text.replace("image: registry", "imagePullPolcy: Always\n          image: registry", 1)'
expect_failure "a resource that does not exist" "resource evals.yaml does not exist" \
  kubernetes/base/kustomization.yaml 'text.replace("  - eval.yaml", "  - evals.yaml")'
expect_failure "a Service port that no container has" "targetPort 'grcp'" \
  kubernetes/base/generation.yaml 'text.replace("targetPort: grpc", "targetPort: grcp", 1)'
expect_failure "a probe on the wrong port" "port 50052 is not a container port" \
  kubernetes/base/retrieval/retrieval.yaml 'text.replace("port: 50051", "port: 50052", 1)'
expect_failure "a container without limits" "no memory in resources.limits" \
  kubernetes/base/router.yaml 'text.replace("              memory: 1Gi\n", "", 1)'
expect_failure "a selector that misses its pods" "does not match pod labels" \
  kubernetes/base/generation-canary.yaml 'text.replace("      tessera.ai/track: canary\n  template", "      tessera.ai/track: canry\n  template")'
expect_failure "a GPU in development" "the dev overlay asks for GPUs" \
  kubernetes/overlays/dev/kustomization.yaml 'text.replace("  - path: patches/generation-on-cpu.yaml\n", "")'
expect_failure "an unknown server config key" "shard_timeout" \
  kubernetes/base/config/router.json 'text.replace("shard_timeout_ms", "shard_timeout")'
expect_failure "a shard that is no pod" "is not a pod of StatefulSet" \
  kubernetes/base/config/router.json 'text.replace("retrieval-2.retrieval", "retrieval-3.retrieval")'
expect_failure "a router backend without a Service" "no Service generation-canry" \
  kubernetes/base/config/router.json 'text.replace("generation-canary:50051", "generation-canry:50051")'
expect_failure "a scale target that does not exist" "scaleTargetRef StatefulSet/routr" \
  kubernetes/base/router.yaml 'text.replace("    name: router\n  minReplicas", "    name: routr\n  minReplicas")'
expect_failure "a root user in an image" "stage router runs as root" \
  docker/Dockerfile 'text.replace("COPY --from=build /out/router", "USER root\nCOPY --from=build /out/router")'
echo "PASS"

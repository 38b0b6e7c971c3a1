#!/usr/bin/env python3
"""Offline checks of Tessera's Kubernetes manifests and container build.

Renders every kustomization under deploy/kubernetes (the base and each overlay)
with a small built-in Kustomize (the features these manifests use: resources,
namespace, name suffixes with reference updates, labels, images, replicas,
strategic-merge patches with targets, configMapGenerator), then checks:

  - every kustomization's resources, patches and generator files exist;
  - kinds and apiVersions, required fields, and the keys used in pod specs,
    containers and probes (a typo is an error, as the API server would say);
  - workload selectors match their pod labels; Services and PodDisruptionBudgets
    select pods that exist; Service target ports and probe ports are container
    ports; HorizontalPodAutoscalers target existing workloads;
  - readiness and liveness probes on every container, gRPC health where the
    container serves gRPC; CPU and memory requests and limits; non-root pods;
  - volumes: mounts name volumes or claim templates; ConfigMaps and
    PersistentVolumeClaims referenced exist; no pod under two budgets;
  - GPU containers: GPU limits with a node selector; the dev overlay has none;
  - server configs (config.json in ConfigMaps) parse, use known keys, name
    shards that are pods of a StatefulSet and backends that are Services;
  - deploy/docker/Dockerfile: a final stage per binary, Debian base, non-root.

With --kubectl and kubectl on PATH, also compares each rendering with
`kubectl kustomize` (kinds, names, namespaces). With --check-config BINARY,
every config.json is also parsed by the real server (BINARY --check_config).

Usage: validate_manifests.py [--kubectl] [--check-config BINARY] [DEPLOY_DIR]
Exit status 0 when everything passes; problems are printed one per line.
"""

import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

API_VERSIONS = {
    "Namespace": "v1",
    "ServiceAccount": "v1",
    "Service": "v1",
    "ConfigMap": "v1",
    "PersistentVolumeClaim": "v1",
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "HorizontalPodAutoscaler": "autoscaling/v2",
    "PodDisruptionBudget": "policy/v1",
}
CLUSTER_SCOPED = {"Namespace"}
WORKLOADS = {"Deployment", "StatefulSet"}

# Keys allowed where typos hide best (a subset of the API's fields).
POD_SPEC_KEYS = {
    "containers", "initContainers", "volumes", "serviceAccountName", "securityContext",
    "nodeSelector", "tolerations", "affinity", "terminationGracePeriodSeconds",
    "topologySpreadConstraints", "priorityClassName", "automountServiceAccountToken",
    "imagePullSecrets", "restartPolicy", "dnsPolicy", "hostname", "subdomain",
}
CONTAINER_KEYS = {
    "name", "image", "imagePullPolicy", "command", "args", "env", "envFrom", "ports",
    "resources", "readinessProbe", "livenessProbe", "startupProbe", "volumeMounts",
    "securityContext", "lifecycle", "workingDir",
}
PROBE_KEYS = {
    "grpc", "httpGet", "tcpSocket", "exec", "initialDelaySeconds", "periodSeconds",
    "timeoutSeconds", "failureThreshold", "successThreshold", "terminationGracePeriodSeconds",
}
WORKLOAD_SPEC_KEYS = {
    "Deployment": {"replicas", "selector", "template", "strategy", "minReadySeconds",
                   "revisionHistoryLimit", "progressDeadlineSeconds", "paused"},
    "StatefulSet": {"replicas", "selector", "template", "serviceName", "volumeClaimTemplates",
                    "podManagementPolicy", "updateStrategy", "revisionHistoryLimit",
                    "minReadySeconds", "persistentVolumeClaimRetentionPolicy", "ordinals"},
}
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
GPU = "nvidia.com/gpu"
# Standalone binaries that need a final Dockerfile stage each.
BINARIES = ["router", "ingest_server", "retrieval_server", "generation_server",
            "agents_server", "eval_server"]


class Problems:
    def __init__(self):
        self.items = []

    def add(self, where, message):
        self.items.append(f"{where}: {message}")


# ---------------------------------------------------------------------------
# Rendering (a Kustomize subset)

def load_yaml_documents(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def strategic_merge(base, patch):
    """Strategic merge patch: maps merge, null deletes, named lists merge by name."""
    if not isinstance(base, dict) or not isinstance(patch, dict):
        return copy.deepcopy(patch)
    merged = copy.deepcopy(base)
    for key, value in patch.items():
        if key == "$patch":
            continue
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = strategic_merge(merged[key], value)
        elif (isinstance(value, list) and isinstance(merged.get(key), list)
              and all(isinstance(v, dict) and list_key(v) for v in value)
              and all(isinstance(v, dict) and list_key(v) for v in merged[key])):
            items = merged[key]
            for entry in value:
                found = next((i for i, e in enumerate(items) if list_key(e) == list_key(entry)), None)
                if found is None:
                    items.append(copy.deepcopy(entry))
                else:
                    items[found] = strategic_merge(items[found], entry)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def list_key(entry):
    """The merge key of a list entry: its name (or its metadata's)."""
    if "name" in entry:
        return entry["name"]
    if isinstance(entry.get("metadata"), dict):
        return entry["metadata"].get("name")
    return None


def labels_match(selector, labels):
    return all(labels.get(k) == v for k, v in (selector or {}).items())


def parse_label_selector(text):
    selector = {}
    for part in text.split(","):
        key, _, value = part.partition("=")
        selector[key.strip()] = value.strip()
    return selector


def pod_template_specs(obj):
    if obj.get("kind") in WORKLOADS:
        template = obj.get("spec", {}).get("template", {})
        return [template]
    return []


def containers_of(obj):
    out = []
    for template in pod_template_specs(obj):
        spec = template.get("spec", {})
        out += spec.get("containers", []) + spec.get("initContainers", [])
    return out


def rename_references(objects, renamed):
    """Points references at objects renamed in this kustomization to the new names."""
    def new_name(kind, name):
        return renamed.get((kind, name), name)

    for obj in objects:
        kind = obj.get("kind")
        spec = obj.get("spec", {})
        if kind == "StatefulSet" and "serviceName" in spec:
            spec["serviceName"] = new_name("Service", spec["serviceName"])
        if kind == "HorizontalPodAutoscaler":
            target = spec.get("scaleTargetRef", {})
            if "name" in target:
                target["name"] = new_name(target.get("kind"), target["name"])
        for template in pod_template_specs(obj):
            pod = template.get("spec", {})
            for volume in pod.get("volumes", []):
                if "configMap" in volume:
                    volume["configMap"]["name"] = new_name("ConfigMap", volume["configMap"]["name"])
                if "persistentVolumeClaim" in volume:
                    claim = volume["persistentVolumeClaim"]
                    claim["claimName"] = new_name("PersistentVolumeClaim", claim["claimName"])
            if "serviceAccountName" in pod:
                pod["serviceAccountName"] = new_name("ServiceAccount", pod["serviceAccountName"])


def generate_config_maps(directory, kustomization, problems, where):
    generated = []
    for generator in kustomization.get("configMapGenerator", []) or []:
        data = {}
        for entry in generator.get("files", []) or []:
            key, _, path = entry.partition("=") if "=" in entry else (os.path.basename(entry), "", entry)
            full = os.path.join(directory, path)
            if not os.path.isfile(full):
                problems.add(where, f"configMapGenerator {generator.get('name')}: no file {path}")
                continue
            with open(full, encoding="utf-8") as f:
                data[key] = f.read()
        for literal in generator.get("literals", []) or []:
            key, _, value = literal.partition("=")
            data[key] = value
        generated.append((generator.get("behavior", "create"), {
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": generator["name"]}, "data": data}))
    return generated


def render(directory, problems, stack=()):
    """The objects a kustomization directory produces."""
    path = os.path.join(directory, "kustomization.yaml")
    where = os.path.relpath(path)
    if not os.path.isfile(path):
        problems.add(os.path.relpath(directory), "no kustomization.yaml")
        return []
    if directory in stack:
        problems.add(where, "resources form a cycle")
        return []
    kustomization = load_yaml_documents(path)[0]
    if kustomization.get("kind", "Kustomization") != "Kustomization":
        problems.add(where, f"kind is {kustomization.get('kind')}, not Kustomization")
    objects = []
    for resource in kustomization.get("resources", []) or []:
        full = os.path.normpath(os.path.join(directory, resource))
        if os.path.isdir(full):
            objects += render(full, problems, stack + (directory,))
        elif os.path.isfile(full):
            objects += load_yaml_documents(full)
        else:
            problems.add(where, f"resource {resource} does not exist")

    for behavior, config_map in generate_config_maps(directory, kustomization, problems, where):
        existing = next((o for o in objects if o.get("kind") == "ConfigMap"
                         and o["metadata"]["name"] == config_map["metadata"]["name"]), None)
        if behavior == "create":
            if existing is not None:
                problems.add(where, f"ConfigMap {config_map['metadata']['name']} generated twice")
            objects.append(config_map)
        elif existing is None:
            problems.add(where, f"configMapGenerator {behavior}: no ConfigMap "
                                f"{config_map['metadata']['name']} to {behavior}")
        elif behavior == "replace":
            existing["data"] = config_map["data"]
        else:
            existing.setdefault("data", {}).update(config_map["data"])

    prefix = kustomization.get("namePrefix", "")
    suffix = kustomization.get("nameSuffix", "")
    if prefix or suffix:
        renamed = {}
        for obj in objects:
            if obj.get("kind") == "Namespace":
                continue
            old = obj["metadata"]["name"]
            obj["metadata"]["name"] = prefix + old + suffix
            renamed[(obj["kind"], old)] = obj["metadata"]["name"]
        rename_references(objects, renamed)

    for entry in kustomization.get("labels", []) or []:
        pairs = entry.get("pairs", {})
        for obj in objects:
            obj["metadata"].setdefault("labels", {}).update(pairs)
            if not entry.get("includeSelectors"):
                continue
            spec = obj.get("spec", {})
            if obj["kind"] in WORKLOADS or obj["kind"] == "PodDisruptionBudget":
                spec.setdefault("selector", {}).setdefault("matchLabels", {}).update(pairs)
            if obj["kind"] == "Service":
                spec.setdefault("selector", {}).update(pairs)
            for template in pod_template_specs(obj):
                template.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)

    for patch_entry in kustomization.get("patches", []) or []:
        patch_path = os.path.join(directory, patch_entry.get("path", ""))
        if not os.path.isfile(patch_path):
            problems.add(where, f"patch {patch_entry.get('path')} does not exist")
            continue
        target = patch_entry.get("target")
        for patch in load_yaml_documents(patch_path):
            if target:
                selector = parse_label_selector(target["labelSelector"]) if "labelSelector" in target else {}
                matches = [o for o in objects if o.get("kind") == target.get("kind")
                           and ("name" not in target or o["metadata"]["name"] == target["name"])
                           and labels_match(selector, o["metadata"].get("labels", {}))]
            else:
                matches = [o for o in objects if o.get("kind") == patch.get("kind")
                           and o["metadata"]["name"] == patch.get("metadata", {}).get("name")]
            if not matches:
                problems.add(where, f"patch {patch_entry.get('path')} matches no object")
            for obj in matches:
                if patch.get("$patch") == "delete":
                    objects.remove(obj)
                    continue
                body = {k: v for k, v in patch.items() if k not in ("apiVersion", "kind", "metadata")}
                merged = strategic_merge(obj, body)
                obj.clear()
                obj.update(merged)

    for replica in kustomization.get("replicas", []) or []:
        matches = [o for o in objects if o.get("kind") in WORKLOADS
                   and o["metadata"]["name"] == replica["name"]]
        if not matches:
            problems.add(where, f"replicas: no workload {replica['name']}")
        for obj in matches:
            obj["spec"]["replicas"] = replica["count"]

    for image in kustomization.get("images", []) or []:
        used = False
        for obj in objects:
            for container in containers_of(obj):
                name, _, tag = container.get("image", "").partition(":")
                if name != image["name"]:
                    continue
                used = True
                container["image"] = (image.get("newName", name) + ":" +
                                      str(image.get("newTag", tag or "latest")))
        if not used:
            problems.add(where, f"images: no container uses {image['name']}")

    namespace = kustomization.get("namespace")
    if namespace:
        for obj in objects:
            if obj.get("kind") not in CLUSTER_SCOPED:
                obj["metadata"]["namespace"] = namespace
    return objects


# ---------------------------------------------------------------------------
# Checks

def check_keys(where, mapping, allowed, problems, what):
    for key in mapping:
        if key not in allowed:
            problems.add(where, f"unknown {what} field {key!r}")


def named_ports(container):
    return {p.get("name"): p.get("containerPort") for p in container.get("ports", [])}


def check_probe(where, probe, container, problems):
    check_keys(where, probe, PROBE_KEYS, problems, "probe")
    ports = named_ports(container)
    numbers = set(ports.values())
    handlers = [k for k in ("grpc", "httpGet", "tcpSocket", "exec") if k in probe]
    if len(handlers) != 1:
        problems.add(where, f"needs exactly one handler, has {handlers}")
        return
    handler = probe[handlers[0]]
    if handlers[0] == "exec":
        return
    port = handler.get("port")
    if isinstance(port, str):
        if handlers[0] == "grpc":
            problems.add(where, "gRPC probe ports must be numbers")
        elif port not in ports:
            problems.add(where, f"port {port!r} is not a named container port")
    elif port not in numbers:
        problems.add(where, f"port {port} is not a container port")


def check_container(where, container, problems):
    check_keys(where, container, CONTAINER_KEYS, problems, "container")
    if not container.get("image"):
        problems.add(where, "no image")
    elif ":" not in container["image"].rsplit("/", 1)[-1]:
        problems.add(where, f"image {container['image']} has no tag")
    for probe in ("readinessProbe", "livenessProbe"):
        if probe not in container:
            problems.add(where, f"no {probe}")
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        if probe in container:
            check_probe(f"{where} {probe}", container[probe], container, problems)
    serves_grpc = any(p.get("name") == "grpc" for p in container.get("ports", []))
    if serves_grpc and "grpc" not in container.get("readinessProbe", {}):
        problems.add(where, "serves gRPC but its readiness probe is not the gRPC health check")
    resources = container.get("resources", {})
    for section in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            if resource not in resources.get(section, {}):
                problems.add(where, f"no {resource} in resources.{section}")
    limits = resources.get("limits", {})
    requests = resources.get("requests", {})
    if GPU in limits or GPU in requests:
        if limits.get(GPU) != requests.get(GPU, limits.get(GPU)):
            problems.add(where, f"{GPU} requests and limits differ")


def check_workload(where, obj, objects, problems):
    spec = obj.get("spec", {})
    check_keys(where, spec, WORKLOAD_SPEC_KEYS[obj["kind"]], problems, obj["kind"] + " spec")
    match = spec.get("selector", {}).get("matchLabels")
    template = spec.get("template", {})
    labels = template.get("metadata", {}).get("labels", {})
    if not match:
        problems.add(where, "no spec.selector.matchLabels")
    elif not labels_match(match, labels):
        problems.add(where, f"selector {match} does not match pod labels {labels}")
    pod = template.get("spec", {})
    check_keys(where, pod, POD_SPEC_KEYS, problems, "pod spec")
    if not pod.get("containers"):
        problems.add(where, "no containers")
    security = pod.get("securityContext", {})
    for container in pod.get("containers", []):
        cwhere = f"{where} container {container.get('name')}"
        check_container(cwhere, container, problems)
        runs_as = container.get("securityContext", {}).get("runAsNonRoot", security.get("runAsNonRoot"))
        if runs_as is not True:
            problems.add(cwhere, "does not set runAsNonRoot: true")
        if container.get("securityContext", {}).get("runAsUser", security.get("runAsUser")) == 0:
            problems.add(cwhere, "runs as uid 0")
        gpu = GPU in container.get("resources", {}).get("limits", {})
        if gpu and not (pod.get("nodeSelector") or pod.get("affinity")):
            problems.add(cwhere, "asks for a GPU but selects no GPU nodes")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    claims = {t["metadata"]["name"] for t in spec.get("volumeClaimTemplates", [])}
    for container in pod.get("containers", []):
        for mount in container.get("volumeMounts", []):
            if mount["name"] not in volumes and mount["name"] not in claims:
                problems.add(where, f"mount {mount['name']} names no volume or claim template")
    namespace = obj["metadata"].get("namespace")
    for volume in volumes.values():
        if "configMap" in volume and not find(objects, "ConfigMap", volume["configMap"]["name"], namespace):
            problems.add(where, f"volume {volume['name']}: no ConfigMap {volume['configMap']['name']}")
        claim = volume.get("persistentVolumeClaim")
        if claim and not find(objects, "PersistentVolumeClaim", claim["claimName"], namespace):
            problems.add(where, f"volume {volume['name']}: no PersistentVolumeClaim {claim['claimName']}")
    account = pod.get("serviceAccountName")
    if account and not find(objects, "ServiceAccount", account, namespace):
        problems.add(where, f"no ServiceAccount {account}")
    if obj["kind"] == "StatefulSet":
        service = find(objects, "Service", spec.get("serviceName"), namespace)
        if service is None:
            problems.add(where, f"serviceName {spec.get('serviceName')}: no such Service")
        elif service["spec"].get("clusterIP") != "None":
            problems.add(where, f"Service {spec.get('serviceName')} must be headless (clusterIP: None)")
        for claim in spec.get("volumeClaimTemplates", []):
            if "storage" not in claim.get("spec", {}).get("resources", {}).get("requests", {}):
                problems.add(where, f"claim template {claim['metadata']['name']} requests no storage")


def find(objects, kind, name, namespace):
    for obj in objects:
        if (obj.get("kind") == kind and obj["metadata"].get("name") == name
                and obj["metadata"].get("namespace") == namespace):
            return obj
    return None


def pods_selected(objects, selector, namespace):
    return [o for o in objects if o.get("kind") in WORKLOADS
            and o["metadata"].get("namespace") == namespace
            and labels_match(selector, o["spec"]["template"]["metadata"].get("labels", {}))]


def check_service(where, obj, objects, problems):
    spec = obj.get("spec", {})
    selector = spec.get("selector")
    if not selector:
        problems.add(where, "no selector")
        return
    workloads = pods_selected(objects, selector, obj["metadata"].get("namespace"))
    if not workloads:
        problems.add(where, f"selector {selector} matches no pods")
    for port in spec.get("ports", []):
        if "port" not in port:
            problems.add(where, f"port {port.get('name')} has no port number")
        target = port.get("targetPort", port.get("port"))
        for workload in workloads:
            container_ports = {}
            for container in containers_of(workload):
                container_ports.update(named_ports(container))
            if isinstance(target, str) and target not in container_ports:
                problems.add(where, f"targetPort {target!r} is not a port of {workload['metadata']['name']}")
            if isinstance(target, int) and target not in container_ports.values():
                problems.add(where, f"targetPort {target} is not a port of {workload['metadata']['name']}")


def check_hpa(where, obj, objects, problems):
    spec = obj.get("spec", {})
    target = spec.get("scaleTargetRef", {})
    workload = find(objects, target.get("kind"), target.get("name"), obj["metadata"].get("namespace"))
    if workload is None:
        problems.add(where, f"scaleTargetRef {target.get('kind')}/{target.get('name')} does not exist")
    if spec.get("minReplicas", 1) > spec.get("maxReplicas", 0):
        problems.add(where, "minReplicas is above maxReplicas")
    types = [m.get("type") for m in spec.get("metrics", [])]
    if not any(m.get("type") == "Resource" and m["resource"]["name"] == "cpu"
               for m in spec.get("metrics", [])):
        problems.add(where, "does not scale on CPU")
    if "Pods" not in types:
        problems.add(where, "does not scale on a per-pod load metric (queue length)")


def check_pdb(where, obj, objects, problems, budgets_of_workload):
    spec = obj.get("spec", {})
    if ("minAvailable" in spec) == ("maxUnavailable" in spec):
        problems.add(where, "needs exactly one of minAvailable and maxUnavailable")
    selector = spec.get("selector", {}).get("matchLabels")
    workloads = pods_selected(objects, selector, obj["metadata"].get("namespace")) if selector else []
    if not workloads:
        problems.add(where, f"selector {selector} matches no pods")
    for workload in workloads:
        budgets_of_workload.setdefault(workload["metadata"]["name"], []).append(obj["metadata"]["name"])
        replicas = workload["spec"].get("replicas", 1)
        if isinstance(spec.get("minAvailable"), int) and spec["minAvailable"] >= replicas > 0 \
                and len(workloads) == 1:
            problems.add(where, f"minAvailable {spec['minAvailable']} with {replicas} replicas "
                                "blocks every eviction")


def check_server_config(where, text, objects, namespace, known_keys, problems):
    try:
        config = json.loads(text)
    except ValueError as error:
        problems.add(where, f"config.json is not JSON: {error}")
        return
    for key in config:
        if known_keys and key not in known_keys:
            problems.add(where, f"config.json: unknown key {key!r}")
    for entry in config.get("retrieval_shards", []):
        _, _, addresses = entry.rpartition("=")
        for address in addresses.split("|"):
            host, _, port = address.rpartition(":")
            pod, _, service = host.partition(".")
            sets = [o for o in objects if o.get("kind") == "StatefulSet"
                    and o["metadata"].get("namespace") == namespace
                    and o["spec"].get("serviceName") == service.split(".")[0]]
            ordinal = pod.rsplit("-", 1)
            if not sets:
                problems.add(where, f"shard address {address}: no StatefulSet behind Service {service}")
                continue
            workload = sets[0]
            if len(ordinal) != 2 or ordinal[0] != workload["metadata"]["name"] \
                    or not ordinal[1].isdigit() or int(ordinal[1]) >= workload["spec"].get("replicas", 1):
                problems.add(where, f"shard address {address} is not a pod of StatefulSet "
                                    f"{workload['metadata']['name']}")
            if not any(int(port) == p for c in containers_of(workload) for p in named_ports(c).values()):
                problems.add(where, f"shard address {address}: port {port} is not served")
    for backend in config.get("router", {}).get("backends", []):
        if backend.get("kind") != "grpc":
            continue
        host, _, port = backend.get("address", "").rpartition(":")
        service = find(objects, "Service", host.split(".")[0], namespace)
        if service is None:
            problems.add(where, f"router backend {backend.get('name')}: no Service {host}")
        elif not any(p.get("port") == int(port) for p in service["spec"].get("ports", [])):
            problems.add(where, f"router backend {backend.get('name')}: Service {host} has no port {port}")


def check_rendering(name, objects, problems, known_keys):
    seen = set()
    budgets_of_workload = {}
    for obj in objects:
        kind = obj.get("kind")
        meta = obj.get("metadata", {})
        where = f"{name} {kind}/{meta.get('name')}"
        if kind not in API_VERSIONS:
            problems.add(where, f"unexpected kind {kind}")
            continue
        if obj.get("apiVersion") != API_VERSIONS[kind]:
            problems.add(where, f"apiVersion {obj.get('apiVersion')}, expected {API_VERSIONS[kind]}")
        if not meta.get("name") or not DNS_LABEL.match(meta["name"]) or len(meta["name"]) > 63:
            problems.add(where, "metadata.name is not a DNS label")
        key = (kind, meta.get("namespace"), meta.get("name"))
        if key in seen:
            problems.add(where, "defined twice")
        seen.add(key)
        if kind in WORKLOADS:
            check_workload(where, obj, objects, problems)
        elif kind == "Service":
            check_service(where, obj, objects, problems)
        elif kind == "HorizontalPodAutoscaler":
            check_hpa(where, obj, objects, problems)
        elif kind == "PodDisruptionBudget":
            check_pdb(where, obj, objects, problems, budgets_of_workload)
        elif kind == "ConfigMap" and "config.json" in obj.get("data", {}):
            check_server_config(where, obj["data"]["config.json"], objects, meta.get("namespace"),
                                known_keys, problems)
    for workload, budgets in budgets_of_workload.items():
        if len(budgets) > 1:
            problems.add(f"{name} {workload}", f"pods under several budgets {budgets}: not evictable")


def check_dockerfile(path, problems):
    if not os.path.isfile(path):
        problems.add(path, "missing")
        return
    with open(path, encoding="utf-8") as f:
        lines = [line.strip() for line in f]
    stages = {}
    current = None
    for line in lines:
        match = re.match(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", line, re.IGNORECASE)
        if match:
            current = match.group(2) or f"stage{len(stages)}"
            base = match.group(1)
            stages[current] = {"base": base, "user": stages.get(base, {}).get("user")}
            if base not in stages and not base.startswith("debian:"):
                problems.add(path, f"stage {current} is not based on Debian ({base})")
        elif current and re.match(r"^USER\s+", line):
            stages[current]["user"] = line.split()[1]
    if len(stages) < 2:
        problems.add(path, "not a multi-stage build")
    for binary in BINARIES:
        if binary not in stages:
            problems.add(path, f"no final stage for {binary}")
            continue
        user = stages[binary]["user"]
        if user is None or user.split(":")[0] in ("0", "root"):
            problems.add(path, f"stage {binary} runs as root")


def compare_with_kubectl(directory, objects, problems):
    result = subprocess.run(["kubectl", "kustomize", directory], capture_output=True, text=True)
    if result.returncode != 0:
        problems.add(directory, f"kubectl kustomize failed: {result.stderr.strip()}")
        return
    theirs = {(o["kind"], o["metadata"].get("namespace"), re.sub(r"-[a-z0-9]{10}$", "", o["metadata"]["name"])
               if o["kind"] == "ConfigMap" else o["metadata"]["name"])
              for o in yaml.safe_load_all(result.stdout) if o}
    ours = {(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in objects}
    if theirs != ours:
        problems.add(directory, f"differs from kubectl kustomize: only ours {sorted(ours - theirs)}, "
                                f"only kubectl's {sorted(theirs - ours)}")


def server_config_keys(root):
    """The config keys services/server_config.cc accepts (empty when not found)."""
    path = os.path.join(root, "services", "server_config.cc")
    if not os.path.isfile(path):
        return set()
    with open(path, encoding="utf-8") as f:
        return set(re.findall(r'key == "([a-z_]+)"', f.read()))


def check_with_binary(binary, name, objects, problems):
    for obj in objects:
        if obj.get("kind") != "ConfigMap" or "config.json" not in obj.get("data", {}):
            continue
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            f.write(obj["data"]["config.json"])
        result = subprocess.run([binary, f"--config={f.name}", "--check_config"],
                                capture_output=True, text=True)
        os.unlink(f.name)
        if result.returncode != 0:
            problems.add(f"{name} ConfigMap/{obj['metadata']['name']}",
                         f"the server rejects config.json: {result.stderr.strip()}")


def main(argv):
    use_kubectl = "--kubectl" in argv
    binary = None
    args = [a for a in argv[1:] if a != "--kubectl"]
    if "--check-config" in args:
        i = args.index("--check-config")
        binary = args[i + 1]
        del args[i:i + 2]
    deploy = os.path.abspath(args[0] if args else os.path.dirname(os.path.abspath(__file__)))
    root = os.path.dirname(deploy)
    os.chdir(root)
    problems = Problems()
    known_keys = server_config_keys(root)
    kubernetes = os.path.join(deploy, "kubernetes")
    directories = sorted(os.path.dirname(os.path.join(d, f))
                         for d, _, files in os.walk(kubernetes) for f in files
                         if f == "kustomization.yaml")
    if not directories:
        problems.add(kubernetes, "no kustomization.yaml found")
    for directory in directories:
        objects = render(directory, problems)
        name = os.path.relpath(directory, deploy)
        # Components (a unit used by another kustomization) are checked as part
        # of what includes them; the roots are checked whole.
        if os.path.basename(os.path.dirname(directory)) in ("overlays",) or \
                os.path.basename(directory) == "base":
            check_rendering(name, objects, problems, known_keys)
            if binary:
                check_with_binary(binary, name, objects, problems)
            if use_kubectl and shutil.which("kubectl"):
                compare_with_kubectl(directory, objects, problems)
            kinds = {}
            for obj in objects:
                kinds[obj["kind"]] = kinds.get(obj["kind"], 0) + 1
            print(f"{name}: {len(objects)} objects " +
                  ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())))
            if name.endswith("dev") and any(GPU in c.get("resources", {}).get("limits", {})
                                            for o in objects for c in containers_of(o)):
                problems.add(name, "the dev overlay asks for GPUs")
            if not name.endswith("dev") and not any(
                    GPU in c.get("resources", {}).get("limits", {})
                    for o in objects if o["metadata"]["name"] == "generation"
                    for c in containers_of(o)):
                problems.add(name, "generation has no GPU limit")
    check_dockerfile(os.path.join(deploy, "docker", "Dockerfile"), problems)
    for problem in problems.items:
        print("PROBLEM", problem)
    print(f"{len(problems.items)} problems")
    return 1 if problems.items else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

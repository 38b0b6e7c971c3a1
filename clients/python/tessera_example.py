#!/usr/bin/env python3
"""Calls a Tessera deployment from Python through the generated gRPC stubs:
health, ingest, search, streamed generation and an agent run.

Stubs come from proto/ at build time (see generate_stubs.sh); put their
directory on PYTHONPATH. Needs Debian's python3-grpcio and python3-protobuf.

  python3 tessera_example.py --router HOST:PORT [--generation HOST:PORT]
                             [--agents HOST:PORT] [--tenant NAME]

The router serves ingest and search (sharded or not); generation and agents may
be separate services (each defaults to the router). Exits non-zero on failure.
"""

import argparse
import json
import sys

import grpc
from google.protobuf import json_format

from grpc_health.v1 import health_pb2, health_pb2_grpc  # noqa: E402  (generated)
from tessera.agents.v1 import agents_pb2, agents_pb2_grpc
from tessera.common.v1 import common_pb2
from tessera.generation.v1 import generation_pb2, generation_pb2_grpc
from tessera.ingest.v1 import ingest_pb2, ingest_pb2_grpc
from tessera.retrieval.v1 import retrieval_pb2, retrieval_pb2_grpc

DOCUMENTS = [
    ("py-1", "Shard routing", "Documents are spread over retrieval shards by consistent hashing."),
    ("py-2", "Partial results", "A shard that misses the deadline makes the answer partial."),
    ("py-3", "Handoff", "Writes for a shard that is down are kept and replayed when it returns."),
]

GRAPH = {
    "id": "python_example",
    "channels": [{"name": "product", "type": "JSON"}],
    "nodes": [{"id": "multiply", "tool": {"tool": "calculator",
                                          "arguments": {"expression": "\"6 * 7\""},
                                          "output_channel": "product"}}],
    "edges": [{"from": "multiply", "to": "__end__"}],
    "start": "multiply",
    "max_steps": 5,
}


class Checks:
    def __init__(self):
        self.failures = 0

    def check(self, condition, what):
        print(("ok   " if condition else "FAIL ") + what)
        if not condition:
            self.failures += 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--router", required=True)
    parser.add_argument("--generation")
    parser.add_argument("--agents")
    parser.add_argument("--tenant", default="")
    parser.add_argument("--collection", default="python-example")
    args = parser.parse_args()
    metadata = [("x-tessera-tenant", args.tenant)] if args.tenant else []
    checks = Checks()

    router = grpc.insecure_channel(args.router)
    health = health_pb2_grpc.HealthStub(router).Check(health_pb2.HealthCheckRequest(), timeout=10)
    checks.check(health.status == health_pb2.HealthCheckResponse.SERVING, "router is SERVING")

    # Ingest: one batch; the router sends each document to the shard owning it.
    ingest = ingest_pb2_grpc.IngestServiceStub(router)
    batch = ingest_pb2.BatchPutDocumentsRequest(collection=args.collection, create_collection=True)
    for doc_id, title, text in DOCUMENTS:
        document = batch.documents.add(id=doc_id, title=title, text=text)
        document.metadata["language"].string_value = "python"
    put = ingest.BatchPutDocuments(batch, timeout=30, metadata=metadata)
    checks.check(put.succeeded == len(DOCUMENTS) and put.failed == 0,
                 f"ingested {put.succeeded} documents")

    # Search: BM25 over every shard, merged; `partial` says whether all answered.
    search = retrieval_pb2_grpc.RetrievalServiceStub(router)
    response = search.Search(retrieval_pb2.SearchRequest(
        collection=args.collection, query="shard deadline partial answer",
        mode=retrieval_pb2.BM25, top_k=3, timeout_ms=2000), timeout=10, metadata=metadata)
    for hit in response.hits:
        print(f"     {hit.score:.3f} {hit.document_id} {hit.provenance.title!r}")
    checks.check(len(response.hits) > 0 and response.hits[0].document_id == "py-2",
                 "search finds the document about partial results first")
    checks.check(not response.partial, f"search is complete (missing: {list(response.missing_shards)})")

    # Generation, streamed token by token.
    generation = generation_pb2_grpc.GenerationServiceStub(
        grpc.insecure_channel(args.generation or args.router))
    chunks = 0
    text = ""
    finish = None
    for chunk in generation.GenerateStream(generation_pb2.GenerateRequest(
            prompt="Tessera is", sampling=common_pb2.SamplingParams(max_tokens=8, seed=7)),
            timeout=120, metadata=metadata):
        chunks += 1
        text += "".join(token.text for token in chunk.tokens)
        if chunk.finish_reason:
            finish = chunk.finish_reason
    print(f"     generated {text!r}")
    checks.check(chunks >= 1 and finish is not None, f"generation streamed {chunks} messages")

    # An agent: create a graph, start a run, follow its events to the end.
    agents = agents_pb2_grpc.AgentServiceStub(grpc.insecure_channel(args.agents or args.router))
    graph = agents.CreateGraph(agents_pb2.CreateGraphRequest(definition_text=json.dumps(GRAPH)),
                               timeout=10, metadata=metadata)
    run = agents.StartRun(agents_pb2.StartRunRequest(graph_id=graph.id), timeout=10,
                          metadata=metadata)
    kinds = [agents_pb2.RunEvent.Kind.Name(event.kind)
             for event in agents.StreamRun(agents_pb2.StreamRunRequest(run_id=run.id),
                                           timeout=30, metadata=metadata)]
    run = agents.GetRun(agents_pb2.GetRunRequest(run_id=run.id), timeout=10, metadata=metadata)
    state = json_format.MessageToDict(run.state)
    print(f"     run {run.id}: {' '.join(kinds)}; state {state}")
    checks.check(run.status == agents_pb2.SUCCEEDED, "agent run succeeded")
    checks.check(state.get("product") in (42, 42.0, "42"), "agent computed 6 * 7 = 42")

    print("PASS" if checks.failures == 0 else f"{checks.failures} FAILED")
    return 1 if checks.failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except grpc.RpcError as error:
        print(f"FAIL {error.code().name}: {error.details()}")
        sys.exit(1)

package ai.tessera.examples;

import ai.tessera.agents.v1.AgentServiceGrpc;
import ai.tessera.agents.v1.CreateGraphRequest;
import ai.tessera.agents.v1.GetRunRequest;
import ai.tessera.agents.v1.Graph;
import ai.tessera.agents.v1.Run;
import ai.tessera.agents.v1.RunEvent;
import ai.tessera.agents.v1.RunStatus;
import ai.tessera.agents.v1.StartRunRequest;
import ai.tessera.agents.v1.StreamRunRequest;
import ai.tessera.common.v1.Document;
import ai.tessera.common.v1.MetadataValue;
import ai.tessera.common.v1.SamplingParams;
import ai.tessera.generation.v1.GenerateRequest;
import ai.tessera.generation.v1.GenerateStreamResponse;
import ai.tessera.generation.v1.GeneratedToken;
import ai.tessera.generation.v1.GenerationServiceGrpc;
import ai.tessera.ingest.v1.BatchPutDocumentsRequest;
import ai.tessera.ingest.v1.BatchPutDocumentsResponse;
import ai.tessera.ingest.v1.IngestServiceGrpc;
import ai.tessera.retrieval.v1.RetrievalServiceGrpc;
import ai.tessera.retrieval.v1.SearchHit;
import ai.tessera.retrieval.v1.SearchMode;
import ai.tessera.retrieval.v1.SearchRequest;
import ai.tessera.retrieval.v1.SearchResponse;
import com.google.protobuf.Value;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.MetadataUtils;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Calls a Tessera deployment from Java through the generated stubs
 * (//proto:tessera_java) with Debian's grpc-java: health, ingest, search,
 * streamed generation and an agent run — what a Spring Boot service does with
 * the same stubs (see clients/README.md).
 *
 * <p>Usage: TesseraExample ROUTER [GENERATION] [AGENTS] (each HOST:PORT; the
 * last two default to the router). Exits non-zero on any failure.
 */
public final class TesseraExample {
  private static final String COLLECTION = "java-example";
  private static final String GRAPH =
      "{\"id\": \"java_example\", \"channels\": [{\"name\": \"product\", \"type\": \"JSON\"}],"
          + " \"nodes\": [{\"id\": \"multiply\", \"tool\": {\"tool\": \"calculator\","
          + " \"arguments\": {\"expression\": \"\\\"6 * 7\\\"\"}, \"output_channel\": \"product\"}}],"
          + " \"edges\": [{\"from\": \"multiply\", \"to\": \"__end__\"}],"
          + " \"start\": \"multiply\", \"max_steps\": 5}";

  private static int failures = 0;

  private static void check(boolean condition, String what) {
    System.out.println((condition ? "ok   " : "FAIL ") + what);
    if (!condition) {
      failures++;
    }
  }

  /** A plaintext channel; a tenant header on every call when a tenant is given. */
  private static Channel connect(ManagedChannel channel, String tenant) {
    if (tenant.isEmpty()) {
      return channel;
    }
    Metadata headers = new Metadata();
    headers.put(Metadata.Key.of("x-tessera-tenant", Metadata.ASCII_STRING_MARSHALLER), tenant);
    return ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  public static void main(String[] args) throws Exception {
    String routerAddress = args[0];
    String generationAddress = args.length > 1 ? args[1] : routerAddress;
    String agentsAddress = args.length > 2 ? args[2] : routerAddress;
    String tenant = System.getenv().getOrDefault("TESSERA_TENANT", "");
    List<ManagedChannel> channels = new ArrayList<>();
    try {
      ManagedChannel routerChannel =
          ManagedChannelBuilder.forTarget(routerAddress).usePlaintext().build();
      channels.add(routerChannel);
      Channel router = connect(routerChannel, tenant);

      HealthCheckResponse health =
          HealthGrpc.newBlockingStub(router)
              .withDeadlineAfter(10, TimeUnit.SECONDS)
              .check(HealthCheckRequest.newBuilder().build());
      check(health.getStatus() == HealthCheckResponse.ServingStatus.SERVING, "router is SERVING");

      // Ingest: the router sends each document to the shard that owns its id.
      BatchPutDocumentsRequest.Builder batch =
          BatchPutDocumentsRequest.newBuilder().setCollection(COLLECTION).setCreateCollection(true);
      String[][] documents = {
        {"java-1", "Consistent hashing", "Each document id belongs to one retrieval shard."},
        {"java-2", "Deadlines", "A search waits for the shards until its deadline, then answers."},
        {"java-3", "Replicas", "A shard may have replicas; reads fail over to the next one."},
      };
      for (String[] document : documents) {
        batch.addDocuments(
            Document.newBuilder()
                .setId(document[0])
                .setTitle(document[1])
                .setText(document[2])
                .putMetadata("language", MetadataValue.newBuilder().setStringValue("java").build()));
      }
      BatchPutDocumentsResponse put =
          IngestServiceGrpc.newBlockingStub(router)
              .withDeadlineAfter(30, TimeUnit.SECONDS)
              .batchPutDocuments(batch.build());
      check(put.getSucceeded() == 3 && put.getFailed() == 0,
          "ingested " + put.getSucceeded() + " documents");

      // Search over every shard, merged; isPartial() says whether all answered.
      SearchResponse found =
          RetrievalServiceGrpc.newBlockingStub(router)
              .withDeadlineAfter(10, TimeUnit.SECONDS)
              .search(
                  SearchRequest.newBuilder()
                      .setCollection(COLLECTION)
                      .setQuery("replicas fail over")
                      .setMode(SearchMode.BM25)
                      .setTopK(3)
                      .setTimeoutMs(2000)
                      .build());
      for (SearchHit hit : found.getHitsList()) {
        System.out.printf("     %.3f %s %s%n", hit.getScore(), hit.getDocumentId(),
            hit.getProvenance().getTitle());
      }
      check(found.getHitsCount() > 0 && found.getHits(0).getDocumentId().equals("java-3"),
          "search finds the document about replicas first");
      check(!found.getPartial(), "search is complete (missing: " + found.getMissingShardsList() + ")");

      // Generation, streamed: a blocking iterator over the server's messages.
      ManagedChannel generationChannel =
          ManagedChannelBuilder.forTarget(generationAddress).usePlaintext().build();
      channels.add(generationChannel);
      Iterator<GenerateStreamResponse> stream =
          GenerationServiceGrpc.newBlockingStub(connect(generationChannel, tenant))
              .withDeadlineAfter(120, TimeUnit.SECONDS)
              .generateStream(
                  GenerateRequest.newBuilder()
                      .setPrompt("Tessera is")
                      .setSampling(SamplingParams.newBuilder().setMaxTokens(8).setSeed(7))
                      .build());
      StringBuilder text = new StringBuilder();
      int messages = 0;
      boolean finished = false;
      while (stream.hasNext()) {
        GenerateStreamResponse chunk = stream.next();
        messages++;
        for (GeneratedToken token : chunk.getTokensList()) {
          text.append(token.getText());
        }
        finished = finished || chunk.getFinishReasonValue() != 0;
      }
      System.out.println("     generated \"" + text + "\"");
      check(messages >= 1 && finished, "generation streamed " + messages + " messages");

      // An agent: a graph with a calculator step, run to its end.
      ManagedChannel agentsChannel =
          ManagedChannelBuilder.forTarget(agentsAddress).usePlaintext().build();
      channels.add(agentsChannel);
      Channel agentsTarget = connect(agentsChannel, tenant);
      AgentServiceGrpc.AgentServiceBlockingStub agents =
          AgentServiceGrpc.newBlockingStub(agentsTarget).withDeadlineAfter(30, TimeUnit.SECONDS);
      Graph graph = agents.createGraph(CreateGraphRequest.newBuilder().setDefinitionText(GRAPH).build());
      Run run = agents.startRun(StartRunRequest.newBuilder().setGraphId(graph.getId()).build());
      StringBuilder kinds = new StringBuilder();
      Iterator<RunEvent> events =
          agents.streamRun(StreamRunRequest.newBuilder().setRunId(run.getId()).build());
      while (events.hasNext()) {
        kinds.append(events.next().getKind()).append(' ');
      }
      run = agents.getRun(GetRunRequest.newBuilder().setRunId(run.getId()).build());
      Value product = run.getState().getFieldsMap().get("product");
      System.out.println("     run " + run.getId() + ": " + kinds + "; product " + product);
      check(run.getStatus() == RunStatus.SUCCEEDED, "agent run succeeded");
      check(product != null && product.getNumberValue() == 42, "agent computed 6 * 7 = 42");
    } catch (StatusRuntimeException e) {
      check(false, "call failed: " + e.getStatus());
    } finally {
      for (ManagedChannel channel : channels) {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
    System.out.println(failures == 0 ? "PASS" : failures + " FAILED");
    System.exit(failures == 0 ? 0 : 1);
  }
}

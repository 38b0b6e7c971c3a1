package ai.tessera.tests;

import ai.tessera.common.v1.Document;
import ai.tessera.common.v1.MetadataValue;
import ai.tessera.ingest.v1.GetDocumentRequest;
import ai.tessera.ingest.v1.GetDocumentResponse;
import ai.tessera.ingest.v1.IngestServiceGrpc;
import ai.tessera.ingest.v1.PutDocumentRequest;
import ai.tessera.ingest.v1.PutDocumentResponse;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.util.concurrent.TimeUnit;

/**
 * Calls a running Tessera server through the generated Java stubs, as a Java/Spring
 * backend would. Usage: IngestClientTest HOST:PORT. Exits non-zero on any failure.
 */
public final class IngestClientTest {
  private static int failures = 0;

  private static void check(boolean condition, String what) {
    if (condition) {
      System.out.println("ok   " + what);
    } else {
      System.out.println("FAIL " + what);
      failures++;
    }
  }

  public static void main(String[] args) throws Exception {
    ManagedChannel channel = ManagedChannelBuilder.forTarget(args[0]).usePlaintext().build();
    try {
      HealthCheckResponse health =
          HealthGrpc.newBlockingStub(channel)
              .withDeadlineAfter(10, TimeUnit.SECONDS)
              .check(HealthCheckRequest.newBuilder().build());
      check(health.getStatus() == HealthCheckResponse.ServingStatus.SERVING, "health is SERVING");

      IngestServiceGrpc.IngestServiceBlockingStub ingest =
          IngestServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
      Document document =
          Document.newBuilder()
              .setCollection("java")
              .setId("java-1")
              .setTitle("From Java")
              .setText("Grüße from a Java client.")
              .putMetadata("pages", MetadataValue.newBuilder().setIntValue(12).build())
              .build();
      PutDocumentResponse put =
          ingest.putDocument(
              PutDocumentRequest.newBuilder()
                  .setDocument(document)
                  .setCreateCollection(true)
                  .build());
      check(put.getVersion() == 1, "put returns version 1");
      check(put.getContentHash().length() == 64, "put returns a SHA-256 content hash");

      GetDocumentResponse got =
          ingest.getDocument(
              GetDocumentRequest.newBuilder().setCollection("java").setId("java-1").build());
      check(got.getDocument().getText().equals("Grüße from a Java client."), "text round-trips");
      check(got.getDocument().getMetadataMap().get("pages").getIntValue() == 12,
          "typed metadata round-trips");

      try {
        ingest.putDocument(
            PutDocumentRequest.newBuilder()
                .setDocument(Document.newBuilder().setCollection("java").setText("no id"))
                .build());
        check(false, "missing id is rejected");
      } catch (StatusRuntimeException e) {
        check(e.getStatus().getCode() == Status.Code.INVALID_ARGUMENT,
            "missing id is INVALID_ARGUMENT");
        check(e.getStatus().getDescription() != null
                && e.getStatus().getDescription().contains("document.id"),
            "the error names the field: " + e.getStatus().getDescription());
      }
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    System.out.println(failures == 0 ? "PASS" : failures + " check(s) failed");
    System.exit(failures == 0 ? 0 : 1);
  }
}

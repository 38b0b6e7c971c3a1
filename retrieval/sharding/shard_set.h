// The retrieval shards a router forwards to: each shard a list of replicas
// (gRPC channels to retrieval servers, each serving tessera.ingest.v1 and
// tessera.retrieval.v1 over its own store and indexes), the hash ring that
// assigns document ids to shards, and hinted handoff for replicas that are down.
//
// Reads go to one replica of a shard, the caught-up ones first, and fail over
// to the next on UNAVAILABLE within the deadline. Writes go to every replica;
// a replica that is down (or already has hints waiting, to keep order) gets
// the write as a durable hint, replayed in order by a background thread once it
// answers again.
#ifndef TESSERA_RETRIEVAL_SHARDING_SHARD_SET_H_
#define TESSERA_RETRIEVAL_SHARDING_SHARD_SET_H_

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/server_context.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "retrieval/sharding/hash_ring.h"
#include "retrieval/sharding/hint_log.h"
#include "tessera/ingest/v1/ingest.grpc.pb.h"
#include "tessera/retrieval/v1/retrieval.grpc.pb.h"

namespace tessera::retrieval::sharding {

struct ShardSpec {
  std::string name;
  std::vector<std::string> replicas;  // host:port addresses
};

// Parses "name=host:port|host:port" or "host:port|host:port" (then named
// "shard-<i>" by position) per shard. INVALID_ARGUMENT for an empty entry or
// address, or a repeated name.
absl::StatusOr<std::vector<ShardSpec>> ParseShardSpecs(const std::vector<std::string>& entries);

struct ShardSetOptions {
  // SQLite file of the hinted-handoff log (required).
  std::string hint_path;
  int virtual_nodes = 160;
  // How often replicas with hints are retried.
  absl::Duration replay_interval = absl::Milliseconds(200);
  // Deadline of a forwarded write when the caller gave none (or a later one).
  absl::Duration write_timeout = absl::Seconds(60);
  int64_t max_message_bytes = 96ll << 20;
  // False: a write that a replica cannot take fails instead of being handed
  // off (one-shot tools such as the rebalancer, which replay nothing later).
  bool hand_off = true;
  // Credentials of the channels to the replicas (TLS, mutual TLS); null =
  // plaintext.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
};

// Who a forwarded call acts for and until when.
struct CallScope {
  std::string tenant;
  absl::Time deadline = absl::InfiniteFuture();
};

// The tenant of a server call and its deadline, cut to `timeout` from now.
CallScope ScopeOf(const grpc::ServerContext& context,
                  absl::Duration timeout = absl::InfiniteDuration());

// Sets the tenant header and the deadline of a forwarded call.
void PrepareContext(grpc::ClientContext* context, const CallScope& scope);

// The outcome of a write forwarded to every replica of a shard.
struct WriteOutcome {
  grpc::Status status;   // OK when applied by a replica or handed off
  std::string response;  // serialized response of the first replica that applied it
  bool applied = false;
  bool handed_off = false;  // some replica got it as a hint
};

class ShardSet {
 public:
  struct Replica {
    std::string address;
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<ingest::v1::IngestService::Stub> ingest;
    std::unique_ptr<retrieval::v1::RetrievalService::Stub> retrieval;
    // Direct writes hold it shared; replaying hints holds it exclusively, so a
    // write never overtakes the hints before it.
    absl::Mutex order;
  };
  struct Shard {
    std::string name;
    std::vector<std::unique_ptr<Replica>> replicas;
  };

  static absl::StatusOr<std::unique_ptr<ShardSet>> Create(std::vector<ShardSpec> specs,
                                                          ShardSetOptions options);
  // Stops the replay thread.
  ~ShardSet();

  size_t size() const { return shards_.size(); }
  const Shard& shard(size_t index) const { return *shards_[index]; }
  // The shard owning a document id.
  size_t OwnerOf(absl::string_view document_id) const { return ring_.OwnerIndex(document_id); }
  const HashRing& ring() const { return ring_; }

  // Runs `call` on one replica of the shard: caught-up replicas first, the next
  // one after UNAVAILABLE while the deadline allows. The context it gets has the
  // tenant header and the deadline set.
  grpc::Status Read(size_t shard, const CallScope& scope,
                    const std::function<grpc::Status(Replica&, grpc::ClientContext*)>& call) const;

  // Read() on every shard in parallel; element i is shard i's outcome.
  std::vector<grpc::Status> ReadAll(
      const CallScope& scope,
      const std::function<grpc::Status(size_t, Replica&, grpc::ClientContext*)>& call) const;

  // Forwards a write (`method` of tessera.ingest.v1.IngestService with its
  // serialized request) to every replica of the shard, handing it off to the
  // replicas that are down. Errors other than UNAVAILABLE and DEADLINE_EXCEEDED
  // come back as they are (the write is invalid everywhere).
  WriteOutcome Write(size_t shard, const CallScope& scope, const std::string& method,
                     const std::string& request);

  // True when every replica of the shard has hints waiting: whatever answers
  // for it may miss acknowledged writes.
  bool Behind(size_t shard) const;
  // Hints waiting over all replicas.
  int64_t PendingHints() const;

  // Replays due hints once (the background thread calls it; tests may too).
  void ReplayOnce();

 private:
  explicit ShardSet(ShardSetOptions options)
      : options_(std::move(options)), ring_(options_.virtual_nodes) {}

  const ShardSetOptions options_;
  HashRing ring_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::unique_ptr<HintLog> hints_;
  absl::Notification stop_;
  std::thread replayer_;
};

// Sends a serialized IngestService write to a replica; the serialized reply
// goes to `response`. INVALID_ARGUMENT for an unknown method or a request that
// does not parse.
grpc::Status SendWrite(ShardSet::Replica& replica, grpc::ClientContext* context,
                       const std::string& method, const std::string& request,
                       std::string* response);

// UNAVAILABLE or DEADLINE_EXCEEDED: the replica may be down or stalled.
bool IsTransient(const grpc::Status& status);

// For ReadAll() outcomes that every shard must give: the first failure, naming
// its shard; NOT_FOUND when no shard knows what was asked for; else OK (a
// shard that never received a document of a collection may not know it).
grpc::Status EveryShardAnswered(const ShardSet& shards, const std::vector<grpc::Status>& statuses);

// Runs fn(0..n-1) on parallel threads and waits for all.
void ParallelFor(size_t n, const std::function<void(size_t)>& fn);

}  // namespace tessera::retrieval::sharding

#endif  // TESSERA_RETRIEVAL_SHARDING_SHARD_SET_H_

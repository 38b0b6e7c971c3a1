// Consistent hashing of document ids over named shards. Each shard owns many
// points ("virtual nodes") on a 64-bit ring; a key belongs to the shard of the
// first point at or after the key's hash. Adding a shard moves only the keys
// that land on its new points (about 1/N of them), all to the new shard.
//
// Hashes are the first 8 bytes of SHA-256, so every process (router, ingest
// tier, rebalancer) and every build agree on the owner of a key.
#ifndef TESSERA_RETRIEVAL_SHARDING_HASH_RING_H_
#define TESSERA_RETRIEVAL_SHARDING_HASH_RING_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace tessera::retrieval::sharding {

// The ring position of a key.
uint64_t RingHash(absl::string_view key);

class HashRing {
 public:
  explicit HashRing(int virtual_nodes = 160) : virtual_nodes_(virtual_nodes) {}

  // INVALID_ARGUMENT for an empty name, ALREADY_EXISTS for a duplicate.
  absl::Status AddShard(const std::string& name);
  // NOT_FOUND for an unknown name.
  absl::Status RemoveShard(const std::string& name);

  // Index (into shards()) of the shard owning `key`; the ring must not be empty.
  size_t OwnerIndex(absl::string_view key) const;
  const std::string& Owner(absl::string_view key) const { return shards_[OwnerIndex(key)]; }

  // Shard names in the order they were added.
  const std::vector<std::string>& shards() const { return shards_; }
  bool empty() const { return shards_.empty(); }

 private:
  struct Point {
    uint64_t hash;
    uint32_t shard;
  };
  void Rebuild();

  int virtual_nodes_;
  std::vector<std::string> shards_;
  std::vector<Point> points_;  // Sorted by hash, ties by shard name.
};

}  // namespace tessera::retrieval::sharding

#endif  // TESSERA_RETRIEVAL_SHARDING_HASH_RING_H_

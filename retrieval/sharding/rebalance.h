// Moves documents to the shard that owns them after shards were added to (or
// removed from) the ring: every shard's documents are listed, and each one its
// shard no longer owns is read, written to its owner and then deleted where it
// was. Only documents whose owner changed move (consistent hashing: adding a
// shard to N moves about 1/(N+1) of them, all to the new shard).
//
// Searches stay complete while it runs: a copied document exists on both
// shards for a moment, and the sharded search returns a chunk once.
// A moved document is written again from its stored text, so it gets version
// 1 on its new shard and is re-chunked with its collection's settings.
#ifndef TESSERA_RETRIEVAL_SHARDING_REBALANCE_H_
#define TESSERA_RETRIEVAL_SHARDING_REBALANCE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "retrieval/sharding/shard_set.h"

namespace tessera::retrieval::sharding {

struct RebalanceReport {
  int64_t collections = 0;
  int64_t documents = 0;  // listed (a moved one again on its new shard when listed later)
  int64_t moved = 0;
};

// Rebalances every collection of each tenant in `tenants`. Stops at the first
// error (running it again continues where it stopped: moves are idempotent).
absl::StatusOr<RebalanceReport> Rebalance(ShardSet* shards,
                                          const std::vector<std::string>& tenants);

}  // namespace tessera::retrieval::sharding

#endif  // TESSERA_RETRIEVAL_SHARDING_REBALANCE_H_

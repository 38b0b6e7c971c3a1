// The KV block manager of the serving engine: a pool of fixed-size blocks, a
// block table per sequence, reference counts, and prefix caching. A full block
// whose KV has been computed is keyed by the hash chain (parent block's hash,
// its tokens); a new sequence whose prompt starts with the same tokens reuses
// it instead of recomputing. Freed hashed blocks stay cached in an LRU until
// reused or evicted for a new allocation. Not thread-safe (the engine's step
// loop owns it).
#ifndef TESSERA_ENGINE_SERVING_BLOCK_MANAGER_H_
#define TESSERA_ENGINE_SERVING_BLOCK_MANAGER_H_

#include <cstdint>
#include <list>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace tessera::serving {

// (source, destination) block copies the executor must do before the step.
using BlockCopies = std::vector<std::pair<int32_t, int32_t>>;

class BlockManager {
 public:
  BlockManager(int num_blocks, int block_size, bool prefix_caching = true);

  int block_size() const { return block_size_; }
  int num_blocks() const { return static_cast<int>(blocks_.size()); }
  // Blocks needed for `tokens` positions.
  int BlocksFor(int64_t tokens) const {
    return static_cast<int>((tokens + block_size_ - 1) / block_size_);
  }

  // Whether a sequence with these prompt tokens can be allocated now (counting
  // the cached blocks it would reuse).
  bool CanAllocate(absl::Span<const int32_t> tokens) const;
  // Gives sequence `id` blocks for all of `tokens`, reusing cached full blocks
  // of the same prefix. Returns how many leading tokens already have their KV
  // (whole blocks, but always fewer than tokens.size(): the last token runs
  // to give logits). A reused block the sequence will write
  // into is copied first (copy-on-write; appended to `copies`).
  // RESOURCE_EXHAUSTED when blocks are short, ALREADY_EXISTS for a known id.
  absl::StatusOr<int> Allocate(int64_t id, absl::Span<const int32_t> tokens, BlockCopies* copies);

  // Whether `count` more tokens fit sequence `id` now.
  bool CanAppend(int64_t id, int count) const;
  // Reserves slots for `tokens` after the sequence's tokens; a shared last block
  // is copied first. RESOURCE_EXHAUSTED (and no change) when blocks are short.
  absl::Status Append(int64_t id, absl::Span<const int32_t> tokens, BlockCopies* copies);
  // Keeps the first `num_tokens` tokens, releasing blocks past them (rejected
  // speculative tokens).
  void Truncate(int64_t id, int num_tokens);
  // The first `num_tokens` tokens now have their KV computed: full blocks among
  // them join the prefix cache.
  void MarkComputed(int64_t id, int num_tokens);
  // Releases the sequence's blocks (hashed ones stay cached).
  void Free(int64_t id);

  bool Has(int64_t id) const { return sequences_.contains(id); }
  absl::Span<const int32_t> BlockTable(int64_t id) const;
  int NumTokens(int64_t id) const;

  int used_blocks() const { return used_blocks_; }
  // Blocks that hold nothing and are free to use.
  int free_blocks() const { return static_cast<int>(free_list_.size()); }
  // Unreferenced blocks that keep a cached prefix (evictable).
  int cached_blocks() const { return static_cast<int>(evictable_.size()); }
  // Slots of used blocks that hold no token (the partial last block of each
  // sequence), and all slots of used blocks.
  int64_t wasted_slots() const;
  int64_t used_slots() const { return static_cast<int64_t>(used_blocks_) * block_size_; }
  // Prompt tokens served from the prefix cache since construction.
  int64_t prefix_hit_tokens() const { return prefix_hit_tokens_; }

 private:
  struct Block {
    int ref_count = 0;
    bool hashed = false;
    uint64_t hash = 0;
    std::vector<int32_t> tokens;  // The block's tokens while hashed (collision check).
    std::list<int32_t>::iterator lru;  // Valid while in evictable_.
  };
  struct SequenceBlocks {
    std::vector<int32_t> table;
    std::vector<int32_t> tokens;
    int hashed_blocks = 0;  // Leading blocks already registered in the cache.
    uint64_t last_hash = 0;   // Hash of the last registered block.
  };

  uint64_t HashBlock(uint64_t parent, absl::Span<const int32_t> tokens) const;
  // The chain hash of the first `blocks` full blocks of `tokens`.
  uint64_t ChainHash(absl::Span<const int32_t> tokens, int blocks) const;
  // The cached block holding exactly these tokens after `parent`, or -1.
  int32_t FindCached(uint64_t hash, absl::Span<const int32_t> tokens) const;
  // A block from the free list, else the least recently used cached one
  // (dropping its hash); -1 when none is left.
  int32_t TakeBlock();
  int AvailableBlocks() const { return free_blocks() + cached_blocks(); }
  void Retain(int32_t block);
  void Release(int32_t block);

  const int block_size_;
  const bool prefix_caching_;
  std::vector<Block> blocks_;
  std::vector<int32_t> free_list_;
  std::list<int32_t> evictable_;  // Least recently used first.
  absl::flat_hash_map<uint64_t, int32_t> cache_;
  absl::flat_hash_map<int64_t, SequenceBlocks> sequences_;
  int used_blocks_ = 0;
  int64_t prefix_hit_tokens_ = 0;
};

}  // namespace tessera::serving

#endif  // TESSERA_ENGINE_SERVING_BLOCK_MANAGER_H_

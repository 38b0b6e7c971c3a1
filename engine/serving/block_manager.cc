#include "engine/serving/block_manager.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace tessera::serving {

BlockManager::BlockManager(int num_blocks, int block_size, bool prefix_caching)
    : block_size_(std::max(1, block_size)),
      prefix_caching_(prefix_caching),
      blocks_(std::max(0, num_blocks)) {
  // Popped from the back: blocks are handed out 0, 1, 2, ...
  for (int32_t b = static_cast<int32_t>(blocks_.size()) - 1; b >= 0; --b) free_list_.push_back(b);
}

uint64_t BlockManager::ChainHash(absl::Span<const int32_t> tokens, int blocks) const {
  uint64_t hash = 0;
  for (int b = 0; b < blocks; ++b) {
    hash = HashBlock(hash, tokens.subspan(static_cast<size_t>(b) * block_size_, block_size_));
  }
  return hash;
}

uint64_t BlockManager::HashBlock(uint64_t parent, absl::Span<const int32_t> tokens) const {
  // splitmix64 steps over the parent hash and the tokens; a collision is caught
  // by comparing the stored tokens, so this only needs to spread well.
  auto mix = [](uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
  };
  uint64_t h = mix(parent ^ 0x5eed);
  for (int32_t token : tokens) h = mix(h ^ static_cast<uint32_t>(token));
  return h;
}

int32_t BlockManager::FindCached(uint64_t hash, absl::Span<const int32_t> tokens) const {
  auto it = cache_.find(hash);
  if (it == cache_.end()) return -1;
  const Block& block = blocks_[it->second];
  if (!std::equal(block.tokens.begin(), block.tokens.end(), tokens.begin(), tokens.end())) {
    return -1;
  }
  return it->second;
}

void BlockManager::Retain(int32_t b) {
  Block& block = blocks_[b];
  if (block.ref_count == 0) {
    if (block.hashed) evictable_.erase(block.lru);
    ++used_blocks_;
  }
  ++block.ref_count;
}

void BlockManager::Release(int32_t b) {
  Block& block = blocks_[b];
  if (--block.ref_count > 0) return;
  --used_blocks_;
  if (block.hashed) {
    block.lru = evictable_.insert(evictable_.end(), b);
  } else {
    free_list_.push_back(b);
  }
}

int32_t BlockManager::TakeBlock() {
  int32_t b = -1;
  if (!free_list_.empty()) {
    b = free_list_.back();
    free_list_.pop_back();
  } else if (!evictable_.empty()) {
    b = evictable_.front();
    evictable_.pop_front();
    Block& block = blocks_[b];
    cache_.erase(block.hash);
    block.hashed = false;
    block.tokens.clear();
  } else {
    return -1;
  }
  blocks_[b].ref_count = 1;
  ++used_blocks_;
  return b;
}

bool BlockManager::CanAllocate(absl::Span<const int32_t> tokens) const {
  const int needed = BlocksFor(static_cast<int64_t>(tokens.size()));
  int reused = 0, reused_evictable = 0;
  if (prefix_caching_) {
    uint64_t hash = 0;
    for (size_t start = 0; start + block_size_ <= tokens.size(); start += block_size_) {
      hash = HashBlock(hash, tokens.subspan(start, block_size_));
      const int32_t b = FindCached(hash, tokens.subspan(start, block_size_));
      if (b < 0) break;
      ++reused;
      if (blocks_[b].ref_count == 0) ++reused_evictable;
    }
  }
  // A fully cached prompt copies its last block (one more block).
  const int fresh = needed - reused + (reused * block_size_ == static_cast<int>(tokens.size()) && reused > 0 ? 1 : 0);
  return fresh <= AvailableBlocks() - reused_evictable;
}

absl::StatusOr<int> BlockManager::Allocate(int64_t id, absl::Span<const int32_t> tokens,
                                           BlockCopies* copies) {
  if (sequences_.contains(id)) return absl::AlreadyExistsError(absl::StrCat("sequence ", id));
  if (tokens.empty()) return absl::InvalidArgumentError("no tokens to allocate");
  if (!CanAllocate(tokens)) {
    return absl::ResourceExhaustedError(absl::StrCat("no KV blocks for ", tokens.size(), " tokens"));
  }
  SequenceBlocks seq;
  seq.tokens.assign(tokens.begin(), tokens.end());
  if (prefix_caching_) {
    for (size_t start = 0; start + block_size_ <= tokens.size(); start += block_size_) {
      const uint64_t hash = HashBlock(seq.last_hash, tokens.subspan(start, block_size_));
      const int32_t b = FindCached(hash, tokens.subspan(start, block_size_));
      if (b < 0) break;
      Retain(b);  // Before any TakeBlock, which could evict it.
      seq.table.push_back(b);
      seq.last_hash = hash;
      ++seq.hashed_blocks;
    }
  }
  int computed = seq.hashed_blocks * block_size_;
  if (computed == static_cast<int>(tokens.size())) {
    // The last token must run again and write its slot: copy the shared block.
    computed -= 1;
    const int32_t shared = seq.table.back();
    const int32_t own = TakeBlock();
    copies->emplace_back(shared, own);
    seq.table.back() = own;
    Release(shared);
    --seq.hashed_blocks;
    seq.last_hash = 0;
    if (seq.hashed_blocks > 0) {
      // The chain hash of the block before: recompute from the tokens.
      seq.last_hash = ChainHash(tokens, seq.hashed_blocks);
    }
  }
  while (static_cast<int>(seq.table.size()) < BlocksFor(static_cast<int64_t>(tokens.size()))) {
    seq.table.push_back(TakeBlock());  // CanAllocate counted these.
  }
  prefix_hit_tokens_ += computed;
  sequences_.emplace(id, std::move(seq));
  return computed;
}

bool BlockManager::CanAppend(int64_t id, int count) const {
  auto it = sequences_.find(id);
  if (it == sequences_.end()) return false;
  const SequenceBlocks& seq = it->second;
  const int64_t tokens = static_cast<int64_t>(seq.tokens.size());
  int needed = BlocksFor(tokens + count) - static_cast<int>(seq.table.size());
  if (tokens % block_size_ != 0 && count > 0 && blocks_[seq.table.back()].ref_count > 1) ++needed;
  return needed <= AvailableBlocks();
}

absl::Status BlockManager::Append(int64_t id, absl::Span<const int32_t> tokens,
                                  BlockCopies* copies) {
  auto it = sequences_.find(id);
  if (it == sequences_.end()) return absl::NotFoundError(absl::StrCat("sequence ", id));
  if (!CanAppend(id, static_cast<int>(tokens.size()))) {
    return absl::ResourceExhaustedError(
        absl::StrCat("no KV blocks for ", tokens.size(), " more tokens"));
  }
  SequenceBlocks& seq = it->second;
  if (seq.tokens.size() % block_size_ != 0 && !tokens.empty()) {
    const int32_t last = seq.table.back();
    if (blocks_[last].ref_count > 1) {  // Copy-on-write.
      const int32_t own = TakeBlock();
      copies->emplace_back(last, own);
      seq.table.back() = own;
      Release(last);
    } else if (blocks_[last].hashed) {
      // Only this sequence holds it and it is about to change: uncache it.
      cache_.erase(blocks_[last].hash);
      blocks_[last].hashed = false;
      blocks_[last].tokens.clear();
    }
  }
  seq.tokens.insert(seq.tokens.end(), tokens.begin(), tokens.end());
  while (static_cast<int>(seq.table.size()) < BlocksFor(static_cast<int64_t>(seq.tokens.size()))) {
    seq.table.push_back(TakeBlock());
  }
  return absl::OkStatus();
}

void BlockManager::Truncate(int64_t id, int num_tokens) {
  auto it = sequences_.find(id);
  if (it == sequences_.end()) return;
  SequenceBlocks& seq = it->second;
  if (num_tokens < 0 || num_tokens >= static_cast<int>(seq.tokens.size())) return;
  seq.tokens.resize(num_tokens);
  const int keep = BlocksFor(num_tokens);
  while (static_cast<int>(seq.table.size()) > keep) {
    Release(seq.table.back());
    seq.table.pop_back();
  }
  if (seq.hashed_blocks * block_size_ > num_tokens) {
    seq.hashed_blocks = num_tokens / block_size_;
    seq.last_hash = ChainHash(seq.tokens, seq.hashed_blocks);
  }
}

void BlockManager::MarkComputed(int64_t id, int num_tokens) {
  if (!prefix_caching_) return;
  auto it = sequences_.find(id);
  if (it == sequences_.end()) return;
  SequenceBlocks& seq = it->second;
  const int full = std::min<int>(num_tokens, static_cast<int>(seq.tokens.size())) / block_size_;
  for (int b = seq.hashed_blocks; b < full; ++b) {
    absl::Span<const int32_t> block_tokens =
        absl::MakeConstSpan(seq.tokens).subspan(static_cast<size_t>(b) * block_size_, block_size_);
    const uint64_t hash = HashBlock(seq.last_hash, block_tokens);
    Block& block = blocks_[seq.table[b]];
    if (!block.hashed && !cache_.contains(hash)) {
      block.hashed = true;
      block.hash = hash;
      block.tokens.assign(block_tokens.begin(), block_tokens.end());
      cache_[hash] = seq.table[b];
    }
    seq.last_hash = hash;
    seq.hashed_blocks = b + 1;
  }
}

void BlockManager::Free(int64_t id) {
  auto it = sequences_.find(id);
  if (it == sequences_.end()) return;
  // Released from the last block so that, among equally old cached blocks, a
  // prefix's first blocks are evicted last.
  for (auto b = it->second.table.rbegin(); b != it->second.table.rend(); ++b) Release(*b);
  sequences_.erase(it);
}

absl::Span<const int32_t> BlockManager::BlockTable(int64_t id) const {
  auto it = sequences_.find(id);
  if (it == sequences_.end()) return {};
  return it->second.table;
}

int BlockManager::NumTokens(int64_t id) const {
  auto it = sequences_.find(id);
  return it == sequences_.end() ? 0 : static_cast<int>(it->second.tokens.size());
}

int64_t BlockManager::wasted_slots() const {
  int64_t wasted = 0;
  for (const auto& [id, seq] : sequences_) {
    wasted += static_cast<int64_t>(seq.table.size()) * block_size_ -
              static_cast<int64_t>(seq.tokens.size());
  }
  return wasted;
}

}  // namespace tessera::serving

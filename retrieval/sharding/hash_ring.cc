#include "retrieval/sharding/hash_ring.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/hash.h"

namespace tessera::retrieval::sharding {

uint64_t RingHash(absl::string_view key) {
  uint64_t hash = 0;
  // 16 hex digits are 8 bytes; SimpleHexAtoi cannot fail on SHA-256 hex.
  absl::SimpleHexAtoi(absl::string_view(Sha256Hex(key)).substr(0, 16), &hash);
  return hash;
}

absl::Status HashRing::AddShard(const std::string& name) {
  if (name.empty()) return absl::InvalidArgumentError("shard name is empty");
  if (std::find(shards_.begin(), shards_.end(), name) != shards_.end()) {
    return absl::AlreadyExistsError(absl::StrCat("shard ", name, " is already on the ring"));
  }
  shards_.push_back(name);
  Rebuild();
  return absl::OkStatus();
}

absl::Status HashRing::RemoveShard(const std::string& name) {
  auto found = std::find(shards_.begin(), shards_.end(), name);
  if (found == shards_.end()) return absl::NotFoundError(absl::StrCat("no shard ", name));
  shards_.erase(found);
  Rebuild();
  return absl::OkStatus();
}

void HashRing::Rebuild() {
  points_.clear();
  points_.reserve(shards_.size() * virtual_nodes_);
  for (uint32_t shard = 0; shard < shards_.size(); ++shard) {
    for (int node = 0; node < virtual_nodes_; ++node) {
      points_.push_back({RingHash(absl::StrCat(shards_[shard], "#", node)), shard});
    }
  }
  // Points depend on names only, not on the order shards were added in.
  std::sort(points_.begin(), points_.end(), [this](const Point& a, const Point& b) {
    return a.hash != b.hash ? a.hash < b.hash : shards_[a.shard] < shards_[b.shard];
  });
}

size_t HashRing::OwnerIndex(absl::string_view key) const {
  const uint64_t hash = RingHash(key);
  auto point = std::lower_bound(points_.begin(), points_.end(), hash,
                                [](const Point& p, uint64_t h) { return p.hash < h; });
  if (point == points_.end()) point = points_.begin();  // Wrap around.
  return point->shard;
}

}  // namespace tessera::retrieval::sharding

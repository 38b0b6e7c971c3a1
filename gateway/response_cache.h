// A tenant-scoped LRU cache of responses to idempotent calls: generation
// responses for deterministic requests (temperature 0 or a fixed seed), and any
// other message (search results, embeddings, answers) under a canonical key of
// its request. Bounded in bytes, entries expire after a TTL; hits and misses are
// counted in the metrics registry. Thread-safe.
#ifndef TESSERA_GATEWAY_RESPONSE_CACHE_H_
#define TESSERA_GATEWAY_RESPONSE_CACHE_H_

#include <cstdint>
#include <list>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/metrics.h"
#include "gateway/clock.h"
#include "google/protobuf/message_lite.h"
#include "tessera/generation/v1/generation.pb.h"

namespace tessera::gateway {

struct ResponseCacheOptions {
  size_t max_bytes = 64 << 20;
  absl::Duration ttl = absl::Minutes(10);
};

struct ResponseCacheStats {
  int64_t hits = 0;
  int64_t misses = 0;
  int64_t insertions = 0;
  int64_t evictions = 0;  // for space
  int64_t expirations = 0;
  size_t entries = 0;
  size_t bytes = 0;
};

class ResponseCache {
 public:
  // `metrics` may be null (no metrics); the registry must outlive the cache.
  explicit ResponseCache(ResponseCacheOptions options, const Clock* clock = Clock::Real(),
                         MetricsRegistry* metrics = &MetricsRegistry::Global());

  // Whether a response to `request` may be reused: sampling is greedy
  // (temperature explicitly 0) or seeded.
  static bool IsCacheable(const tessera::generation::v1::GenerateRequest& request);

  // Hex SHA-256 over the request's model, prompt, messages, tools and sampling
  // parameters; request_id and user do not take part.
  static std::string CanonicalKey(const tessera::generation::v1::GenerateRequest& request);

  // Non-cacheable requests always miss (and are not counted).
  std::optional<tessera::generation::v1::GenerateResponse> Lookup(
      absl::string_view tenant, const tessera::generation::v1::GenerateRequest& request);

  // Stores a response; ignored for non-cacheable requests and for entries larger
  // than the whole cache.
  void Insert(absl::string_view tenant, const tessera::generation::v1::GenerateRequest& request,
              const tessera::generation::v1::GenerateResponse& response);

  // Any idempotent call. `key` identifies the request (see MessageKey); the
  // response is stored serialised. Lookup returns false on a miss.
  bool LookupMessage(absl::string_view tenant, absl::string_view key,
                     google::protobuf::MessageLite* response);
  void InsertMessage(absl::string_view tenant, absl::string_view key,
                     const google::protobuf::MessageLite& response);

  // "<method>:" + hex SHA-256 of the request's deterministic serialisation and
  // `version` (e.g. the index position a search ran at, so writes invalidate).
  static std::string MessageKey(absl::string_view method,
                                const google::protobuf::MessageLite& request,
                                absl::string_view version = "");

  // Drops every entry of `tenant` (e.g. after a model upgrade).
  void InvalidateTenant(absl::string_view tenant);

  ResponseCacheStats stats() const;

 private:
  struct Entry {
    std::string tenant;
    std::string key;  // tenant + '\0' + canonical key
    std::string payload;  // the serialised response
    absl::Time expires;
    size_t bytes = 0;
  };
  using EntryList = std::list<Entry>;

  std::optional<std::string> LookupBytes(absl::string_view tenant, absl::string_view key);
  void InsertBytes(absl::string_view tenant, absl::string_view key, std::string payload);
  void EraseLocked(EntryList::iterator it) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Count(const char* result);

  const ResponseCacheOptions options_;
  const Clock* clock_;
  MetricsRegistry* metrics_;
  mutable absl::Mutex mu_;
  EntryList lru_ ABSL_GUARDED_BY(mu_);  // most recently used first
  absl::flat_hash_map<std::string, EntryList::iterator> index_ ABSL_GUARDED_BY(mu_);
  ResponseCacheStats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tessera::gateway

#endif  // TESSERA_GATEWAY_RESPONSE_CACHE_H_

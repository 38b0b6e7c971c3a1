// The semantic cache: a route's earlier answer is reused for a new question
// whose embedding is close enough to an earlier one's (cosine >= the route's
// threshold), as GPTCache and Portkey do. Only the last user message is
// compared by meaning; everything else of the request (system prompt, earlier
// turns, sampling, tools, the route) must be equal, and so is hashed into the
// entry's scope along with the tenant (and the user, for user-specific
// routes). Questions that look time-sensitive ("today", "latest", ...) are
// neither answered from the cache nor stored. Opt-in per route:
//
//   "routes": [{"name": "faq", "targets": [...],
//               "semantic_cache": {"threshold": 0.93, "ttl_seconds": 600,
//                                  "max_entries": 2000, "per_user": false,
//                                  "bypass_patterns": ["\\b(today|now)\\b"],
//                                  "embedding_model": ""}}]
//
// Counted in tessera_gateway_semantic_cache_total{route, result} with result
// hit, miss, bypass or unavailable (the embedder failed: the call goes on
// uncached). Thread-safe.
#ifndef TESSERA_GATEWAY_SEMANTIC_CACHE_H_
#define TESSERA_GATEWAY_SEMANTIC_CACHE_H_

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/metrics.h"
#include "gateway/clock.h"
#include "gateway/embedder.h"
#include "re2/re2.h"
#include "tessera/generation/v1/generation.pb.h"

namespace tessera::gateway {

// A route's "semantic_cache" object.
struct SemanticCacheOptions {
  // Cosine similarity (of L2-normalised embeddings) at or above which an
  // earlier answer is reused.
  double threshold = 0.95;
  absl::Duration ttl = absl::Minutes(10);
  // Entries kept for the route over all tenants; the least recently used go.
  int max_entries = 1000;
  // User-specific answers: entries are shared only between requests with the
  // same GenerateRequest.user (and requests without one are not cached).
  bool per_user = false;
  // Case-insensitive RE2 patterns; a question matching one is time-sensitive
  // and bypasses the cache. Unset: DefaultTimeSensitivePatterns().
  std::optional<std::vector<std::string>> bypass_patterns;
  // Sent in EmbedRequest.model; empty: the engine's loaded embedder.
  std::string embedding_model;
};

// Words that make an answer go stale: today, now, latest, current, ...
const std::vector<std::string>& DefaultTimeSensitivePatterns();

// Checks the options on their own; `path` prefixes error messages.
absl::Status ValidateSemanticCacheOptions(const SemanticCacheOptions& options,
                                          const std::string& path);

struct SemanticCacheStats {
  int64_t hits = 0;
  int64_t misses = 0;
  int64_t bypassed = 0;
  int64_t unavailable = 0;
  int64_t evictions = 0;
  size_t entries = 0;
};

class SemanticCache {
 public:
  // What Lookup learnt about a request, for Insert after a miss.
  struct Probe {
    std::string route;
    // Why the request is not cached ("tools", "time_sensitive", "no_user",
    // "no_question", "embedder: ..."); empty when it may be stored.
    std::string bypass_reason;
    std::string scope;
    std::vector<float> embedding;  // unit length
    // The nearest entry's cosine (-1 when there was none).
    double best_similarity = -1;
  };

  // `routes`: options by route name. `embedder` embeds the questions; each
  // route's embedding_model is passed to it.
  static absl::StatusOr<std::unique_ptr<SemanticCache>> Create(
      std::map<std::string, SemanticCacheOptions> routes,
      std::function<std::shared_ptr<Embedder>(const std::string& embedding_model)> embedder_for,
      const Clock* clock = Clock::Real(), MetricsRegistry* metrics = &MetricsRegistry::Global());

  bool Covers(absl::string_view route) const { return routes_.count(route) > 0; }

  // The earlier answer for `request` on `route`, if one is close enough.
  // `probe` is filled either way (see Probe).
  std::optional<tessera::generation::v1::GenerateResponse> Lookup(
      absl::string_view route, absl::string_view tenant,
      const tessera::generation::v1::GenerateRequest& request, Probe* probe);

  // Stores the answer to a request Lookup missed (nothing when it bypassed).
  void Insert(const Probe& probe, const tessera::generation::v1::GenerateResponse& response);

  SemanticCacheStats stats(absl::string_view route) const;

 private:
  struct Entry {
    std::string scope;
    std::vector<float> embedding;
    std::string payload;  // the serialised response
    absl::Time expires;
  };
  using EntryList = std::list<Entry>;
  struct RouteState {
    SemanticCacheOptions options;
    std::vector<std::unique_ptr<RE2>> bypass;
    std::shared_ptr<Embedder> embedder;
    mutable absl::Mutex mu;
    EntryList lru ABSL_GUARDED_BY(mu);  // most recently used first
    absl::flat_hash_map<std::string, std::vector<EntryList::iterator>> by_scope ABSL_GUARDED_BY(mu);
    SemanticCacheStats stats ABSL_GUARDED_BY(mu);
  };

  SemanticCache(const Clock* clock, MetricsRegistry* metrics) : clock_(clock), metrics_(metrics) {}
  static void EraseLocked(RouteState& state, EntryList::iterator it)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state.mu);
  void Count(absl::string_view route, const char* result) const;

  const Clock* clock_;
  MetricsRegistry* metrics_;
  std::map<std::string, std::unique_ptr<RouteState>, std::less<>> routes_;  // fixed at Create
};

}  // namespace tessera::gateway

#endif  // TESSERA_GATEWAY_SEMANTIC_CACHE_H_

#include "gateway/response_cache.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "absl/strings/str_cat.h"
#include "common/hash.h"

namespace tessera::gateway {
namespace {

using tessera::generation::v1::GenerateRequest;
using tessera::generation::v1::GenerateResponse;

constexpr char kCacheMetric[] = "tessera_gateway_cache_requests_total";
constexpr char kCacheBytesMetric[] = "tessera_gateway_cache_bytes";
// Bookkeeping per entry beyond the payload (list node, map slot, strings).
constexpr size_t kEntryOverheadBytes = 160;

// Deterministic serialisation orders map fields (Struct keys in JSON schemas and
// tool arguments), so equal requests give equal bytes within one build.
std::string DeterministicBytes(const google::protobuf::MessageLite& message) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return out;
}

std::string EntryKey(absl::string_view tenant, absl::string_view key) {
  return absl::StrCat(tenant, std::string(1, '\0'), key);
}

}  // namespace

ResponseCache::ResponseCache(ResponseCacheOptions options, const Clock* clock,
                             MetricsRegistry* metrics)
    : options_(options), clock_(clock), metrics_(metrics) {
  if (metrics_ != nullptr) {
    metrics_->Describe(kCacheMetric, "Gateway response cache lookups by result (hit/miss).");
    metrics_->Describe(kCacheBytesMetric, "Bytes held by the gateway response cache.");
  }
}

bool ResponseCache::IsCacheable(const GenerateRequest& request) {
  const auto& sampling = request.sampling();
  return (sampling.has_temperature() && sampling.temperature() == 0.0f) || sampling.has_seed();
}

std::string ResponseCache::CanonicalKey(const GenerateRequest& request) {
  GenerateRequest canonical = request;
  canonical.clear_request_id();
  canonical.clear_user();
  // A single user message and the same text as a raw prompt are different
  // requests (the chat template applies to one only), so both stay as given.
  return absl::StrCat("v1:", Sha256Hex(DeterministicBytes(canonical)));
}

void ResponseCache::Count(const char* result) {
  if (metrics_ != nullptr) metrics_->IncrementCounter(kCacheMetric, {{"result", result}});
}

std::string ResponseCache::MessageKey(absl::string_view method,
                                      const google::protobuf::MessageLite& request,
                                      absl::string_view version) {
  return absl::StrCat(method, ":",
                      Sha256Hex(absl::StrCat(version, std::string(1, '\0'),
                                             DeterministicBytes(request))));
}

std::optional<GenerateResponse> ResponseCache::Lookup(absl::string_view tenant,
                                                      const GenerateRequest& request) {
  if (!IsCacheable(request)) return std::nullopt;
  GenerateResponse response;
  if (!LookupMessage(tenant, CanonicalKey(request), &response)) return std::nullopt;
  return response;
}

void ResponseCache::Insert(absl::string_view tenant, const GenerateRequest& request,
                           const GenerateResponse& response) {
  if (!IsCacheable(request)) return;
  InsertMessage(tenant, CanonicalKey(request), response);
}

bool ResponseCache::LookupMessage(absl::string_view tenant, absl::string_view key,
                                  google::protobuf::MessageLite* response) {
  std::optional<std::string> payload = LookupBytes(tenant, key);
  return payload.has_value() && response->ParseFromString(*payload);
}

void ResponseCache::InsertMessage(absl::string_view tenant, absl::string_view key,
                                  const google::protobuf::MessageLite& response) {
  InsertBytes(tenant, key, response.SerializeAsString());
}

std::optional<std::string> ResponseCache::LookupBytes(absl::string_view tenant,
                                                      absl::string_view key) {
  std::string entry_key = EntryKey(tenant, key);
  absl::Time now = clock_->Now();
  std::optional<std::string> found;
  {
    absl::MutexLock lock(&mu_);
    auto it = index_.find(entry_key);
    if (it != index_.end() && it->second->expires <= now) {
      EraseLocked(it->second);
      ++stats_.expirations;
      it = index_.end();
    }
    if (it == index_.end()) {
      ++stats_.misses;
    } else {
      ++stats_.hits;
      lru_.splice(lru_.begin(), lru_, it->second);
      found = it->second->payload;
    }
  }
  Count(found ? "hit" : "miss");
  return found;
}

void ResponseCache::InsertBytes(absl::string_view tenant, absl::string_view key,
                                std::string payload) {
  Entry entry;
  entry.tenant = std::string(tenant);
  entry.key = EntryKey(tenant, key);
  entry.payload = std::move(payload);
  entry.expires = clock_->Now() + options_.ttl;
  entry.bytes = entry.key.size() + entry.payload.size() + kEntryOverheadBytes;
  if (entry.bytes > options_.max_bytes) return;

  size_t bytes_now;
  {
    absl::MutexLock lock(&mu_);
    auto existing = index_.find(entry.key);
    if (existing != index_.end()) EraseLocked(existing->second);
    while (stats_.bytes + entry.bytes > options_.max_bytes && !lru_.empty()) {
      EraseLocked(std::prev(lru_.end()));
      ++stats_.evictions;
    }
    stats_.bytes += entry.bytes;
    ++stats_.entries;
    ++stats_.insertions;
    lru_.push_front(std::move(entry));
    index_[lru_.front().key] = lru_.begin();
    bytes_now = stats_.bytes;
  }
  if (metrics_ != nullptr) metrics_->SetGauge(kCacheBytesMetric, {}, static_cast<double>(bytes_now));
}

void ResponseCache::InvalidateTenant(absl::string_view tenant) {
  absl::MutexLock lock(&mu_);
  for (auto it = lru_.begin(); it != lru_.end();) {
    auto next = std::next(it);
    if (it->tenant == tenant) EraseLocked(it);
    it = next;
  }
}

void ResponseCache::EraseLocked(EntryList::iterator it) {
  stats_.bytes -= it->bytes;
  --stats_.entries;
  index_.erase(it->key);
  lru_.erase(it);
}

ResponseCacheStats ResponseCache::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

}  // namespace tessera::gateway

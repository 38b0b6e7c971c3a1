#include "gateway/semantic_cache.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "gateway/response_cache.h"

namespace tessera::gateway {
namespace {

using tessera::generation::v1::GenerateRequest;
using tessera::generation::v1::GenerateResponse;

constexpr char kMetric[] = "tessera_gateway_semantic_cache_total";
constexpr char kEntriesMetric[] = "tessera_gateway_semantic_cache_entries";

absl::Status Error(const std::string& path, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", message));
}

// The request without what the cache compares by meaning (the question) and
// what does not change the answer (ids, the seed); hashed into the scope.
std::string ScopeOf(absl::string_view tenant, const GenerateRequest& request, bool per_user) {
  GenerateRequest rest = request;
  rest.clear_request_id();
  if (!per_user) rest.clear_user();
  rest.mutable_sampling()->clear_seed();
  bool cleared = false;
  for (int i = rest.messages_size() - 1; i >= 0 && !cleared; --i) {
    if (rest.messages(i).role() == "user") {
      rest.mutable_messages(i)->clear_content();
      cleared = true;
    }
  }
  if (!cleared) rest.clear_prompt();
  return ResponseCache::MessageKey("semantic", rest, tenant);
}

// Checks the options and compiles the route's bypass patterns (the defaults
// when unset): case-insensitive, errors reported (naming the pattern), not logged.
absl::StatusOr<std::vector<std::unique_ptr<RE2>>> CompileOptions(
    const SemanticCacheOptions& options, const std::string& path) {
  if (!(options.threshold > 0 && options.threshold <= 1)) {
    return Error(path + ".threshold", "must be within (0, 1]");
  }
  if (options.ttl <= absl::ZeroDuration()) return Error(path + ".ttl_seconds", "must be positive");
  if (options.max_entries < 1) return Error(path + ".max_entries", "must be at least 1");
  RE2::Options re2_options;
  re2_options.set_case_sensitive(false);
  re2_options.set_log_errors(false);
  const std::vector<std::string>& patterns =
      options.bypass_patterns.has_value() ? *options.bypass_patterns : DefaultTimeSensitivePatterns();
  std::vector<std::unique_ptr<RE2>> compiled;
  for (size_t i = 0; i < patterns.size(); ++i) {
    compiled.push_back(std::make_unique<RE2>(patterns[i], re2_options));
    if (!compiled.back()->ok()) {
      return Error(absl::StrCat(path, ".bypass_patterns[", i, "]"), compiled.back()->error());
    }
  }
  return compiled;
}

}  // namespace

const std::vector<std::string>& DefaultTimeSensitivePatterns() {
  static const auto* patterns = new std::vector<std::string>{
      R"(\b(today|tonight|tomorrow|yesterday|now|currently|current|latest|recent|recently)\b)",
      R"(\b(this|next|last) (week|month|year|quarter)\b)",
      R"(\b(right now|as of|up to date|breaking|live)\b)",
  };
  return *patterns;
}

absl::Status ValidateSemanticCacheOptions(const SemanticCacheOptions& options,
                                          const std::string& path) {
  return CompileOptions(options, path).status();
}

absl::StatusOr<std::unique_ptr<SemanticCache>> SemanticCache::Create(
    std::map<std::string, SemanticCacheOptions> routes,
    std::function<std::shared_ptr<Embedder>(const std::string& embedding_model)> embedder_for,
    const Clock* clock, MetricsRegistry* metrics) {
  auto cache = std::unique_ptr<SemanticCache>(new SemanticCache(clock, metrics));
  for (auto& [route, options] : routes) {
    auto bypass = CompileOptions(options, absl::StrCat("routes[\"", route, "\"].semantic_cache"));
    if (!bypass.ok()) return bypass.status();
    auto state = std::make_unique<RouteState>();
    state->bypass = std::move(*bypass);
    state->embedder = embedder_for(options.embedding_model);
    if (state->embedder == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("route \"", route, "\": no embedder for the semantic cache"));
    }
    state->options = std::move(options);
    cache->routes_[route] = std::move(state);
  }
  if (metrics != nullptr) {
    metrics->Describe(kMetric,
                      "Semantic cache lookups by route and result (hit, miss, bypass, unavailable).");
    metrics->Describe(kEntriesMetric, "Entries held by the semantic cache, by route.");
  }
  return cache;
}

void SemanticCache::Count(absl::string_view route, const char* result) const {
  if (metrics_ != nullptr) {
    metrics_->IncrementCounter(kMetric, {{"route", std::string(route)}, {"result", result}});
  }
}

std::optional<GenerateResponse> SemanticCache::Lookup(absl::string_view route,
                                                      absl::string_view tenant,
                                                      const GenerateRequest& request,
                                                      Probe* probe) {
  *probe = Probe();
  probe->route = std::string(route);
  auto found = routes_.find(route);
  if (found == routes_.end()) {
    probe->bypass_reason = "not_configured";
    return std::nullopt;
  }
  RouteState& state = *found->second;
  const std::string question = QuestionText(request);
  if (request.tools_size() > 0) {
    // Tool calls act on the world; their answers are not reusable.
    probe->bypass_reason = "tools";
  } else if (question.empty()) {
    probe->bypass_reason = "no_question";
  } else if (state.options.per_user && request.user().empty()) {
    probe->bypass_reason = "no_user";
  } else {
    for (const auto& pattern : state.bypass) {
      if (RE2::PartialMatch(question, *pattern)) {
        probe->bypass_reason = "time_sensitive";
        break;
      }
    }
  }
  if (!probe->bypass_reason.empty()) {
    {
      absl::MutexLock lock(&state.mu);
      ++state.stats.bypassed;
    }
    Count(route, "bypass");
    return std::nullopt;
  }
  auto embedded = EmbedNormalized(*state.embedder, {question});
  if (!embedded.ok()) {
    // The call goes on uncached: a cache must never fail a request.
    probe->bypass_reason = absl::StrCat("embedder: ", embedded.status().message());
    spdlog::warn("route \"{}\": semantic cache unavailable ({})", probe->route,
                 embedded.status().ToString());
    {
      absl::MutexLock lock(&state.mu);
      ++state.stats.unavailable;
    }
    Count(route, "unavailable");
    return std::nullopt;
  }
  probe->embedding = std::move(embedded->front());
  probe->scope = ScopeOf(tenant, request, state.options.per_user);

  const absl::Time now = clock_->Now();
  std::optional<GenerateResponse> hit;
  {
    absl::MutexLock lock(&state.mu);
    auto scope = state.by_scope.find(probe->scope);
    if (scope != state.by_scope.end()) {
      // Expired entries go first, so the scan below sees live ones only.
      std::vector<EntryList::iterator> expired;
      for (EntryList::iterator it : scope->second) {
        if (it->expires <= now) expired.push_back(it);
      }
      for (EntryList::iterator it : expired) EraseLocked(state, it);
    }
    scope = state.by_scope.find(probe->scope);
    EntryList::iterator best;
    if (scope != state.by_scope.end()) {
      for (EntryList::iterator it : scope->second) {
        if (it->embedding.size() != probe->embedding.size()) continue;
        const double similarity = Dot(it->embedding, probe->embedding);
        if (similarity > probe->best_similarity) {
          probe->best_similarity = similarity;
          best = it;
        }
      }
    }
    if (probe->best_similarity >= state.options.threshold) {
      GenerateResponse response;
      if (response.ParseFromString(best->payload)) {
        state.lru.splice(state.lru.begin(), state.lru, best);
        hit = std::move(response);
      }
    }
    if (hit.has_value()) {
      ++state.stats.hits;
    } else {
      ++state.stats.misses;
    }
  }
  Count(route, hit.has_value() ? "hit" : "miss");
  return hit;
}

void SemanticCache::Insert(const Probe& probe, const GenerateResponse& response) {
  if (!probe.bypass_reason.empty() || probe.embedding.empty()) return;
  auto found = routes_.find(probe.route);
  if (found == routes_.end()) return;
  RouteState& state = *found->second;
  Entry entry;
  entry.scope = probe.scope;
  entry.embedding = probe.embedding;
  entry.payload = response.SerializeAsString();
  entry.expires = clock_->Now() + state.options.ttl;
  size_t entries = 0;
  {
    absl::MutexLock lock(&state.mu);
    state.lru.push_front(std::move(entry));
    state.by_scope[probe.scope].push_back(state.lru.begin());
    while (state.lru.size() > static_cast<size_t>(state.options.max_entries)) {
      EraseLocked(state, std::prev(state.lru.end()));
      ++state.stats.evictions;
    }
    entries = state.lru.size();
  }
  if (metrics_ != nullptr) {
    metrics_->SetGauge(kEntriesMetric, {{"route", probe.route}}, static_cast<double>(entries));
  }
}

void SemanticCache::EraseLocked(RouteState& state, EntryList::iterator it) {
  auto scope = state.by_scope.find(it->scope);
  if (scope != state.by_scope.end()) {
    std::vector<EntryList::iterator>& members = scope->second;
    members.erase(std::remove(members.begin(), members.end(), it), members.end());
    if (members.empty()) state.by_scope.erase(scope);
  }
  state.lru.erase(it);
}

SemanticCacheStats SemanticCache::stats(absl::string_view route) const {
  auto found = routes_.find(route);
  if (found == routes_.end()) return {};
  absl::MutexLock lock(&found->second->mu);
  SemanticCacheStats stats = found->second->stats;
  stats.entries = found->second->lru.size();
  return stats;
}

}  // namespace tessera::gateway

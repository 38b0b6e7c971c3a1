#include "gateway/response_cache.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"

namespace tessera::gateway {
namespace {

using tessera::generation::v1::GenerateRequest;
using tessera::generation::v1::GenerateResponse;

GenerateRequest Greedy(const std::string& question, const std::string& model = "m") {
  GenerateRequest request;
  request.set_model(model);
  auto* message = request.add_messages();
  message->set_role("user");
  message->set_content(question);
  request.mutable_sampling()->set_temperature(0);
  request.mutable_sampling()->set_max_tokens(64);
  return request;
}

GenerateResponse Answer(const std::string& text) {
  GenerateResponse response;
  response.set_text(text);
  response.set_model("m");
  return response;
}

TEST(ResponseCacheTest, OnlyDeterministicRequestsAreCacheable) {
  GenerateRequest request = Greedy("hi");
  EXPECT_TRUE(ResponseCache::IsCacheable(request));
  request.mutable_sampling()->set_temperature(0.7f);
  EXPECT_FALSE(ResponseCache::IsCacheable(request));
  request.mutable_sampling()->set_seed(42);
  EXPECT_TRUE(ResponseCache::IsCacheable(request));
  request.mutable_sampling()->clear_temperature();
  request.mutable_sampling()->clear_seed();
  // Unset temperature means the model's default, which samples.
  EXPECT_FALSE(ResponseCache::IsCacheable(request));
}

TEST(ResponseCacheTest, KeyCoversModelMessagesAndParamsButNotIds) {
  GenerateRequest base = Greedy("What is RAG?");
  std::string key = ResponseCache::CanonicalKey(base);
  EXPECT_EQ(key.size(), 3u + 64u);

  GenerateRequest same = base;
  same.set_request_id("req-123");
  same.set_user("alice");
  EXPECT_EQ(ResponseCache::CanonicalKey(same), key);

  GenerateRequest other_model = Greedy("What is RAG?", "m2");
  GenerateRequest other_text = Greedy("What is RAG ?");
  GenerateRequest other_params = base;
  other_params.mutable_sampling()->set_max_tokens(65);
  GenerateRequest other_role = base;
  other_role.mutable_messages(0)->set_role("system");
  for (const auto* request : {&other_model, &other_text, &other_params, &other_role}) {
    EXPECT_NE(ResponseCache::CanonicalKey(*request), key);
  }
}

TEST(ResponseCacheTest, HitMissAndTenantIsolation) {
  FakeClock clock;
  MetricsRegistry metrics;
  ResponseCache cache({.max_bytes = 1 << 20, .ttl = absl::Minutes(5)}, &clock, &metrics);
  GenerateRequest request = Greedy("q");
  EXPECT_FALSE(cache.Lookup("acme", request).has_value());
  cache.Insert("acme", request, Answer("a"));
  auto hit = cache.Lookup("acme", request);
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->text(), "a");
  // Another tenant never sees acme's entry.
  EXPECT_FALSE(cache.Lookup("globex", request).has_value());

  ResponseCacheStats stats = cache.stats();
  EXPECT_EQ(stats.hits, 1);
  EXPECT_EQ(stats.misses, 2);
  EXPECT_EQ(stats.entries, 1u);
  std::string rendered = metrics.RenderPrometheus();
  EXPECT_TRUE(absl::StrContains(rendered, "tessera_gateway_cache_requests_total{result=\"hit\"} 1"))
      << rendered;
  EXPECT_TRUE(absl::StrContains(rendered, "tessera_gateway_cache_requests_total{result=\"miss\"} 2"))
      << rendered;
}

TEST(ResponseCacheTest, NonDeterministicRequestsAreNeitherStoredNorCounted) {
  FakeClock clock;
  ResponseCache cache({}, &clock, nullptr);
  GenerateRequest request = Greedy("q");
  request.mutable_sampling()->set_temperature(1.0f);
  cache.Insert("t", request, Answer("a"));
  EXPECT_FALSE(cache.Lookup("t", request).has_value());
  EXPECT_EQ(cache.stats().entries, 0u);
  EXPECT_EQ(cache.stats().misses, 0);
}

TEST(ResponseCacheTest, EntriesExpireAfterTtl) {
  FakeClock clock;
  ResponseCache cache({.max_bytes = 1 << 20, .ttl = absl::Seconds(30)}, &clock, nullptr);
  GenerateRequest request = Greedy("q");
  cache.Insert("t", request, Answer("a"));
  clock.Advance(absl::Seconds(29));
  EXPECT_TRUE(cache.Lookup("t", request).has_value());
  clock.Advance(absl::Seconds(1));
  EXPECT_FALSE(cache.Lookup("t", request).has_value());
  EXPECT_EQ(cache.stats().expirations, 1);
  EXPECT_EQ(cache.stats().bytes, 0u);
}

TEST(ResponseCacheTest, EvictsLeastRecentlyUsedToStayWithinBytes) {
  FakeClock clock;
  // Each entry is ~1000 bytes of text plus key and overhead (~1.25 KB): two fit.
  ResponseCache cache({.max_bytes = 2800, .ttl = absl::Hours(1)}, &clock, nullptr);
  GenerateRequest a = Greedy("a"), b = Greedy("b"), c = Greedy("c");
  cache.Insert("t", a, Answer(std::string(1000, 'A')));
  cache.Insert("t", b, Answer(std::string(1000, 'B')));
  EXPECT_EQ(cache.stats().entries, 2u);
  ASSERT_TRUE(cache.Lookup("t", a).has_value());  // a is now most recent
  cache.Insert("t", c, Answer(std::string(1000, 'C')));
  EXPECT_TRUE(cache.Lookup("t", a).has_value());
  EXPECT_FALSE(cache.Lookup("t", b).has_value());
  EXPECT_TRUE(cache.Lookup("t", c).has_value());
  ResponseCacheStats stats = cache.stats();
  EXPECT_EQ(stats.evictions, 1);
  EXPECT_LE(stats.bytes, 2800u);
  // Larger than the whole cache: not stored, nothing evicted.
  cache.Insert("t", Greedy("huge"), Answer(std::string(5000, 'H')));
  EXPECT_EQ(cache.stats().entries, 2u);
}

TEST(ResponseCacheTest, ReplacingAnEntryKeepsAccountingExact) {
  FakeClock clock;
  ResponseCache cache({}, &clock, nullptr);
  GenerateRequest request = Greedy("q");
  cache.Insert("t", request, Answer(std::string(100, 'x')));
  size_t one = cache.stats().bytes;
  cache.Insert("t", request, Answer(std::string(100, 'y')));
  EXPECT_EQ(cache.stats().bytes, one);
  EXPECT_EQ(cache.stats().entries, 1u);
  EXPECT_EQ(cache.Lookup("t", request)->text(), std::string(100, 'y'));
  cache.Insert("u", request, Answer("z"));
  cache.InvalidateTenant("t");
  EXPECT_FALSE(cache.Lookup("t", request).has_value());
  EXPECT_TRUE(cache.Lookup("u", request).has_value());
  EXPECT_EQ(cache.stats().entries, 1u);
}

TEST(ResponseCacheTest, AnyMessageUnderAVersionedKey) {
  FakeClock clock;
  ResponseCache cache({}, &clock, nullptr);
  GenerateRequest request = Greedy("q");
  std::string at_1 = ResponseCache::MessageKey("Search", request, "1");
  EXPECT_NE(ResponseCache::MessageKey("Search", request, "2"), at_1);
  EXPECT_NE(ResponseCache::MessageKey("Embed", request, "1"), at_1);
  request.set_request_id("other");
  EXPECT_NE(ResponseCache::MessageKey("Search", request, "1"), at_1);

  GenerateResponse out;
  EXPECT_FALSE(cache.LookupMessage("t", at_1, &out));
  cache.InsertMessage("t", at_1, Answer("cached"));
  ASSERT_TRUE(cache.LookupMessage("t", at_1, &out));
  EXPECT_EQ(out.text(), "cached");
  EXPECT_FALSE(cache.LookupMessage("u", at_1, &out));
}

}  // namespace
}  // namespace tessera::gateway

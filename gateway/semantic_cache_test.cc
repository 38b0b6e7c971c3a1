#include "gateway/semantic_cache.h"

#include <cmath>

#include "gateway/testing/hashing_embedder.h"
#include "gtest/gtest.h"

namespace tessera::gateway {
namespace {

using tessera::generation::v1::GenerateRequest;
using tessera::generation::v1::GenerateResponse;

GenerateRequest Ask(const std::string& question, const std::string& system = "Be brief.") {
  GenerateRequest request;
  request.set_model("faq");
  auto* first = request.add_messages();
  first->set_role("system");
  first->set_content(system);
  auto* user = request.add_messages();
  user->set_role("user");
  user->set_content(question);
  request.mutable_sampling()->set_max_tokens(64);
  return request;
}

GenerateResponse Answer(const std::string& text) {
  GenerateResponse response;
  response.set_text(text);
  return response;
}

class SemanticCacheTest : public ::testing::Test {
 protected:
  std::unique_ptr<SemanticCache> Make(SemanticCacheOptions options) {
    std::map<std::string, SemanticCacheOptions> routes;
    routes["faq"] = std::move(options);
    auto cache = SemanticCache::Create(
        std::move(routes),
        [this](const std::string& model) {
          requested_model_ = model;
          return embedder_;
        },
        &clock_, &metrics_);
    EXPECT_TRUE(cache.ok()) << cache.status();
    return cache.ok() ? std::move(*cache) : nullptr;
  }

  // Looks `request` up and, on a miss, stores `answer` for it.
  std::optional<GenerateResponse> Through(SemanticCache& cache, const std::string& tenant,
                                          const GenerateRequest& request,
                                          const std::string& answer,
                                          SemanticCache::Probe* probe_out = nullptr) {
    SemanticCache::Probe probe;
    auto hit = cache.Lookup("faq", tenant, request, &probe);
    if (!hit) cache.Insert(probe, Answer(answer));
    if (probe_out != nullptr) *probe_out = probe;
    return hit;
  }

  std::shared_ptr<testing::HashingEmbedder> embedder_ = std::make_shared<testing::HashingEmbedder>();
  std::string requested_model_ = "unset";
  FakeClock clock_;
  MetricsRegistry metrics_;
};

TEST_F(SemanticCacheTest, ASimilarQuestionGetsTheEarlierAnswer) {
  SemanticCacheOptions options;
  options.threshold = 0.9;
  options.embedding_model = "minilm";
  auto cache = Make(options);
  ASSERT_NE(cache, nullptr);
  EXPECT_EQ(requested_model_, "minilm");
  EXPECT_FALSE(Through(*cache, "acme", Ask("What is BM25 ranking?"), "a ranking function"));
  // Same words, other case and punctuation: cosine 1.
  SemanticCache::Probe probe;
  auto hit = Through(*cache, "acme", Ask("what is bm25 ranking"), "unused", &probe);
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->text(), "a ranking function");
  EXPECT_NEAR(probe.best_similarity, 1.0, 1e-6);
  // 4 of 6 words shared: cosine 4/sqrt(4*6) = 0.816 < 0.9, a miss.
  auto miss = Through(*cache, "acme", Ask("What is BM25 ranking used for"), "its uses", &probe);
  EXPECT_FALSE(miss.has_value());
  EXPECT_NEAR(probe.best_similarity, 4 / std::sqrt(24.0), 1e-6);
  // That answer was stored too, and is now the nearest for its own question.
  hit = Through(*cache, "acme", Ask("what is bm25 ranking used for?"), "unused");
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->text(), "its uses");

  SemanticCacheStats stats = cache->stats("faq");
  EXPECT_EQ(stats.hits, 2);
  EXPECT_EQ(stats.misses, 2);
  EXPECT_EQ(stats.entries, 2u);
  EXPECT_NE(metrics_.RenderPrometheus().find(
                "tessera_gateway_semantic_cache_total{route=\"faq\",result=\"hit\"} 2"),
            std::string::npos)
      << metrics_.RenderPrometheus();
}

TEST_F(SemanticCacheTest, TheThresholdDecides) {
  SemanticCacheOptions options;
  options.threshold = 0.8;  // now 0.816 is close enough
  auto cache = Make(options);
  EXPECT_FALSE(Through(*cache, "acme", Ask("What is BM25 ranking?"), "a ranking function"));
  auto hit = Through(*cache, "acme", Ask("What is BM25 ranking used for"), "unused");
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->text(), "a ranking function");
}

TEST_F(SemanticCacheTest, ScopedByTenantUserAndTheRestOfTheRequest) {
  SemanticCacheOptions options;
  auto cache = Make(options);
  EXPECT_FALSE(Through(*cache, "acme", Ask("What is BM25?"), "acme's answer"));
  // Another tenant never sees acme's entry.
  EXPECT_FALSE(Through(*cache, "globex", Ask("What is BM25?"), "globex's answer"));
  EXPECT_EQ(Through(*cache, "globex", Ask("what is BM25"), "")->text(), "globex's answer");
  // Another system prompt, another scope.
  EXPECT_FALSE(Through(*cache, "acme", Ask("What is BM25?", "Answer in French."), "en français"));
  // Other sampling limits change the answer's shape: another scope.
  GenerateRequest longer = Ask("What is BM25?");
  longer.mutable_sampling()->set_max_tokens(512);
  EXPECT_FALSE(Through(*cache, "acme", longer, "a long answer"));
  // Ids and seeds do not matter.
  GenerateRequest seeded = Ask("What is BM25?");
  seeded.set_request_id("r-77");
  seeded.set_user("someone");
  seeded.mutable_sampling()->set_seed(9);
  EXPECT_EQ(Through(*cache, "acme", seeded, "")->text(), "acme's answer");
}

TEST_F(SemanticCacheTest, PerUserRoutesShareOnlyWithinAUser) {
  SemanticCacheOptions options;
  options.per_user = true;
  auto cache = Make(options);
  GenerateRequest alice = Ask("What is on my calendar?");
  alice.set_user("alice");
  GenerateRequest bob = alice;
  bob.set_user("bob");
  EXPECT_FALSE(Through(*cache, "acme", alice, "alice's meetings"));
  EXPECT_FALSE(Through(*cache, "acme", bob, "bob's meetings"));
  EXPECT_EQ(Through(*cache, "acme", alice, "")->text(), "alice's meetings");
  GenerateRequest anonymous = alice;
  anonymous.clear_user();
  SemanticCache::Probe probe;
  EXPECT_FALSE(Through(*cache, "acme", anonymous, "x", &probe));
  EXPECT_EQ(probe.bypass_reason, "no_user");
}

TEST_F(SemanticCacheTest, TimeSensitiveAndToolQuestionsBypass) {
  auto cache = Make(SemanticCacheOptions());
  SemanticCache::Probe probe;
  const int calls = embedder_->calls();
  for (const char* question :
       {"What is the latest release?", "Weather today?", "Who won last week", "price right now"}) {
    EXPECT_FALSE(Through(*cache, "acme", Ask(question), "stale", &probe));
    EXPECT_EQ(probe.bypass_reason, "time_sensitive") << question;
    EXPECT_FALSE(Through(*cache, "acme", Ask(question), "stale", &probe)) << question;
  }
  GenerateRequest tools = Ask("Book a table");
  tools.add_tools()->set_name("book");
  EXPECT_FALSE(Through(*cache, "acme", tools, "booked", &probe));
  EXPECT_FALSE(Through(*cache, "acme", tools, "booked", &probe));
  EXPECT_EQ(probe.bypass_reason, "tools");
  EXPECT_EQ(embedder_->calls(), calls);  // nothing was embedded
  EXPECT_EQ(cache->stats("faq").entries, 0u);
  EXPECT_EQ(cache->stats("faq").bypassed, 10);

  // Patterns of the route's own replace the defaults.
  SemanticCacheOptions options;
  options.bypass_patterns = std::vector<std::string>{R"(\bmy account\b)"};
  auto custom = Make(options);
  EXPECT_FALSE(Through(*custom, "acme", Ask("Show MY ACCOUNT balance"), "x", &probe));
  EXPECT_EQ(probe.bypass_reason, "time_sensitive");
  EXPECT_FALSE(Through(*custom, "acme", Ask("What is the latest release?"), "v2"));
  EXPECT_EQ(Through(*custom, "acme", Ask("what is the latest release"), "")->text(), "v2");
}

TEST_F(SemanticCacheTest, EntriesExpireAndTheLeastRecentlyUsedAreEvicted) {
  SemanticCacheOptions options;
  options.ttl = absl::Seconds(60);
  options.max_entries = 2;
  auto cache = Make(options);
  EXPECT_FALSE(Through(*cache, "acme", Ask("alpha question"), "A"));
  clock_.Advance(absl::Seconds(30));
  EXPECT_FALSE(Through(*cache, "acme", Ask("beta question"), "B"));
  EXPECT_TRUE(Through(*cache, "acme", Ask("alpha question"), ""));  // alpha now most recent
  EXPECT_FALSE(Through(*cache, "acme", Ask("gamma question"), "C"));  // evicts beta
  EXPECT_EQ(cache->stats("faq").evictions, 1);
  EXPECT_FALSE(Through(*cache, "acme", Ask("beta question"), "B2"));  // evicts alpha
  EXPECT_TRUE(Through(*cache, "acme", Ask("gamma question"), ""));
  clock_.Advance(absl::Seconds(61));
  EXPECT_FALSE(Through(*cache, "acme", Ask("gamma question"), "C2"));  // expired
}

TEST_F(SemanticCacheTest, AFailingEmbedderMeansNoCachingNotAFailure) {
  auto cache = Make(SemanticCacheOptions());
  embedder_->set_fail(true);
  SemanticCache::Probe probe;
  EXPECT_FALSE(Through(*cache, "acme", Ask("What is BM25?"), "x", &probe));
  EXPECT_NE(probe.bypass_reason.find("embedder"), std::string::npos) << probe.bypass_reason;
  EXPECT_EQ(cache->stats("faq").unavailable, 1);
  EXPECT_EQ(cache->stats("faq").entries, 0u);
  embedder_->set_fail(false);
  EXPECT_FALSE(Through(*cache, "acme", Ask("What is BM25?"), "y"));
  EXPECT_EQ(Through(*cache, "acme", Ask("What is BM25?"), "")->text(), "y");
}

TEST_F(SemanticCacheTest, RoutesWithoutOptionsAreNotCached) {
  auto cache = Make(SemanticCacheOptions());
  EXPECT_TRUE(cache->Covers("faq"));
  EXPECT_FALSE(cache->Covers("chat"));
  SemanticCache::Probe probe;
  EXPECT_FALSE(cache->Lookup("chat", "acme", Ask("hi"), &probe));
  EXPECT_EQ(probe.bypass_reason, "not_configured");
}

TEST(SemanticCacheOptionsTest, InvalidOptionsAreNamed) {
  SemanticCacheOptions options;
  options.threshold = 1.5;
  EXPECT_NE(ValidateSemanticCacheOptions(options, "r.semantic_cache").message().find("threshold"),
            std::string::npos);
  options = SemanticCacheOptions();
  options.max_entries = 0;
  EXPECT_NE(ValidateSemanticCacheOptions(options, "r").message().find("max_entries"),
            std::string::npos);
  options = SemanticCacheOptions();
  options.bypass_patterns = std::vector<std::string>{"ok", "(unclosed"};
  EXPECT_NE(ValidateSemanticCacheOptions(options, "r").message().find("bypass_patterns[1]"),
            std::string::npos);
}

}  // namespace
}  // namespace tessera::gateway

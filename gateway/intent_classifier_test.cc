#include "gateway/intent_classifier.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "gateway/router_config.h"
#include "gateway/testing/hashing_embedder.h"

namespace tessera::gateway {
namespace {

using testing::HashingEmbedder;

IntentOptions BillingAndChitchat() {
  IntentOptions options;
  options.examples = {
      {"refund my invoice payment", "billing"},
      {"my credit card was charged twice on the invoice", "billing"},
      {"update billing address for payment", "billing"},
      {"hello how are you today", "chitchat"},
      {"tell me a joke please", "chitchat"},
      {"good morning nice weather today", "chitchat"},
  };
  options.class_backends = {{"billing", "finance-model"}, {"chitchat", "small-model"}};
  options.default_backend = "big-model";
  options.min_similarity = 0.2;
  return options;
}

TEST(IntentClassifierTest, TwoClassesRouteToTheirTargets) {
  HashingEmbedder embedder;
  auto classifier = IntentClassifier::Train(BillingAndChitchat(), embedder);
  ASSERT_TRUE(classifier.ok()) << classifier.status();
  EXPECT_EQ(classifier->dimension(), 256u);

  auto billing = classifier->Classify("I want a refund for this invoice", embedder);
  ASSERT_TRUE(billing.ok()) << billing.status();
  EXPECT_EQ(billing->label, "billing");
  EXPECT_EQ(billing->backend, "finance-model");
  EXPECT_GE(billing->similarity, 0.2);

  auto chitchat = classifier->Classify("Hello, tell me a joke", embedder);
  ASSERT_TRUE(chitchat.ok()) << chitchat.status();
  EXPECT_EQ(chitchat->label, "chitchat");
  EXPECT_EQ(chitchat->backend, "small-model");
}

TEST(IntentClassifierTest, BelowMinSimilarityGoesToTheDefault) {
  HashingEmbedder embedder;
  auto classifier = IntentClassifier::Train(BillingAndChitchat(), embedder);
  ASSERT_TRUE(classifier.ok()) << classifier.status();
  // No word in common with any example: cosine 0 (or a hash collision's
  // small value) stays below 0.2.
  auto unrelated = classifier->Classify("quantum chromodynamics lattice gauge", embedder);
  ASSERT_TRUE(unrelated.ok()) << unrelated.status();
  EXPECT_EQ(unrelated->label, "default");
  EXPECT_EQ(unrelated->backend, "big-model");
  EXPECT_LT(unrelated->similarity, 0.2);

  // An empty query has no direction: default as well, not an error.
  auto empty = classifier->Classify("", embedder);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->label, "default");
}

TEST(IntentClassifierTest, CentroidIsTheRenormalisedMeanOfNormalisedExamples) {
  // Hand-made vectors: class "a" has (1,0) and (0,2) -> centroid (1,1)/sqrt2.
  class Fixed : public Embedder {
   public:
    absl::StatusOr<std::vector<std::vector<float>>> Embed(
        const std::vector<std::string>& texts) override {
      std::vector<std::vector<float>> out;
      for (const std::string& text : texts) {
        if (text == "x") out.push_back({1, 0});
        if (text == "y") out.push_back({0, 2});
        if (text == "z") out.push_back({-1, 0});
      }
      return out;
    }
  } embedder;
  IntentOptions options;
  options.examples = {{"x", "a"}, {"y", "a"}, {"z", "b"}};
  options.class_backends = {{"a", "A"}, {"b", "B"}};
  options.default_backend = "D";
  options.min_similarity = 0.5;
  auto classifier = IntentClassifier::Train(options, embedder);
  ASSERT_TRUE(classifier.ok()) << classifier.status();
  auto diagonal = classifier->Nearest({3, 3});
  ASSERT_TRUE(diagonal.ok());
  EXPECT_EQ(diagonal->label, "a");
  EXPECT_NEAR(diagonal->similarity, 1.0, 1e-6);
  auto left = classifier->Nearest({-5, 0.1f});
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->backend, "B");
  // Orthogonal-ish to both: below 0.5 -> default.
  auto down = classifier->Nearest({0.2f, -1});
  ASSERT_TRUE(down.ok());
  EXPECT_EQ(down->backend, "D");
  EXPECT_FALSE(classifier->Nearest({1, 2, 3}).ok());  // wrong dimension
}

TEST(IntentClassifierTest, EmbedderFailuresAndBadVectorsAreErrors) {
  HashingEmbedder embedder;
  embedder.set_fail(true);
  auto failed = IntentClassifier::Train(BillingAndChitchat(), embedder);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);

  class Zeros : public Embedder {
   public:
    absl::StatusOr<std::vector<std::vector<float>>> Embed(
        const std::vector<std::string>& texts) override {
      return std::vector<std::vector<float>>(texts.size(), std::vector<float>(4, 0.0f));
    }
  } zeros;
  EXPECT_FALSE(IntentClassifier::Train(BillingAndChitchat(), zeros).ok());

  class TooFew : public Embedder {
   public:
    absl::StatusOr<std::vector<std::vector<float>>> Embed(
        const std::vector<std::string>&) override {
      return std::vector<std::vector<float>>{{1, 0}};
    }
  } too_few;
  EXPECT_FALSE(IntentClassifier::Train(BillingAndChitchat(), too_few).ok());
}

TEST(IntentClassifierTest, OptionErrorsNameThePath) {
  IntentOptions options = BillingAndChitchat();
  options.examples.push_back({"where is my parcel", "shipping"});
  absl::Status status = ValidateIntentOptions(options, "intent");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("intent.examples[6].class"), std::string::npos) << status;

  options = BillingAndChitchat();
  options.class_backends["shipping"] = "small-model";  // a class without examples
  EXPECT_NE(ValidateIntentOptions(options, "intent").message().find("has no examples"),
            std::string::npos);

  options = BillingAndChitchat();
  options.default_backend.clear();
  EXPECT_FALSE(ValidateIntentOptions(options, "intent").ok());

  options = BillingAndChitchat();
  options.examples.clear();
  EXPECT_FALSE(ValidateIntentOptions(options, "intent").ok());

  options = BillingAndChitchat();
  options.min_similarity = 1.5;
  EXPECT_FALSE(ValidateIntentOptions(options, "intent").ok());
}

// The route's "intent" and "policy" in the router config.
constexpr char kIntentRoute[] = R"({
  "backends": [{"name": "cheap", "kind": "openai", "address": "http://127.0.0.1:1/v1",
                "prompt_micros_per_1k_tokens": 10},
               {"name": "pricey", "kind": "openai", "address": "http://127.0.0.1:2/v1",
                "prompt_micros_per_1k_tokens": 500}],
  "routes": [{"name": "support", "policy": "cheapest",
              "targets": [{"backend": "pricey"}, {"backend": "cheap"}],
              "intent": {"examples": [{"text": "refund", "class": "billing"},
                                      {"text": "hello", "class": "chitchat"}],
                         "classes": {"billing": "pricey", "chitchat": "cheap"},
                         "default": "local", "min_similarity": 0.3}}]
})";

TEST(IntentConfigTest, ParsesIntentAndPolicy) {
  auto config = ParseRouterConfig(nlohmann::json::parse(kIntentRoute));
  ASSERT_TRUE(config.ok()) << config.status();
  const IntentOptions& intent = config->intents.at("support");
  EXPECT_EQ(intent.examples.size(), 2u);
  EXPECT_EQ(intent.examples[0].label, "billing");
  EXPECT_EQ(intent.class_backends.at("chitchat"), "cheap");
  EXPECT_EQ(intent.default_backend, "local");
  EXPECT_DOUBLE_EQ(intent.min_similarity, 0.3);
  EXPECT_TRUE(config->cheapest_routes.count("support"));
}

TEST(IntentConfigTest, ErrorsNameTheOffendingPath) {
  auto with = [](const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json json = nlohmann::json::parse(kIntentRoute);
    edit(json);
    return ParseRouterConfig(json).status();
  };
  absl::Status unknown_backend =
      with([](nlohmann::json& j) { j["routes"][0]["intent"]["classes"]["billing"] = "nope"; });
  EXPECT_EQ(unknown_backend.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(unknown_backend.message().find("intent.classes.billing"), std::string::npos)
      << unknown_backend;
  EXPECT_NE(unknown_backend.message().find("unknown backend"), std::string::npos);

  absl::Status unknown_class = with(
      [](nlohmann::json& j) { j["routes"][0]["intent"]["examples"][1]["class"] = "other"; });
  EXPECT_NE(unknown_class.message().find("examples[1].class"), std::string::npos)
      << unknown_class;

  absl::Status unknown_key =
      with([](nlohmann::json& j) { j["routes"][0]["intent"]["centroids"] = 3; });
  EXPECT_NE(unknown_key.message().find("centroids"), std::string::npos) << unknown_key;

  absl::Status bad_policy = with([](nlohmann::json& j) { j["routes"][0]["policy"] = "fastest"; });
  EXPECT_NE(bad_policy.message().find("policy"), std::string::npos) << bad_policy;

  absl::Status bad_threshold =
      with([](nlohmann::json& j) { j["routes"][0]["intent"]["min_similarity"] = 2; });
  EXPECT_NE(bad_threshold.message().find("min_similarity"), std::string::npos) << bad_threshold;

  absl::Status no_examples =
      with([](nlohmann::json& j) { j["routes"][0]["intent"]["examples"] = nlohmann::json::array(); });
  EXPECT_FALSE(no_examples.ok());
}

}  // namespace
}  // namespace tessera::gateway

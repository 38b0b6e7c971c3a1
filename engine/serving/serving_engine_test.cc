#include "engine/serving/serving_engine.h"

#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "engine/serving/cpu_executor.h"
#include "engine/serving/executor_factory.h"
#include "engine/serving/test_models.h"
#include "gtest/gtest.h"

namespace tessera::serving {
namespace {

using llama::LlamaModel;
using llama::SamplingOptions;

class ServingEngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto model = LoadRandomTinyLlama("gguf");
    ASSERT_TRUE(model.ok()) << model.status();
    model_ = model->release();
  }
  static void TearDownTestSuite() {
    delete model_;
    model_ = nullptr;
  }

  std::unique_ptr<ServingEngine> MakeEngine(int num_blocks, int block_size, ServingOptions options) {
    options.export_metrics = false;
    auto executor = NewExecutor(*model_, {num_blocks, block_size}, "auto");
    EXPECT_TRUE(executor.ok()) << executor.status();
    auto engine = ServingEngine::Create(*model_, std::move(*executor), options);
    EXPECT_TRUE(engine.ok()) << engine.status();
    return std::move(*engine);
  }

  static SamplingOptions Greedy(int max_tokens) {
    SamplingOptions options;
    options.max_tokens = max_tokens;
    return options;
  }

  static std::vector<int32_t> Prompt(uint64_t seed, int length) {
    std::mt19937_64 rng(seed);
    std::vector<int32_t> ids = {1};
    while (static_cast<int>(ids.size()) < length) ids.push_back(3 + rng() % 31000);
    return ids;
  }

  static void ExpectSameAsGenerate(const std::vector<int32_t>& prompt, const SamplingOptions& options,
                                   const Completion& got) {
    auto want = model_->Generate(prompt, options);
    ASSERT_TRUE(want.ok()) << want.status();
    EXPECT_EQ(got.result.tokens, want->tokens) << "prompt of " << prompt.size();
    EXPECT_EQ(got.result.text, want->text);
    EXPECT_EQ(got.result.finish_reason, want->finish_reason);
  }

  static LlamaModel* model_;
};

LlamaModel* ServingEngineTest::model_ = nullptr;

TEST_F(ServingEngineTest, ConcurrentRequestsMatchTheirSingleRequestGreedyResult) {
  ServingOptions options;
  options.max_batch_tokens = 48;  // Long prompts are chunked.
  auto engine = MakeEngine(/*num_blocks=*/96, /*block_size=*/8, options);
  struct Case {
    std::vector<int32_t> prompt;
    SamplingOptions options;
    Completion completion;
  };
  std::vector<Case> cases(28);
  for (size_t i = 0; i < cases.size(); ++i) {
    cases[i].prompt = Prompt(i, 2 + static_cast<int>((i * 37) % 90));
    cases[i].options = Greedy(1 + static_cast<int>((i * 13) % 30));
  }
  // Every fourth request shares a prompt prefix with the one before it.
  for (size_t i = 3; i < cases.size(); i += 4) {
    cases[i].prompt = cases[i - 1].prompt;
    cases[i].prompt.push_back(99);
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::shared_ptr<ServingRequest>> mine;
      for (size_t i = t; i < cases.size(); i += 4) {
        auto request = engine->Submit(cases[i].prompt, cases[i].options);
        ASSERT_TRUE(request.ok()) << request.status();
        mine.push_back(*request);
      }
      size_t k = 0;
      for (size_t i = t; i < cases.size(); i += 4) cases[i].completion = mine[k++]->Wait();
    });
  }
  for (auto& thread : threads) thread.join();
  for (const Case& c : cases) {
    ASSERT_TRUE(c.completion.status.ok()) << c.completion.status;
    ExpectSameAsGenerate(c.prompt, c.options, c.completion);
  }
  const ServingStats stats = engine->stats();
  EXPECT_GT(stats.steps, 0);
  EXPECT_EQ(stats.running, 0);
  EXPECT_EQ(stats.kv_blocks_used, 0);
  EXPECT_LT(stats.kv_wasted_fraction, 0.5);
}

TEST_F(ServingEngineTest, PreemptsUnderKvPressureAndStillMatches) {
  ServingOptions options;
  options.max_batch_tokens = 64;
  // 12 blocks of 4 = 48 slots for 8 requests of up to 30 positions each.
  auto engine = MakeEngine(12, 4, options);
  std::vector<std::vector<int32_t>> prompts;
  std::vector<std::shared_ptr<ServingRequest>> requests;
  for (int i = 0; i < 8; ++i) {
    prompts.push_back(Prompt(100 + i, 6 + i));
    auto request = engine->Submit(prompts.back(), Greedy(20));
    ASSERT_TRUE(request.ok()) << request.status();
    requests.push_back(*request);
  }
  for (int i = 0; i < 8; ++i) {
    const Completion completion = requests[i]->Wait();
    ASSERT_TRUE(completion.status.ok());
    ExpectSameAsGenerate(prompts[i], Greedy(20), completion);
  }
  EXPECT_GT(engine->stats().preemptions, 0);
}

TEST_F(ServingEngineTest, SpeculativeDecodingGivesTheGreedyTokens) {
  ServingOptions options;
  options.speculative_tokens = 4;
  auto engine = MakeEngine(128, 8, options);
  // Repetitive prompts give the n-gram lookup something to propose.
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < 6; ++i) {
    std::vector<int32_t> prompt = Prompt(200 + i, 8);
    for (int r = 0; r < 3; ++r) prompt.insert(prompt.end(), prompt.begin() + 1, prompt.begin() + 8);
    prompts.push_back(prompt);
  }
  std::vector<std::shared_ptr<ServingRequest>> requests;
  for (const auto& prompt : prompts) {
    auto request = engine->Submit(prompt, Greedy(40));
    ASSERT_TRUE(request.ok());
    requests.push_back(*request);
  }
  for (size_t i = 0; i < prompts.size(); ++i) {
    const Completion completion = requests[i]->Wait();
    ASSERT_TRUE(completion.status.ok());
    ExpectSameAsGenerate(prompts[i], Greedy(40), completion);
  }
  const ServingStats stats = engine->stats();
  EXPECT_GT(stats.speculative_proposed, 0);
  std::cout << "speculative: " << stats.speculative_accepted << " of "
            << stats.speculative_proposed << " proposed tokens accepted\n";
}

TEST_F(ServingEngineTest, SeededSamplingAndLogprobsMatchGenerate) {
  auto engine = MakeEngine(64, 16, {});
  SamplingOptions options;
  options.temperature = 0.9f;
  options.top_k = 40;
  options.top_p = 0.95f;
  options.repetition_penalty = 1.1f;
  options.seed = 1234;
  options.max_tokens = 16;
  options.logprobs = true;
  options.top_logprobs = 3;
  std::vector<std::shared_ptr<ServingRequest>> requests;
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < 4; ++i) {
    prompts.push_back(Prompt(300 + i, 5 + 3 * i));
    auto request = engine->Submit(prompts.back(), options);
    ASSERT_TRUE(request.ok());
    requests.push_back(*request);
  }
  for (size_t i = 0; i < requests.size(); ++i) {
    const Completion completion = requests[i]->Wait();
    ExpectSameAsGenerate(prompts[i], options, completion);
    auto want = model_->Generate(prompts[i], options);
    ASSERT_EQ(completion.result.logprobs.size(), want->logprobs.size());
    for (size_t t = 0; t < want->logprobs.size(); ++t) {
      EXPECT_NEAR(completion.result.logprobs[t], want->logprobs[t], 1e-3);
    }
  }
}

TEST_F(ServingEngineTest, ReusesCachedPromptPrefixes) {
  auto engine = MakeEngine(64, 8, {});
  const std::vector<int32_t> system = Prompt(400, 40);
  std::vector<int32_t> first = system, second = system;
  first.insert(first.end(), {5, 6, 7});
  second.insert(second.end(), {8, 9});
  auto a = engine->Generate(first, Greedy(4));
  ASSERT_TRUE(a.ok());
  auto b = engine->Generate(second, Greedy(4));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->prefix_cached_tokens, 0);
  EXPECT_EQ(b->prefix_cached_tokens, 40);  // Five full blocks of the shared prefix.
  ExpectSameAsGenerate(second, Greedy(4), *b);
  // A prompt of whole blocks, twice: the second time all of it is cached, so
  // the last block is copied and its last token rerun for the logits.
  std::vector<int32_t> exact = system;
  exact.insert(exact.end(), {11, 12, 13, 14, 15, 16, 17, 18});
  auto c = engine->Generate(exact, Greedy(4));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->prefix_cached_tokens, 40);
  auto d = engine->Generate(exact, Greedy(4));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->prefix_cached_tokens, 47);
  ExpectSameAsGenerate(exact, Greedy(4), *d);
  EXPECT_EQ(engine->stats().prefix_hit_tokens, 127);
}

TEST_F(ServingEngineTest, StreamsTokensWithTimings) {
  auto engine = MakeEngine(64, 16, {});
  std::vector<StreamedToken> streamed;
  SubmitOptions submit;
  submit.on_token = [&](const StreamedToken& token) {
    streamed.push_back(token);
    return true;
  };
  const std::vector<int32_t> prompt = Prompt(500, 12);
  auto completion = engine->Generate(prompt, Greedy(10), submit);
  ASSERT_TRUE(completion.ok());
  ASSERT_EQ(streamed.size(), completion->result.tokens.size());
  std::string text;
  for (size_t i = 0; i < streamed.size(); ++i) {
    EXPECT_EQ(streamed[i].index, static_cast<int>(i));
    EXPECT_EQ(streamed[i].token.token, completion->result.tokens[i]);
    if (i > 0) {
      EXPECT_GE(streamed[i].since_submit_ms, streamed[i - 1].since_submit_ms);
    }
    text += streamed[i].token.text_delta;
  }
  EXPECT_EQ(text, completion->result.text);
  EXPECT_GT(completion->ttft_ms, 0);
  EXPECT_EQ(completion->ttft_ms, streamed[0].since_submit_ms);
  EXPECT_EQ(completion->result.timings.prompt_tokens, 12);
  EXPECT_EQ(completion->result.timings.generated_tokens, static_cast<int>(streamed.size()));
}

TEST_F(ServingEngineTest, CancellationAndDeadlinesEndRequestsAndFreeBlocks) {
  auto engine = MakeEngine(64, 16, {});
  SamplingOptions long_run = Greedy(500);
  long_run.stop_at_eos = false;
  // The callback says stop after three tokens.
  SubmitOptions submit;
  int seen = 0;
  submit.on_token = [&](const StreamedToken&) { return ++seen < 3; };
  auto by_callback = engine->Generate(Prompt(600, 5), long_run, submit);
  ASSERT_TRUE(by_callback.ok());
  EXPECT_EQ(by_callback->result.finish_reason, "cancelled");
  EXPECT_EQ(by_callback->result.tokens.size(), 3u);
  // Cancel() from another thread.
  auto request = engine->Submit(Prompt(601, 5), long_run);
  ASSERT_TRUE(request.ok());
  absl::SleepFor(absl::Milliseconds(20));
  (*request)->Cancel();
  const Completion cancelled = (*request)->Wait();
  EXPECT_EQ(cancelled.result.finish_reason, "cancelled");
  EXPECT_LT(cancelled.result.tokens.size(), 500u);
  // A deadline.
  SubmitOptions soon;
  soon.deadline = absl::Now() + absl::Milliseconds(30);
  auto expired = engine->Generate(Prompt(602, 5), long_run, soon);
  ASSERT_TRUE(expired.ok());
  EXPECT_TRUE(expired->deadline_exceeded);
  EXPECT_EQ(expired->result.finish_reason, "cancelled");
  absl::SleepFor(absl::Milliseconds(20));
  EXPECT_EQ(engine->stats().kv_blocks_used, 0);
}

TEST_F(ServingEngineTest, RejectsBadRequests) {
  auto engine = MakeEngine(4, 4, {});
  EXPECT_EQ(engine->Submit({}, Greedy(4)).status().code(), absl::StatusCode::kInvalidArgument);
  SamplingOptions bad = Greedy(4);
  bad.temperature = -1;
  EXPECT_EQ(engine->Submit({1, 2}, bad).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(engine->Submit({1, 1 << 24}, Greedy(4)).status().code(),
            absl::StatusCode::kInvalidArgument);
  // 4 blocks of 4 hold 16 positions.
  EXPECT_EQ(engine->Submit(Prompt(1, 10), Greedy(10)).status().code(),
            absl::StatusCode::kResourceExhausted);
  auto zero = engine->Generate({1, 2, 3}, Greedy(0));
  ASSERT_TRUE(zero.ok());
  EXPECT_TRUE(zero->result.tokens.empty());
  EXPECT_EQ(zero->result.finish_reason, "length");
  EXPECT_EQ(NewExecutor(*model_, {4, 4}, "tpu").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ServingEngineTest, ShutdownCancelsWhatIsLeft) {
  std::shared_ptr<ServingRequest> request;
  {
    auto engine = MakeEngine(64, 16, {});
    SamplingOptions long_run = Greedy(1000);
    long_run.stop_at_eos = false;
    auto submitted = engine->Submit(Prompt(700, 5), long_run);
    ASSERT_TRUE(submitted.ok());
    request = *submitted;
  }
  EXPECT_TRUE(request->done());
  EXPECT_EQ(request->Wait().result.finish_reason, "cancelled");
}

}  // namespace
}  // namespace tessera::serving

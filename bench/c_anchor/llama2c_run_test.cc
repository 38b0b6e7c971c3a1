// The C anchor and LlamaModel agree on a llama2.c checkpoint: the same greedy
// tokens after the same synthetic prompt, so the speed comparison in
// //bench:engine_vs_pytorch runs the same computation on both sides.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/shared_data.h"
#include "engine/llama/llama_model.h"
#include "engine/model/make_random.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace tessera::llama {
namespace {

std::string RunAnchor(const std::string& binary, const std::string& args) {
  const std::string command = absl::StrCat("'", RunfilePath(binary), "' ", args, " 2>&1");
  std::string output;
  if (std::FILE* pipe = ::popen(command.c_str(), "r")) {
    char buffer[4096];
    size_t got;
    while ((got = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, got);
    ::pclose(pipe);
  }
  return output;
}

TEST(Llama2cRunTest, GreedyTokensMatchLlamaModel) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string path = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/anchor/model.bin");
  auto written = model::MakeRandomModel("llama", "tiny-llama", "llama2c", path, 3, "f32");
  ASSERT_TRUE(written.ok()) << written.status();
  auto model = LlamaModel::Load(path);
  ASSERT_TRUE(model.ok()) << model.status();
  const int prompt_tokens = 4, steps = 8;
  std::vector<int32_t> prompt;
  for (int i = 0; i < prompt_tokens; ++i) {
    prompt.push_back(static_cast<int32_t>((i * 7919 + 3) % (*model)->hparams().vocab_size));
  }
  SamplingOptions options;
  options.temperature = 0;
  options.max_tokens = steps + 1;
  options.stop_at_eos = false;
  auto ours = (*model)->Generate(prompt, options);
  ASSERT_TRUE(ours.ok()) << ours.status();
  ASSERT_EQ(ours->tokens.size(), static_cast<size_t>(steps + 1));

  for (const char* binary : {"bench/c_anchor/llama2c_run", "bench/c_anchor/llama2c_run_native"}) {
    for (int threads : {1, 2}) {
      const std::string output =
          RunAnchor(binary, absl::StrCat("'", path, "' -t ", threads, " -n ", steps, " -p ",
                                         prompt_tokens));
      const nlohmann::json line = nlohmann::json::parse(output, nullptr, false);
      ASSERT_FALSE(line.is_discarded()) << output;
      EXPECT_EQ(line["impl"], "c-anchor");
      EXPECT_EQ(line["threads"], threads);
      EXPECT_GT(line["tok_s"].get<double>(), 0);
      EXPECT_EQ(line["first_token"].get<int>(), ours->tokens.front()) << binary;
      EXPECT_EQ(line["last_token"].get<int>(), ours->tokens.back()) << binary;
    }
  }
  // Bad input is an error message and exit status 1, not a crash.
  const std::string bad = RunAnchor("bench/c_anchor/llama2c_run", "/nonexistent.bin; echo rc=$?");
  EXPECT_NE(bad.find("rc=1"), std::string::npos) << bad;
}

}  // namespace
}  // namespace tessera::llama

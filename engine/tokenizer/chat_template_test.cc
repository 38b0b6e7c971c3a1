#include "engine/tokenizer/chat_template.h"

#include <memory>
#include <string>
#include <vector>

#include "engine/tokenizer/load_tokenizer.h"
#include "engine/tokenizer/test_shared_dir.h"
#include "gtest/gtest.h"

namespace tessera::tokenizer {
namespace {

TEST(ChatTemplateTest, Llama2WithSystemAndHistory) {
  const std::vector<ChatMessage> messages = {{"system", " Be brief. "},
                                             {"user", "Hi"},
                                             {"assistant", "Hello!"},
                                             {"user", "Bye"}};
  absl::StatusOr<std::string> prompt = ChatTemplate(ChatFormat::kLlama2).Render(messages, true);
  ASSERT_TRUE(prompt.ok()) << prompt.status();
  EXPECT_EQ(*prompt,
            "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello! </s>"
            "<s>[INST] Bye [/INST]");
}

TEST(ChatTemplateTest, Llama2RequiresAlternation) {
  const ChatTemplate llama(ChatFormat::kLlama2);
  EXPECT_FALSE(llama.Render({{"assistant", "x"}}, true).ok());
  EXPECT_FALSE(llama.Render({{"user", "a"}, {"user", "b"}}, true).ok());
  EXPECT_FALSE(llama.Render({{"user", "a"}, {"system", "b"}}, true).ok());
  EXPECT_FALSE(llama.Render({{"robot", "a"}}, true).ok());
}

TEST(ChatTemplateTest, ChatMl) {
  const ChatTemplate chatml(ChatFormat::kChatMl);
  absl::StatusOr<std::string> prompt =
      chatml.Render({{"system", "S"}, {"user", "U"}, {"assistant", "A"}}, true);
  ASSERT_TRUE(prompt.ok());
  EXPECT_EQ(*prompt,
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n"
            "<|im_start|>assistant\nA<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(*chatml.Render({{"user", "U"}}, false), "<|im_start|>user\nU<|im_end|>\n");
}

TEST(ChatTemplateTest, EncodesLlama2PromptWithSpecialIds) {
  const auto path = testing::FindSharedFile("tokenizers/llama2/tokenizer.model");
  if (!path) GTEST_SKIP() << "shared file tokenizers/llama2/tokenizer.model is absent";
  auto tokenizer = LoadTokenizer(*path);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  absl::StatusOr<std::string> prompt =
      ChatTemplate(ChatFormat::kLlama2).Render({{"user", "Hi"}, {"assistant", "Hello there"},
                                                {"user", "Hi"}}, true);
  ASSERT_TRUE(prompt.ok());
  absl::StatusOr<std::vector<int32_t>> ids = EncodeWithSpecialTokens(**tokenizer, *prompt);
  ASSERT_TRUE(ids.ok()) << ids.status();
  // Reference ids from python3-sentencepiece: encode("[INST] Hi [/INST] Hello there ")
  // and encode("[INST] Hi [/INST]"); "<s>"/"</s>" are ids 1 and 2. Text between
  // special tokens is encoded as one segment, as Meta's chat code encodes a turn.
  const std::vector<int32_t> expected = {
      1, 518, 25580, 29962, 6324, 518, 29914, 25580, 29962, 15043, 727, 29871, 2,
      1, 518, 25580, 29962, 6324, 518, 29914, 25580, 29962};
  EXPECT_EQ(*ids, expected);
  // Spelled-out control text without the special-token pass stays text.
  absl::StatusOr<std::vector<int32_t>> plain = (*tokenizer)->Encode("<s>", false);
  ASSERT_TRUE(plain.ok());
  EXPECT_NE(*plain, (std::vector<int32_t>{1}));
}

}  // namespace
}  // namespace tessera::tokenizer

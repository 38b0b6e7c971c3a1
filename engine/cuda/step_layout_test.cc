#include "engine/cuda/step_layout.h"

#include <vector>

#include "gtest/gtest.h"

namespace tessera::cuda {
namespace {

TEST(StepLayoutTest, PacksTokensPositionsTablesAndLogitsRows) {
  const std::vector<int32_t> chunk = {11, 12, 13}, decode = {21}, verify = {31, 32};
  const std::vector<int32_t> table_a = {7, 3}, table_b = {5}, table_c = {9, 0, 4};
  std::vector<serving::SequenceStep> batch(3);
  batch[0].tokens = chunk;  // Prefill chunk at 4..6, last row only.
  batch[0].start_position = 4;
  batch[0].block_table = table_a;
  batch[1].tokens = decode;  // Decode at 2.
  batch[1].start_position = 2;
  batch[1].block_table = table_b;
  batch[2].tokens = verify;  // Verification at 8..9, every row.
  batch[2].start_position = 8;
  batch[2].block_table = table_c;
  batch[2].all_logits = true;
  StepLayout layout;
  PackStep(batch, &layout);
  EXPECT_EQ(layout.tokens, 6);
  EXPECT_EQ(layout.rows, 4);
  auto slice = [&](size_t at, size_t n) {
    return std::vector<int32_t>(layout.values.begin() + at, layout.values.begin() + at + n);
  };
  EXPECT_EQ(slice(layout.ids_at, 6), (std::vector<int32_t>{11, 12, 13, 21, 31, 32}));
  EXPECT_EQ(slice(layout.positions_at, 6), (std::vector<int32_t>{4, 5, 6, 2, 8, 9}));
  EXPECT_EQ(slice(layout.table_offsets_at, 6), (std::vector<int32_t>{0, 0, 0, 2, 3, 3}));
  EXPECT_EQ(slice(layout.logit_rows_at, 4), (std::vector<int32_t>{2, 3, 4, 5}));
  EXPECT_EQ(slice(layout.tables_at, 6), (std::vector<int32_t>{7, 3, 5, 9, 0, 4}));
  EXPECT_EQ(layout.values.size(), layout.tables_at + 6);

  // Reused for a smaller step.
  PackStep(absl::MakeConstSpan(batch).subspan(1, 1), &layout);
  EXPECT_EQ(layout.tokens, 1);
  EXPECT_EQ(layout.values, (std::vector<int32_t>{21, 2, 0, 0, 5}));
}

}  // namespace
}  // namespace tessera::cuda

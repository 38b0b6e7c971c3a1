#include "engine/cuda/step_layout.h"

#include <algorithm>

namespace tessera::cuda {

void PackStep(absl::Span<const serving::SequenceStep> batch, StepLayout* layout) {
  int tokens = 0, rows = 0;
  size_t table_entries = 0;
  for (const serving::SequenceStep& step : batch) {
    tokens += static_cast<int>(step.tokens.size());
    rows += step.all_logits ? static_cast<int>(step.tokens.size()) : 1;
    table_entries += step.block_table.size();
  }
  StepLayout& l = *layout;
  l.tokens = tokens;
  l.rows = rows;
  l.ids_at = 0;
  l.positions_at = static_cast<size_t>(tokens);
  l.table_offsets_at = 2 * static_cast<size_t>(tokens);
  l.logit_rows_at = 3 * static_cast<size_t>(tokens);
  l.tables_at = l.logit_rows_at + rows;
  l.values.assign(l.tables_at + table_entries, 0);
  size_t t = 0, r = 0, table_at = 0;
  for (const serving::SequenceStep& step : batch) {
    const size_t first = t;
    for (size_t i = 0; i < step.tokens.size(); ++i, ++t) {
      l.values[l.ids_at + t] = step.tokens[i];
      l.values[l.positions_at + t] = step.start_position + static_cast<int32_t>(i);
      l.values[l.table_offsets_at + t] = static_cast<int32_t>(table_at);
    }
    if (step.all_logits) {
      for (size_t i = first; i < t; ++i) l.values[l.logit_rows_at + r++] = static_cast<int32_t>(i);
    } else {
      l.values[l.logit_rows_at + r++] = static_cast<int32_t>(t - 1);
    }
    std::copy(step.block_table.begin(), step.block_table.end(),
              l.values.begin() + l.tables_at + table_at);
    table_at += step.block_table.size();
  }
}

}  // namespace tessera::cuda

#include "ingest/chunk/chunk_test_util.h"

#include "gtest/gtest.h"
#include "ingest/parse/text_offsets.h"

namespace tessera::ingest {

void ExpectChunksConsistent(const ParsedDocument& document,
                            const std::vector<common::v1::Chunk>& chunks,
                            const TokenCounter& counter, int max_tokens) {
  OffsetCursor cursor(document.text);  // one cursor: linear even for huge documents
  int64_t previous_start = -1;
  int failures = 0;
  for (size_t i = 0; i < chunks.size() && failures < 5; ++i) {
    const common::v1::Chunk& c = chunks[i];
    const size_t begin = cursor.CharToByte(c.char_start());
    const size_t end = cursor.CharToByte(c.char_end());
    bool ok = true;
    ok &= c.ordinal() == static_cast<int32_t>(i);
    ok &= c.char_start() < c.char_end();
    ok &= c.char_start() > previous_start;
    ok &= absl::string_view(document.text).substr(begin, end - begin) == c.text();
    ok &= !c.text().empty() && c.text().front() != ' ' && c.text().front() != '\n' &&
          c.text().back() != ' ' && c.text().back() != '\n';
    ok &= c.token_count() == counter.Count(c.text());
    if (max_tokens > 0) ok &= c.token_count() <= max_tokens;
    if (!ok) {
      ++failures;
      ADD_FAILURE() << "chunk " << i << " inconsistent: ordinal=" << c.ordinal() << " span=["
                    << c.char_start() << "," << c.char_end() << ") tokens=" << c.token_count()
                    << " counted=" << counter.Count(c.text()) << " text=\"" << c.text() << "\"";
    }
    previous_start = c.char_start();
  }
}

}  // namespace tessera::ingest

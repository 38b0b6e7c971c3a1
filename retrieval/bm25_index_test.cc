#include "retrieval/bm25_index.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tessera::retrieval {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Plain whitespace-like analysis, so hand computations only involve BM25.
Bm25Options PlainOptions() {
  Bm25Options options;
  options.analyzer.language = "none";
  options.analyzer.remove_stop_words = false;
  return options;
}

std::unique_ptr<Bm25Index> MakeIndex(Bm25Options options = PlainOptions()) {
  auto index = Bm25Index::Create(std::move(options));
  EXPECT_TRUE(index.ok()) << index.status();
  return std::move(index).value();
}

std::vector<Bm25Hit> Search(const Bm25Index& index, absl::string_view query, size_t k = 10,
                            const DocFilter* filter = nullptr, bool exhaustive = false) {
  Bm25SearchOptions options;
  options.top_k = k;
  options.filter = filter;
  options.exhaustive = exhaustive;
  auto hits = index.Search(query, options);
  EXPECT_TRUE(hits.ok()) << hits.status();
  return hits.ok() ? *hits : std::vector<Bm25Hit>();
}

std::vector<std::string> Ids(const std::vector<Bm25Hit>& hits) {
  std::vector<std::string> ids;
  for (const Bm25Hit& hit : hits) ids.push_back(hit.id);
  return ids;
}

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TEST_TMPDIR");
    std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/bm25_XXXXXX";
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void AddTinyCorpus(Bm25Index* index) {
  ASSERT_TRUE(index->Add("d1", "apple banana apple").ok());  // |d| = 3
  ASSERT_TRUE(index->Add("d2", "banana cherry").ok());  // |d| = 2
  ASSERT_TRUE(index->Add("d3", "cherry cherry cherry date").ok());  // |d| = 4
}

// N = 3, avgdl = 3, k1 = 0.9, b = 0.4.
// idf(df=1) = ln(1 + 2.5/1.5) = 0.980829; idf(df=2) = ln(1 + 1.5/2.5) = 0.470004.
// norm(|d|) = k1 * (1 - b + b * |d| / avgdl): norm(2) = 0.78, norm(3) = 0.9, norm(4) = 1.02.
TEST(Bm25IndexTest, ScoresMatchHandComputedValues) {
  auto index = MakeIndex();
  AddTinyCorpus(index.get());

  // apple in d1: 0.980829 * 2 * 1.9 / (2 + 0.9) = 1.285225.
  auto hits = Search(*index, "apple");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].id, "d1");
  EXPECT_NEAR(hits[0].score, 1.285225, 1e-5);
  EXPECT_EQ(hits[0].rank, 1);

  // d2: 2 * 0.470004 * 1.9 / 1.78 = 1.003379; d3 (cherry tf 3):
  // 0.470004 * 3 * 1.9 / 4.02 = 0.666423; d1 (banana tf 1): 0.470004 * 1.9 / 1.9.
  hits = Search(*index, "banana cherry");
  ASSERT_THAT(Ids(hits), ElementsAre("d2", "d3", "d1"));
  EXPECT_NEAR(hits[0].score, 1.003379, 1e-5);
  EXPECT_NEAR(hits[1].score, 0.666423, 1e-5);
  EXPECT_NEAR(hits[2].score, 0.470004, 1e-5);
  EXPECT_EQ(hits[2].rank, 3);

  // A repeated query term counts twice.
  hits = Search(*index, "apple apple");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_NEAR(hits[0].score, 2 * 1.285225, 2e-5);

  EXPECT_THAT(Search(*index, "unknown"), IsEmpty());
  EXPECT_THAT(Search(*index, ""), IsEmpty());
  EXPECT_THAT(Search(*index, "apple", 0), IsEmpty());
}

TEST(Bm25IndexTest, ParamsOverridePerSearch) {
  auto index = MakeIndex();
  AddTinyCorpus(index.get());
  Bm25SearchOptions options;
  options.params = Bm25Params{1.2f, 0.0f};
  // b = 0: no length normalisation; apple: 0.980829 * 2 * 2.2 / (2 + 1.2) = 1.348640.
  auto hits = index->Search("apple", options);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_NEAR((*hits)[0].score, 1.348640, 1e-5);

  options.params = Bm25Params{0.9f, 1.5f};
  EXPECT_EQ(index->Search("apple", options).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Bm25IndexTest, DeletesHideDocumentsAndMergeDropsThem) {
  auto index = MakeIndex();
  AddTinyCorpus(index.get());
  ASSERT_TRUE(index->Delete("d2").ok());
  EXPECT_EQ(index->Delete("d2").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(index->live_doc_count(), 2u);
  EXPECT_FALSE(index->InternalId("d2").has_value());

  // Statistics keep the deleted document until a merge (as Lucene does).
  auto hits = Search(*index, "banana cherry");
  ASSERT_THAT(Ids(hits), ElementsAre("d3", "d1"));
  EXPECT_NEAR(hits[0].score, 0.666423, 1e-5);
  EXPECT_NEAR(hits[1].score, 0.470004, 1e-5);

  // After the merge N = 2, avgdl = 3.5, df = 1 for both terms, idf = ln 2:
  // d3: 0.693147 * 3 * 1.9 / (3 + 0.9 * (0.6 + 0.4 * 4 / 3.5)) = 0.999876;
  // d1: 0.693147 * 1.9 / (1 + 0.9 * (0.6 + 0.4 * 3 / 3.5)) = 0.712431.
  ASSERT_TRUE(index->Merge().ok());
  EXPECT_EQ(index->doc_id_limit(), 2u);
  hits = Search(*index, "banana cherry");
  ASSERT_THAT(Ids(hits), ElementsAre("d3", "d1"));
  EXPECT_NEAR(hits[0].score, 0.999876, 1e-5);
  EXPECT_NEAR(hits[1].score, 0.712431, 1e-5);
}

TEST(Bm25IndexTest, AddingAnExistingIdReplacesIt) {
  auto index = MakeIndex();
  AddTinyCorpus(index.get());
  ASSERT_TRUE(index->Add("d1", "date").ok());
  EXPECT_EQ(index->live_doc_count(), 3u);
  EXPECT_THAT(Search(*index, "apple"), IsEmpty());
  EXPECT_THAT(Ids(Search(*index, "date")), ElementsAre("d1", "d3"));
  EXPECT_EQ(index->ExternalId(*index->InternalId("d1")), "d1");
  EXPECT_EQ(index->ExternalId(0), "");  // The replaced copy.
}

TEST(Bm25IndexTest, RejectsBadInput) {
  auto index = MakeIndex();
  EXPECT_EQ(index->Add("", "text").code(), absl::StatusCode::kInvalidArgument);
  Bm25Options options = PlainOptions();
  options.params.k1 = -1;
  EXPECT_EQ(Bm25Index::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
  options = PlainOptions();
  options.analyzer.language = "no-such-language";
  EXPECT_EQ(Bm25Index::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
}

// A random corpus with a skewed vocabulary, so that some terms are common.
std::vector<std::pair<std::string, std::string>> RandomCorpus(int docs, uint32_t seed) {
  std::mt19937 random(seed);
  std::vector<std::pair<std::string, std::string>> corpus;
  std::uniform_int_distribution<int> length(1, 60);
  for (int d = 0; d < docs; ++d) {
    std::vector<std::string> words;
    const int count = length(random);
    for (int w = 0; w < count; ++w) {
      // Roughly Zipfian over 500 words.
      const double u = std::uniform_real_distribution<double>(0, 1)(random);
      words.push_back(absl::StrCat("w", static_cast<int>(std::pow(500.0, u)) - 1));
    }
    corpus.emplace_back(absl::StrCat("doc", d), absl::StrJoin(words, " "));
  }
  return corpus;
}

std::vector<std::string> RandomQueries(int count, uint32_t seed) {
  std::mt19937 random(seed);
  std::vector<std::string> queries;
  for (int q = 0; q < count; ++q) {
    std::vector<std::string> words;
    const int terms = 1 + q % 8;
    for (int t = 0; t < terms; ++t) {
      const double u = std::uniform_real_distribution<double>(0, 1)(random);
      words.push_back(absl::StrCat("w", static_cast<int>(std::pow(500.0, u)) - 1));
    }
    queries.push_back(absl::StrJoin(words, " "));
  }
  return queries;
}

// Independent BM25 over the raw corpus, for comparison.
std::map<std::string, double> ReferenceScores(
    const std::vector<std::pair<std::string, std::string>>& corpus, const std::string& query,
    double k1, double b) {
  std::vector<std::map<std::string, int>> tfs;
  std::map<std::string, int> df;
  double total = 0;
  for (const auto& [id, text] : corpus) {
    std::map<std::string, int> tf;
    for (absl::string_view word : absl::StrSplit(text, ' ')) ++tf[std::string(word)];
    for (const auto& [term, count] : tf) {
      ++df[term];
      total += count;
    }
    tfs.push_back(std::move(tf));
  }
  const double n = corpus.size();
  const double avgdl = total / n;
  std::map<std::string, double> scores;
  for (size_t d = 0; d < corpus.size(); ++d) {
    double length = 0;
    for (const auto& [term, count] : tfs[d]) length += count;
    double score = 0;
    bool matched = false;
    for (absl::string_view word : absl::StrSplit(query, ' ')) {
      auto found = tfs[d].find(std::string(word));
      if (found == tfs[d].end()) continue;
      matched = true;
      const double f = df[std::string(word)];
      const double idf = std::log(1 + (n - f + 0.5) / (f + 0.5));
      score += idf * found->second * (k1 + 1) / (found->second + k1 * (1 - b + b * length / avgdl));
    }
    if (matched) scores[corpus[d].first] = score;
  }
  return scores;
}

TEST(Bm25IndexTest, PrunedTopKEqualsExhaustiveAndReference) {
  const auto corpus = RandomCorpus(3000, 7);
  Bm25Options options = PlainOptions();
  options.max_buffered_docs = 700;  // Several segments plus a buffer.
  auto index = MakeIndex(options);
  for (const auto& [id, text] : corpus) ASSERT_TRUE(index->Add(id, text).ok());
  EXPECT_GE(index->segment_count(), 4u);

  uint64_t pruned_scored = 0;
  uint64_t exhaustive_scored = 0;
  for (const std::string& query : RandomQueries(200, 11)) {
    Bm25SearchOptions search;
    search.top_k = 10;
    Bm25SearchStats pruned_stats;
    auto pruned = index->Search(query, search, &pruned_stats);
    search.exhaustive = true;
    Bm25SearchStats full_stats;
    auto full = index->Search(query, search, &full_stats);
    ASSERT_TRUE(pruned.ok() && full.ok());
    pruned_scored += pruned_stats.scored;
    exhaustive_scored += full_stats.scored;
    ASSERT_EQ(pruned->size(), full->size()) << query;
    for (size_t i = 0; i < full->size(); ++i) {
      EXPECT_EQ((*pruned)[i].id, (*full)[i].id) << query << " rank " << i;
      EXPECT_FLOAT_EQ((*pruned)[i].score, (*full)[i].score);
    }
    // Scores agree with the reference, and nothing outside the top k beats it.
    const auto reference = ReferenceScores(corpus, query, 0.9, 0.4);
    for (const Bm25Hit& hit : *full) {
      ASSERT_TRUE(reference.count(hit.id));
      EXPECT_NEAR(hit.score, reference.at(hit.id), 1e-4 * reference.at(hit.id));
    }
    if (full->size() == 10) {
      int better = 0;
      for (const auto& [id, score] : reference) better += score > full->back().score * (1 + 1e-4);
      EXPECT_LE(better, 9) << query;
    }
  }
  // Dynamic pruning must skip a good share of the scoring work.
  EXPECT_LT(pruned_scored * 2, exhaustive_scored);
}

TEST(Bm25IndexTest, FilteredTopKStaysFull) {
  const auto corpus = RandomCorpus(2000, 3);
  auto index = MakeIndex();
  for (const auto& [id, text] : corpus) ASSERT_TRUE(index->Add(id, text).ok());
  ASSERT_TRUE(index->Flush().ok());

  // Allow only every 7th document.
  std::vector<uint64_t> allowed((index->doc_id_limit() + 63) / 64, 0);
  for (uint32_t doc = 0; doc < index->doc_id_limit(); doc += 7) {
    allowed[doc >> 6] |= uint64_t{1} << (doc & 63);
  }
  const DocFilter bitset = DocFilter::FromBitset(allowed);
  const DocFilter predicate = DocFilter::FromPredicate([](uint32_t doc) { return doc % 7 == 0; });
  for (const std::string& query : RandomQueries(50, 5)) {
    const auto reference = ReferenceScores(corpus, query, 0.9, 0.4);
    size_t matching = 0;
    for (const auto& [id, score] : reference) {
      matching += *index->InternalId(id) % 7 == 0;
    }
    for (const DocFilter* filter : {&bitset, &predicate}) {
      const auto hits = Search(*index, query, 10, filter);
      EXPECT_EQ(hits.size(), std::min<size_t>(10, matching)) << query;
      for (const Bm25Hit& hit : hits) EXPECT_EQ(hit.doc % 7, 0u);
      const auto full = Search(*index, query, 10, filter, /*exhaustive=*/true);
      EXPECT_EQ(Ids(hits), Ids(full)) << query;
    }
  }
}

TEST(Bm25IndexTest, SegmentsAndMergeGiveSameResults) {
  const auto corpus = RandomCorpus(1500, 9);
  Bm25Options small = PlainOptions();
  small.max_buffered_docs = 200;
  small.max_segments = 100;
  auto segmented = MakeIndex(small);
  auto single = MakeIndex();
  for (const auto& [id, text] : corpus) {
    ASSERT_TRUE(segmented->Add(id, text).ok());
    ASSERT_TRUE(single->Add(id, text).ok());
  }
  EXPECT_EQ(segmented->segment_count(), 8u);  // 7 frozen + the buffer.
  for (const std::string& query : RandomQueries(40, 1)) {
    const auto a = Search(*segmented, query);
    const auto b = Search(*single, query);
    ASSERT_EQ(Ids(a), Ids(b)) << query;
    for (size_t i = 0; i < a.size(); ++i) EXPECT_FLOAT_EQ(a[i].score, b[i].score);
  }
  ASSERT_TRUE(segmented->Merge().ok());
  EXPECT_EQ(segmented->segment_count(), 1u);
  for (const std::string& query : RandomQueries(40, 1)) {
    EXPECT_EQ(Ids(Search(*segmented, query)), Ids(Search(*single, query))) << query;
  }

  // Too many segments trigger an automatic merge.
  Bm25Options few = PlainOptions();
  few.max_buffered_docs = 100;
  few.max_segments = 3;
  auto merging = MakeIndex(few);
  for (const auto& [id, text] : corpus) ASSERT_TRUE(merging->Add(id, text).ok());
  EXPECT_LE(merging->segment_count(), 4u);
  EXPECT_EQ(merging->live_doc_count(), corpus.size());
}

TEST(Bm25IndexTest, ShardsWithCorpusStatisticsScoreAsOneIndex) {
  // Three shards holding every third document, searched with the summed
  // statistics, give exactly the scores of one index holding them all.
  const auto corpus = RandomCorpus(1200, 21);
  Bm25Options options = PlainOptions();
  options.max_buffered_docs = 150;  // Shards with several segments.
  auto whole = MakeIndex();
  std::vector<std::unique_ptr<Bm25Index>> shards;
  for (int i = 0; i < 3; ++i) shards.push_back(MakeIndex(options));
  for (size_t d = 0; d < corpus.size(); ++d) {
    ASSERT_TRUE(whole->Add(corpus[d].first, corpus[d].second).ok());
    ASSERT_TRUE(shards[d % 3]->Add(corpus[d].first, corpus[d].second).ok());
  }
  for (const std::string& query : RandomQueries(60, 4)) {
    Bm25CorpusStatistics global;
    for (const auto& shard : shards) {
      const Bm25CorpusStatistics part = shard->Statistics(query);
      global.doc_count += part.doc_count;
      global.total_length += part.total_length;
      for (const auto& [term, df] : part.doc_frequencies) global.doc_frequencies[term] += df;
    }
    EXPECT_EQ(global.doc_count, corpus.size());
    const Bm25CorpusStatistics own = whole->Statistics(query);
    EXPECT_EQ(global.total_length, own.total_length);
    EXPECT_EQ(global.doc_frequencies, own.doc_frequencies) << query;

    Bm25SearchOptions search;
    search.top_k = 1000;
    search.exhaustive = true;
    auto expected = whole->Search(query, search);
    ASSERT_TRUE(expected.ok());
    std::map<std::string, float> expected_scores;
    for (const Bm25Hit& hit : *expected) expected_scores[hit.id] = hit.score;
    search.top_k = 10;
    search.exhaustive = false;
    search.corpus = &global;
    size_t found = 0;
    for (const auto& shard : shards) {
      auto hits = shard->Search(query, search);
      ASSERT_TRUE(hits.ok());
      for (const Bm25Hit& hit : *hits) {
        ASSERT_TRUE(expected_scores.count(hit.id)) << query << " " << hit.id;
        // Equal up to the order terms were summed in (pruning decides it).
        EXPECT_FLOAT_EQ(hit.score, expected_scores.at(hit.id)) << query << " " << hit.id;
      }
      found += hits->size();
      // Without the global statistics the shard's own IDF differs.
      Bm25SearchOptions local = search;
      local.corpus = nullptr;
      auto local_hits = shard->Search(query, local);
      ASSERT_TRUE(local_hits.ok());
      if (!local_hits->empty() && !hits->empty()) {
        EXPECT_NE((*local_hits)[0].score, (*hits)[0].score) << query;
      }
    }
    EXPECT_EQ(found > 0, !expected->empty()) << query;
  }
}

TEST(Bm25IndexTest, SaveAndReopenRoundTrip) {
  TempDir dir;
  const auto corpus = RandomCorpus(800, 21);
  Bm25Options options = PlainOptions();
  options.max_buffered_docs = 300;
  auto index = MakeIndex(options);
  for (const auto& [id, text] : corpus) ASSERT_TRUE(index->Add(id, text).ok());
  ASSERT_TRUE(index->Delete("doc5").ok());
  ASSERT_TRUE(index->Save(dir.path()).ok());

  auto reopened = Bm25Index::Open(dir.path(), options);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->live_doc_count(), corpus.size() - 1);
  EXPECT_FALSE((*reopened)->InternalId("doc5").has_value());
  for (const std::string& query : RandomQueries(30, 4)) {
    const auto a = Search(*index, query);
    const auto b = Search(**reopened, query);
    ASSERT_EQ(Ids(a), Ids(b)) << query;
    for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].score, b[i].score);
  }

  // Changes after reopening persist too; merged-away segment files are removed.
  ASSERT_TRUE((*reopened)->Delete("doc6").ok());
  ASSERT_TRUE((*reopened)->Add("new", "w1 w1 w2").ok());
  ASSERT_TRUE((*reopened)->Merge().ok());
  ASSERT_TRUE((*reopened)->Save(dir.path()).ok());
  int segment_files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    segment_files += absl::EndsWith(entry.path().filename().string(), ".bm25");
  }
  EXPECT_EQ(segment_files, 1);
  auto again = Bm25Index::Open(dir.path(), options);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->live_doc_count(), corpus.size() - 1);
  EXPECT_TRUE((*again)->InternalId("new").has_value());
  EXPECT_FALSE((*again)->InternalId("doc6").has_value());
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

std::string OnlySegmentFile(const std::string& dir) {
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (absl::EndsWith(entry.path().string(), ".bm25")) return entry.path().string();
  }
  return "";
}

bool IsCorruptionError(const absl::Status& status) {
  return status.code() == absl::StatusCode::kDataLoss ||
         status.code() == absl::StatusCode::kInvalidArgument;
}

TEST(Bm25IndexTest, CorruptOrTruncatedFilesGiveErrors) {
  TempDir dir;
  auto index = MakeIndex();
  AddTinyCorpus(index.get());
  ASSERT_TRUE(index->Save(dir.path()).ok());
  const std::string segment_path = OnlySegmentFile(dir.path());
  const std::string manifest_path = dir.path() + "/MANIFEST";
  const std::string segment = ReadAll(segment_path);
  const std::string manifest = ReadAll(manifest_path);
  ASSERT_FALSE(segment.empty());

  EXPECT_EQ(Bm25Index::Open(dir.path() + "/absent").status().code(), absl::StatusCode::kNotFound);

  // Every truncation and every single-byte flip of the segment is detected.
  for (size_t size = 0; size < segment.size(); size += 7) {
    WriteAll(segment_path, segment.substr(0, size));
    const absl::Status status = Bm25Index::Open(dir.path()).status();
    EXPECT_TRUE(IsCorruptionError(status)) << size << ": " << status;
  }
  for (size_t pos = 0; pos < segment.size(); ++pos) {
    std::string flipped = segment;
    flipped[pos] ^= 0x5A;
    WriteAll(segment_path, flipped);
    const absl::Status status = Bm25Index::Open(dir.path()).status();
    EXPECT_TRUE(IsCorruptionError(status)) << pos << ": " << status;
  }
  WriteAll(segment_path, segment + "extra");
  EXPECT_TRUE(IsCorruptionError(Bm25Index::Open(dir.path()).status()));
  WriteAll(segment_path, segment);
  ASSERT_TRUE(Bm25Index::Open(dir.path()).ok());

  for (size_t size = 0; size < manifest.size(); ++size) {
    WriteAll(manifest_path, manifest.substr(0, size));
    EXPECT_TRUE(IsCorruptionError(Bm25Index::Open(dir.path()).status())) << size;
  }
  for (size_t pos = 0; pos < manifest.size(); ++pos) {
    std::string flipped = manifest;
    flipped[pos] ^= 0x01;
    WriteAll(manifest_path, flipped);
    EXPECT_TRUE(IsCorruptionError(Bm25Index::Open(dir.path()).status())) << pos;
  }
  WriteAll(manifest_path, manifest);
  std::filesystem::remove(segment_path);
  EXPECT_EQ(Bm25Index::Open(dir.path()).status().code(), absl::StatusCode::kDataLoss);
}

TEST(Bm25IndexTest, ConcurrentSearchesDuringWrites) {
  const auto corpus = RandomCorpus(1200, 2);
  Bm25Options options = PlainOptions();
  options.max_buffered_docs = 150;
  options.max_segments = 3;
  auto index = MakeIndex(options);
  std::atomic<bool> done{false};
  std::atomic<int> errors{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      const auto queries = RandomQueries(20, 100 + t);
      while (!done.load()) {
        for (const std::string& query : queries) {
          auto hits = index->Search(query, Bm25SearchOptions());
          if (!hits.ok()) ++errors;
          for (size_t i = 1; hits.ok() && i < hits->size(); ++i) {
            if ((*hits)[i].score > (*hits)[i - 1].score) ++errors;
          }
        }
      }
    });
  }
  for (size_t i = 0; i < corpus.size(); ++i) {
    ASSERT_TRUE(index->Add(corpus[i].first, corpus[i].second).ok());
    if (i % 10 == 3) {
      ASSERT_TRUE(index->Delete(corpus[i - 1].first).ok());
    }
  }
  done = true;
  for (auto& reader : readers) reader.join();
  EXPECT_EQ(errors.load(), 0);
}

}  // namespace
}  // namespace tessera::retrieval

#include "retrieval/collection_index.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/metadata_filter.h"
#include "retrieval/dense/vector_index_factory.h"
#include "retrieval/fusion.h"

namespace tessera::retrieval {
namespace {

using retrieval::v1::SearchMode;
using retrieval::v1::SearchRequest;
using retrieval::v1::SearchResponse;


// The text BM25 and the embedder see: the document title gives every chunk of
// a document the document's subject.
std::string IndexedText(const common::v1::Document& document, const common::v1::Chunk& chunk) {
  if (document.title().empty()) return chunk.text();
  return absl::StrCat(document.title(), "\n", chunk.text());
}

Bm25CorpusStatistics FromProto(const retrieval::v1::Bm25CorpusStats& stats) {
  Bm25CorpusStatistics statistics;
  statistics.doc_count = static_cast<uint64_t>(std::max<int64_t>(0, stats.doc_count()));
  statistics.total_length = static_cast<uint64_t>(std::max<int64_t>(0, stats.total_length()));
  for (const auto& [term, df] : stats.doc_frequencies()) {
    statistics.doc_frequencies[term] = static_cast<uint64_t>(std::max<int64_t>(0, df));
  }
  return statistics;
}

}  // namespace

absl::StatusOr<std::unique_ptr<CollectionIndex>> CollectionIndex::Create(
    const CollectionIndexOptions& options, const Embedder* embedder, const Reranker* reranker) {
  auto bm25 = Bm25Index::Create(options.bm25);
  if (!bm25.ok()) return bm25.status();
  std::unique_ptr<dense::VectorIndex> dense;
  if (embedder != nullptr) {
    dense::VectorIndexConfig config = options.dense;
    config.dimension = embedder->dimension();
    auto created = dense::CreateVectorIndex(config);
    if (!created.ok()) return created.status();
    dense = std::move(*created);
  }
  return std::unique_ptr<CollectionIndex>(
      new CollectionIndex(std::move(*bm25), std::move(dense), embedder, reranker));
}

absl::Status CollectionIndex::RemoveLocked(const std::string& document_id) {
  auto it = slots_of_document_.find(document_id);
  if (it == slots_of_document_.end()) return absl::OkStatus();
  for (uint32_t slot : it->second) {
    Slot& entry = slots_[slot];
    if (!entry.live) continue;
    absl::Status status = bm25_->Delete(entry.chunk_id);
    if (!status.ok() && status.code() != absl::StatusCode::kNotFound) return status;
    if (dense_ != nullptr) {
      status = dense_->MarkDeleted(slot);
      if (!status.ok() && status.code() != absl::StatusCode::kNotFound) return status;
    }
    slot_of_chunk_.erase(entry.chunk_id);
    entry.live = false;
    entry.text.clear();
    entry.metadata.reset();
    --live_chunks_;
  }
  slots_of_document_.erase(it);
  return absl::OkStatus();
}

absl::Status CollectionIndex::RemoveDocument(const std::string& document_id) {
  absl::MutexLock lock(&mu_);
  return RemoveLocked(document_id);
}

absl::Status CollectionIndex::ReplaceDocument(const common::v1::Document& document,
                                              const std::vector<common::v1::Chunk>& chunks) {
  std::vector<std::string> texts;
  texts.reserve(chunks.size());
  for (const common::v1::Chunk& chunk : chunks) texts.push_back(IndexedText(document, chunk));
  // Embed outside the lock: it is the slow part.
  std::vector<std::vector<float>> vectors;
  if (dense_ != nullptr && !texts.empty()) {
    auto embedded = embedder_->Embed(texts);
    if (!embedded.ok()) return embedded.status();
    if (embedded->size() != texts.size()) {
      return absl::InternalError(absl::StrCat(embedder_->name(), " returned ", embedded->size(),
                                              " vectors for ", texts.size(), " texts"));
    }
    vectors = std::move(*embedded);
  }
  auto metadata = std::make_shared<google::protobuf::Map<std::string, common::v1::MetadataValue>>(
      document.metadata());

  absl::MutexLock lock(&mu_);
  absl::Status status = RemoveLocked(document.id());
  if (!status.ok()) return status;
  std::vector<uint32_t>& document_slots = slots_of_document_[document.id()];
  for (size_t i = 0; i < chunks.size(); ++i) {
    const common::v1::Chunk& chunk = chunks[i];
    const uint32_t slot = static_cast<uint32_t>(slots_.size());
    status = bm25_->Add(chunk.id(), texts[i]);
    if (!status.ok()) return status;
    if (dense_ != nullptr) {
      status = dense_->Add(slot, vectors[i]);
      if (!status.ok()) return status;
    }
    Slot entry;
    entry.chunk_id = chunk.id();
    entry.document_id = document.id();
    entry.text = chunk.text();
    common::v1::Provenance& provenance = entry.provenance;
    provenance.set_document_id(document.id());
    provenance.set_chunk_id(chunk.id());
    provenance.set_title(document.title());
    provenance.set_source_uri(document.source_uri());
    provenance.set_char_start(chunk.char_start());
    provenance.set_char_end(chunk.char_end());
    *provenance.mutable_section_path() = chunk.section_path();
    provenance.set_page(chunk.page());
    provenance.set_document_version(document.version());
    entry.metadata = metadata;
    entry.live = true;
    slots_.push_back(std::move(entry));
    slot_of_chunk_[chunk.id()] = slot;
    document_slots.push_back(slot);
    ++live_chunks_;
  }
  return absl::OkStatus();
}

absl::StatusOr<SearchResponse> CollectionIndex::Search(const SearchRequest& request) const {
  const auto start = std::chrono::steady_clock::now();
  const int top_k = request.top_k() == 0 ? kDefaultSearchTopK : request.top_k();
  if (top_k < 1 || top_k > kMaxSearchTopK) {
    return absl::InvalidArgumentError(
        absl::StrCat("top_k must be between 1 and ", kMaxSearchTopK, ", not ", request.top_k()));
  }
  const SearchMode mode =
      request.mode() == retrieval::v1::SEARCH_MODE_UNSPECIFIED ? retrieval::v1::HYBRID
                                                               : request.mode();
  const bool use_bm25 = mode == retrieval::v1::BM25 || mode == retrieval::v1::HYBRID;
  const bool use_dense = mode == retrieval::v1::DENSE || mode == retrieval::v1::HYBRID;
  if (use_bm25 && request.query().empty()) {
    return absl::InvalidArgumentError("query is required for BM25 and hybrid search");
  }
  if (use_dense && request.query_vector_size() == 0) {
    if (embedder_ == nullptr) {
      return absl::FailedPreconditionError(
          "dense and hybrid search need an embedding model, and this collection has none "
          "configured; use mode BM25 or pass query_vector");
    }
    if (request.query().empty()) return absl::InvalidArgumentError("query is required");
  }
  if (use_dense && dense_ == nullptr) {
    return absl::FailedPreconditionError(
        "this collection has no dense index (no embedding model was configured when it was "
        "indexed); use mode BM25");
  }
  const bool rerank = request.rerank().enabled();
  if (rerank && reranker_ == nullptr) {
    return absl::FailedPreconditionError(
        "reranking needs a cross-encoder, and none is configured; disable rerank");
  }
  auto filter = MetadataFilter::Compile(request.filter());
  if (!filter.ok()) return filter.status();

  int candidates = request.fusion().candidates() > 0 ? request.fusion().candidates()
                                                     : kDefaultFusionCandidates;
  const int rerank_top_n = request.rerank().top_n() > 0 ? request.rerank().top_n()
                                                        : kDefaultRerankTopN;
  candidates = std::max({candidates, top_k, rerank ? rerank_top_n : 0});

  // The query vector before any lock: embedding is slow.
  std::vector<float> query_vector(request.query_vector().begin(), request.query_vector().end());
  if (use_dense && query_vector.empty()) {
    auto embedded = embedder_->Embed({request.query()});
    if (!embedded.ok()) return embedded.status();
    query_vector = std::move((*embedded)[0]);
  }

  absl::ReaderMutexLock lock(&mu_);
  SearchResponse response;
  // Filters become id sets checked inside the BM25 and HNSW traversals.
  std::vector<uint64_t> bm25_allowed;
  std::vector<bool> slot_allowed;
  std::optional<DocFilter> bm25_filter;
  std::optional<dense::PredicateIdFilter> dense_filter;
  if (!filter->MatchesAll()) {
    slot_allowed.assign(slots_.size(), false);
    bm25_allowed.assign((bm25_->doc_id_limit() + 63) / 64, 0);
    int64_t matches = 0;
    for (uint32_t slot = 0; slot < slots_.size(); ++slot) {
      const Slot& entry = slots_[slot];
      if (!entry.live || !filter->Matches(*entry.metadata)) continue;
      slot_allowed[slot] = true;
      ++matches;
      if (auto doc = bm25_->InternalId(entry.chunk_id)) {
        bm25_allowed[*doc >> 6] |= uint64_t{1} << (*doc & 63);
      }
    }
    response.set_filter_matches(matches);
    bm25_filter = DocFilter::FromBitset(bm25_allowed);
    dense_filter.emplace([&slot_allowed](dense::VectorId id) {
      return id < slot_allowed.size() && slot_allowed[id];
    });
  } else {
    response.set_filter_matches(live_chunks_);
  }

  std::vector<ScoredId> bm25_list;
  if (use_bm25) {
    Bm25SearchOptions options;
    options.top_k = candidates;
    options.filter = bm25_filter ? &*bm25_filter : nullptr;
    Bm25CorpusStatistics corpus;
    if (request.has_corpus_stats()) {
      corpus = FromProto(request.corpus_stats());
      options.corpus = &corpus;
    }
    auto hits = bm25_->Search(request.query(), options);
    if (!hits.ok()) return hits.status();
    bm25_list.reserve(hits->size());
    for (const Bm25Hit& hit : *hits) {
      auto slot = slot_of_chunk_.find(hit.id);
      if (slot != slot_of_chunk_.end()) bm25_list.push_back({slot->second, hit.score});
    }
  }
  std::vector<ScoredId> dense_list;
  if (use_dense) {
    dense::SearchOptions options;
    options.filter = dense_filter ? &*dense_filter : nullptr;
    options.ef_search = request.ef_search();
    auto hits = dense_->Search(query_vector, candidates, options);
    if (!hits.ok()) return hits.status();
    dense_list.reserve(hits->size());
    for (const dense::SearchHit& hit : *hits) {
      dense_list.push_back({static_cast<uint32_t>(hit.id), hit.score});
    }
  }

  std::vector<FusedHit> fused;
  if (mode == retrieval::v1::BM25) {
    fused = FromBm25(bm25_list, candidates);
  } else if (mode == retrieval::v1::DENSE) {
    fused = FromDense(dense_list, candidates);
  } else if (request.fusion().method() == retrieval::v1::FusionConfig::WEIGHTED) {
    const float weight = request.fusion().has_bm25_weight() ? request.fusion().bm25_weight() : 0.5f;
    if (weight < 0 || weight > 1) {
      return absl::InvalidArgumentError("fusion.bm25_weight must be between 0 and 1");
    }
    fused = FuseWeighted(bm25_list, dense_list, weight,
                         request.fusion().normalization() == retrieval::v1::FusionConfig::Z_SCORE
                             ? ScoreNormalization::kZScore
                             : ScoreNormalization::kMinMax,
                         candidates);
  } else {
    const float k = request.fusion().has_rrf_k() ? request.fusion().rrf_k() : kDefaultRrfK;
    if (k <= 0) return absl::InvalidArgumentError("fusion.rrf_k must be positive");
    fused = FuseReciprocalRank(bm25_list, dense_list, k, candidates);
  }

  std::vector<std::optional<float>> rerank_scores(fused.size());
  if (rerank && !fused.empty()) {
    const size_t n = std::min<size_t>(fused.size(), rerank_top_n);
    std::vector<std::string> passages;
    passages.reserve(n);
    for (size_t i = 0; i < n; ++i) passages.push_back(slots_[fused[i].id].text);
    auto scores = reranker_->Score(request.query(), passages);
    if (!scores.ok()) return scores.status();
    if (scores->size() != n) return absl::InternalError("reranker returned a wrong count");
    // Reranked candidates first, by reranker score; the rest keep fused order.
    rerank_scores = ApplyRerankScores({scores->begin(), scores->end()}, &fused);
  }

  for (size_t i = 0; i < fused.size() && response.hits_size() < top_k; ++i) {
    const FusedHit& fused_hit = fused[i];
    const Slot& entry = slots_[fused_hit.id];
    retrieval::v1::SearchHit* hit = response.add_hits();
    hit->set_chunk_id(entry.chunk_id);
    hit->set_document_id(entry.document_id);
    hit->set_score(rerank_scores[i].value_or(fused_hit.fused));
    retrieval::v1::ScoreBreakdown* scores = hit->mutable_scores();
    scores->set_bm25_rank(fused_hit.bm25_rank);
    scores->set_bm25_score(fused_hit.bm25_score);
    scores->set_dense_rank(fused_hit.dense_rank);
    scores->set_dense_score(fused_hit.dense_score);
    scores->set_fused_score(fused_hit.fused);
    if (rerank_scores[i]) scores->set_rerank_score(*rerank_scores[i]);
    *hit->mutable_provenance() = entry.provenance;
    if (request.include_text()) hit->set_text(entry.text);
    if (entry.metadata) *hit->mutable_metadata() = *entry.metadata;
  }
  response.set_took_ms(
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  return response;
}

retrieval::v1::Bm25CorpusStats CollectionIndex::TermStatistics(const std::string& query) const {
  const Bm25CorpusStatistics statistics = bm25_->Statistics(query);
  retrieval::v1::Bm25CorpusStats stats;
  stats.set_doc_count(static_cast<int64_t>(statistics.doc_count));
  stats.set_total_length(static_cast<int64_t>(statistics.total_length));
  for (const auto& [term, df] : statistics.doc_frequencies) {
    (*stats.mutable_doc_frequencies())[term] = static_cast<int64_t>(df);
  }
  return stats;
}

absl::StatusOr<std::vector<float>> CollectionIndex::RerankChunks(
    const std::string& query, const std::vector<std::string>& chunk_ids) const {
  if (reranker_ == nullptr) {
    return absl::FailedPreconditionError(
        "reranking needs a cross-encoder, and none is configured; disable rerank");
  }
  std::vector<std::string> passages;
  passages.reserve(chunk_ids.size());
  {
    absl::ReaderMutexLock lock(&mu_);
    for (const std::string& chunk_id : chunk_ids) {
      auto slot = slot_of_chunk_.find(chunk_id);
      if (slot == slot_of_chunk_.end()) {
        return absl::NotFoundError(absl::StrCat("no chunk ", chunk_id, " in this collection"));
      }
      passages.push_back(slots_[slot->second].text);
    }
  }
  if (passages.empty()) return std::vector<float>();
  auto scores = reranker_->Score(query, passages);
  if (!scores.ok()) return scores.status();
  if (scores->size() != passages.size()) {
    return absl::InternalError("reranker returned a wrong count");
  }
  return std::move(*scores);
}

CollectionStats CollectionIndex::Stats() const {
  absl::ReaderMutexLock lock(&mu_);
  CollectionStats stats;
  stats.documents = static_cast<int64_t>(slots_of_document_.size());
  stats.chunks = live_chunks_;
  stats.bm25_segments = static_cast<int64_t>(bm25_->segment_count());
  if (dense_ != nullptr) {
    stats.dense_vectors = static_cast<int64_t>(dense_->size());
    stats.dense_dimension = dense_->dimension();
    stats.dense_backend = std::string(dense_->backend());
  }
  return stats;
}

}  // namespace tessera::retrieval

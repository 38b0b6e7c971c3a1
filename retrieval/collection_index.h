// All search structures of one collection: a chunk table (one slot per indexed
// chunk, with provenance, text and the document's metadata), the BM25 index and,
// when the collection has an embedding model, a dense vector index. Slots are the
// id space that BM25 hits, dense hits, filters and fusion share.
#ifndef TESSERA_RETRIEVAL_COLLECTION_INDEX_H_
#define TESSERA_RETRIEVAL_COLLECTION_INDEX_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "retrieval/bm25_index.h"
#include "retrieval/dense/vector_index.h"
#include "retrieval/text_models.h"
#include "tessera/common/v1/common.pb.h"
#include "tessera/retrieval/v1/retrieval.pb.h"

namespace tessera::retrieval {

// BM25 as the service runs it: k1 and b tuned on BEIR SciFact's train queries
// (bazel run //bench:bm25_bench -- --tune): nDCG@10 0.6986 at k1=1.2, b=0.5
// against 0.6956 at the library's (Anserini's) 0.9/0.4.
inline Bm25Options ServiceBm25Options() {
  Bm25Options options;
  options.params = Bm25Params{1.2f, 0.5f};
  return options;
}

// Search defaults, which a sharded search applies the same way.
inline constexpr int kDefaultSearchTopK = 10;
inline constexpr int kMaxSearchTopK = 1000;
inline constexpr int kDefaultFusionCandidates = 100;
inline constexpr int kDefaultRerankTopN = 50;
inline constexpr float kDefaultRrfK = 60;

struct CollectionIndexOptions {
  Bm25Options bm25 = ServiceBm25Options();
  // Used when an embedder is given; its dimension is taken from the embedder.
  dense::VectorIndexConfig dense;
};

struct CollectionStats {
  int64_t documents = 0;
  int64_t chunks = 0;
  int64_t bm25_segments = 0;
  int64_t dense_vectors = 0;
  int dense_dimension = 0;
  std::string dense_backend;
};

class CollectionIndex {
 public:
  // `embedder` and `reranker` may be null (then dense/hybrid modes or reranking
  // need query vectors / are refused); they must outlive the index.
  static absl::StatusOr<std::unique_ptr<CollectionIndex>> Create(
      const CollectionIndexOptions& options, const Embedder* embedder, const Reranker* reranker);

  // Indexes the document's chunks, replacing whatever the document had before.
  absl::Status ReplaceDocument(const common::v1::Document& document,
                               const std::vector<common::v1::Chunk>& chunks);
  // Removes every chunk of the document (no-op when unknown).
  absl::Status RemoveDocument(const std::string& document_id);

  // INVALID_ARGUMENT for a bad request, FAILED_PRECONDITION when the mode needs a
  // model this collection does not have.
  absl::StatusOr<retrieval::v1::SearchResponse> Search(
      const retrieval::v1::SearchRequest& request) const;

  CollectionStats Stats() const;

  // The BM25 statistics of `query`'s terms in this collection (the first phase
  // of a sharded search; see SearchRequest.corpus_stats).
  retrieval::v1::Bm25CorpusStats TermStatistics(const std::string& query) const;

  // Cross-encoder scores of the chunks for `query`, in the given order (the
  // rerank phase of a sharded search). NOT_FOUND for an unknown chunk,
  // FAILED_PRECONDITION without a reranker.
  absl::StatusOr<std::vector<float>> RerankChunks(const std::string& query,
                                                  const std::vector<std::string>& chunk_ids) const;

 private:
  struct Slot {
    std::string chunk_id;
    std::string document_id;
    std::string text;
    common::v1::Provenance provenance;
    std::shared_ptr<const google::protobuf::Map<std::string, common::v1::MetadataValue>> metadata;
    bool live = false;
  };

  CollectionIndex(std::unique_ptr<Bm25Index> bm25, std::unique_ptr<dense::VectorIndex> dense,
                  const Embedder* embedder, const Reranker* reranker)
      : bm25_(std::move(bm25)), dense_(std::move(dense)), embedder_(embedder),
        reranker_(reranker) {}
  absl::Status RemoveLocked(const std::string& document_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::unique_ptr<Bm25Index> bm25_;
  const std::unique_ptr<dense::VectorIndex> dense_;  // null without an embedder
  const Embedder* const embedder_;
  const Reranker* const reranker_;

  mutable absl::Mutex mu_;
  std::vector<Slot> slots_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, uint32_t> slot_of_chunk_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::vector<uint32_t>> slots_of_document_ ABSL_GUARDED_BY(mu_);
  int64_t live_chunks_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tessera::retrieval

#endif  // TESSERA_RETRIEVAL_COLLECTION_INDEX_H_

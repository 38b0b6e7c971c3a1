// Segments of the BM25 inverted index (see bm25_index.h).
//
// A segment holds documents with dense local ids 0..doc_count-1, their lengths
// and external ids, and per term a postings list (ascending local ids with term
// frequencies) summarised per block of kBlockSize postings by the block's last
// doc, largest term frequency and shortest document. The block summaries give
// BM25 upper bounds for any avgdl, so the evaluator can skip blocks.
//
// MutableSegment takes documents one at a time. FrozenSegment is immutable and
// lives in one flat, checksummed image, either in memory or memory-mapped from a
// file; opening an image validates every size, offset and posting, so a corrupt
// file gives an error Status instead of out-of-bounds reads.
#ifndef TESSERA_RETRIEVAL_BM25_SEGMENT_H_
#define TESSERA_RETRIEVAL_BM25_SEGMENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace tessera::retrieval::bm25 {

inline constexpr uint32_t kBlockSize = 128;
inline constexpr uint32_t kBlockShift = 7;
static_assert((1u << kBlockShift) == kBlockSize);

struct BlockMax {
  uint32_t last_doc;
  uint32_t max_tf;
  uint32_t min_length;
};

// Borrowed view of one term's postings in one segment.
struct PostingsView {
  const uint32_t* docs = nullptr;
  const uint32_t* tfs = nullptr;
  uint32_t size = 0;
  const BlockMax* blocks = nullptr;
  uint32_t num_blocks = 0;
};

class Segment {
 public:
  virtual ~Segment() = default;
  virtual uint32_t doc_count() const = 0;
  // Sum of document lengths (in terms).
  virtual uint64_t total_length() const = 0;
  virtual const uint32_t* doc_lengths() const = 0;
  virtual absl::string_view external_id(uint32_t local_doc) const = 0;
  // False when the segment has no postings for `term`.
  virtual bool Find(absl::string_view term, PostingsView* postings) const = 0;
};

// Append-only in-memory segment; searchable while it grows.
class MutableSegment : public Segment {
 public:
  // Adds a document with the given analysed terms (any order, duplicates
  // counted as term frequency); returns its local id.
  uint32_t AddDocument(absl::string_view external_id, absl::Span<const std::string> terms);

  uint32_t doc_count() const override { return static_cast<uint32_t>(lengths_.size()); }
  uint64_t total_length() const override { return total_length_; }
  const uint32_t* doc_lengths() const override { return lengths_.data(); }
  absl::string_view external_id(uint32_t local_doc) const override { return ids_[local_doc]; }
  bool Find(absl::string_view term, PostingsView* postings) const override;

  // Terms in byte order, for freezing.
  std::vector<absl::string_view> SortedTerms() const;

 private:
  struct Postings {
    std::vector<uint32_t> docs;
    std::vector<uint32_t> tfs;
    std::vector<BlockMax> blocks;
  };

  absl::flat_hash_map<std::string, uint32_t> term_ids_;
  std::vector<Postings> postings_;
  std::vector<uint32_t> lengths_;
  std::vector<std::string> ids_;
  uint64_t total_length_ = 0;
  std::vector<absl::string_view> scratch_terms_;
};

// Backing bytes of a frozen segment (heap buffer or memory mapping).
class ImageStorage {
 public:
  virtual ~ImageStorage() = default;
  virtual const char* data() const = 0;
  virtual size_t size() const = 0;
};

class FrozenSegment : public Segment {
 public:
  // Validates and adopts an image. DataLoss when anything is inconsistent.
  static absl::StatusOr<std::unique_ptr<FrozenSegment>> FromStorage(
      std::unique_ptr<ImageStorage> storage);
  // Memory-maps and validates a segment file. NotFound when it is missing,
  // DataLoss when it is truncated or corrupt.
  static absl::StatusOr<std::unique_ptr<FrozenSegment>> OpenFile(const std::string& path);
  // Freezes a mutable segment.
  static absl::StatusOr<std::unique_ptr<FrozenSegment>> Freeze(const MutableSegment& segment);

  // Writes the image to `path` (via a temporary file, fsync'd, then renamed).
  absl::Status WriteFile(const std::string& path) const;

  uint32_t doc_count() const override { return doc_count_; }
  uint64_t total_length() const override { return total_length_; }
  const uint32_t* doc_lengths() const override { return lengths_; }
  absl::string_view external_id(uint32_t local_doc) const override;
  bool Find(absl::string_view term, PostingsView* postings) const override;

  uint32_t term_count() const { return term_count_; }
  absl::string_view term(uint32_t index) const;
  PostingsView postings(uint32_t index) const;
  size_t image_bytes() const { return storage_->size(); }

 private:
  explicit FrozenSegment(std::unique_ptr<ImageStorage> storage) : storage_(std::move(storage)) {}
  absl::Status Parse();
  absl::Status Validate() const;

  std::unique_ptr<ImageStorage> storage_;
  uint32_t doc_count_ = 0;
  uint32_t term_count_ = 0;
  uint64_t posting_count_ = 0;
  uint64_t block_count_ = 0;
  uint64_t total_length_ = 0;
  const uint32_t* lengths_ = nullptr;
  const uint64_t* id_offsets_ = nullptr;
  const char* id_bytes_ = nullptr;
  uint64_t id_bytes_size_ = 0;
  const uint64_t* term_offsets_ = nullptr;
  const char* term_bytes_ = nullptr;
  uint64_t term_bytes_size_ = 0;
  const uint64_t* posting_offsets_ = nullptr;
  const uint64_t* block_offsets_ = nullptr;
  const uint32_t* docs_ = nullptr;
  const uint32_t* tfs_ = nullptr;
  const BlockMax* blocks_ = nullptr;
};

// Writes a frozen segment image: first every document, then terms in strictly
// increasing byte order, each with its postings in ascending doc order.
class SegmentWriter {
 public:
  void AddDocument(absl::string_view external_id, uint32_t length);
  void BeginTerm(absl::string_view term);
  void AddPosting(uint32_t doc, uint32_t tf);
  // A term that received no postings is dropped.
  void EndTerm();
  absl::StatusOr<std::unique_ptr<FrozenSegment>> Finish();

 private:
  std::vector<uint32_t> lengths_;
  std::vector<uint64_t> id_offsets_{0};
  std::string id_bytes_;
  std::vector<uint64_t> term_offsets_{0};
  std::string term_bytes_;
  std::vector<uint64_t> posting_offsets_{0};
  std::vector<uint64_t> block_offsets_{0};
  std::vector<uint32_t> docs_;
  std::vector<uint32_t> tfs_;
  std::vector<BlockMax> blocks_;
  uint64_t total_length_ = 0;
  std::string pending_term_;
  uint64_t term_start_ = 0;
};

// Adds one posting to a block-summarised list (shared by the mutable segment
// and the writer so both summarise identically).
void AppendPosting(uint32_t doc, uint32_t tf, uint32_t length, uint64_t list_size,
                   std::vector<BlockMax>* blocks);

}  // namespace tessera::retrieval::bm25

#endif  // TESSERA_RETRIEVAL_BM25_SEGMENT_H_

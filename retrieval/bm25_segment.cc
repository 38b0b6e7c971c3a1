#include "retrieval/bm25_segment.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace tessera::retrieval::bm25 {
namespace {

constexpr char kSegmentMagic[8] = {'T', 'S', 'B', 'M', '2', '5', 'S', 'G'};
constexpr uint32_t kSegmentVersion = 1;
// Bound on any section, so size arithmetic on hostile headers cannot overflow.
constexpr uint64_t kMaxSectionBytes = uint64_t{1} << 46;

struct SegmentHeader {
  char magic[8];
  uint32_t version;
  uint32_t header_bytes;
  uint32_t doc_count;
  uint32_t term_count;
  uint32_t block_size;
  uint32_t crc32;  // Of the header (with this field zero) and everything after it.
  uint64_t posting_count;
  uint64_t block_count;
  uint64_t total_length;
  uint64_t id_bytes;
  uint64_t term_bytes;
  uint64_t file_bytes;
};
static_assert(sizeof(SegmentHeader) == 80);
static_assert(sizeof(BlockMax) == 12);

// Byte offsets of the sections, each 8-byte aligned, in file order.
struct Layout {
  uint64_t lengths, id_offsets, id_bytes, term_offsets, term_bytes, posting_offsets,
      block_offsets, docs, tfs, blocks, end;
};

uint64_t AlignUp(uint64_t value) { return (value + 7) & ~uint64_t{7}; }

// Places a section of count * element_size bytes at *cursor; false if too large.
bool Place(uint64_t count, uint64_t element_size, uint64_t* cursor, uint64_t* offset) {
  if (count > kMaxSectionBytes / element_size) return false;
  *offset = AlignUp(*cursor);
  *cursor = *offset + count * element_size;
  return true;
}

bool ComputeLayout(const SegmentHeader& header, Layout* layout) {
  uint64_t cursor = sizeof(SegmentHeader);
  const uint64_t docs = header.doc_count;
  const uint64_t terms = header.term_count;
  return Place(docs, 4, &cursor, &layout->lengths) &&
         Place(docs + 1, 8, &cursor, &layout->id_offsets) &&
         Place(header.id_bytes, 1, &cursor, &layout->id_bytes) &&
         Place(terms + 1, 8, &cursor, &layout->term_offsets) &&
         Place(header.term_bytes, 1, &cursor, &layout->term_bytes) &&
         Place(terms + 1, 8, &cursor, &layout->posting_offsets) &&
         Place(terms + 1, 8, &cursor, &layout->block_offsets) &&
         Place(header.posting_count, 4, &cursor, &layout->docs) &&
         Place(header.posting_count, 4, &cursor, &layout->tfs) &&
         Place(header.block_count, sizeof(BlockMax), &cursor, &layout->blocks) &&
         (layout->end = AlignUp(cursor), true);
}

uint32_t ImageCrc(const char* data, size_t size) {
  SegmentHeader header;
  std::memcpy(&header, data, sizeof(header));
  header.crc32 = 0;
  uLong crc = crc32_z(0L, Z_NULL, 0);
  crc = crc32_z(crc, reinterpret_cast<const Bytef*>(&header), sizeof(header));
  crc = crc32_z(crc, reinterpret_cast<const Bytef*>(data + sizeof(header)),
                size - sizeof(header));
  return static_cast<uint32_t>(crc);
}

class HeapStorage : public ImageStorage {
 public:
  explicit HeapStorage(size_t size) : words_(new uint64_t[(size + 7) / 8]()), size_(size) {}
  const char* data() const override { return reinterpret_cast<const char*>(words_.get()); }
  char* mutable_data() { return reinterpret_cast<char*>(words_.get()); }
  size_t size() const override { return size_; }

 private:
  std::unique_ptr<uint64_t[]> words_;
  size_t size_;
};

class MappedStorage : public ImageStorage {
 public:
  MappedStorage(void* address, size_t size) : address_(address), size_(size) {}
  ~MappedStorage() override { munmap(address_, size_); }
  const char* data() const override { return static_cast<const char*>(address_); }
  size_t size() const override { return size_; }

 private:
  void* address_;
  size_t size_;
};

absl::Status DataLoss(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("corrupt BM25 segment: ", what));
}

absl::Status ErrnoStatus(absl::string_view action, const std::string& path) {
  const int error = errno;
  std::string message = absl::StrCat(action, " ", path, ": ", std::strerror(error));
  if (error == ENOENT) return absl::NotFoundError(message);
  return absl::InternalError(message);
}

template <typename T>
void CopySection(const std::vector<T>& values, uint64_t offset, char* image) {
  if (!values.empty()) std::memcpy(image + offset, values.data(), values.size() * sizeof(T));
}

void CopySection(const std::string& bytes, uint64_t offset, char* image) {
  if (!bytes.empty()) std::memcpy(image + offset, bytes.data(), bytes.size());
}

}  // namespace

void AppendPosting(uint32_t doc, uint32_t tf, uint32_t length, uint64_t list_size,
                   std::vector<BlockMax>* blocks) {
  if (list_size % kBlockSize == 0) {
    blocks->push_back(BlockMax{doc, tf, length});
    return;
  }
  BlockMax& block = blocks->back();
  block.last_doc = doc;
  block.max_tf = std::max(block.max_tf, tf);
  block.min_length = std::min(block.min_length, length);
}

// ---------------------------------------------------------------------------
// MutableSegment

uint32_t MutableSegment::AddDocument(absl::string_view external_id,
                                     absl::Span<const std::string> terms) {
  const uint32_t doc = doc_count();
  scratch_terms_.clear();
  for (const std::string& term : terms) {
    if (!term.empty()) scratch_terms_.push_back(term);
  }
  std::sort(scratch_terms_.begin(), scratch_terms_.end());
  const auto length = static_cast<uint32_t>(scratch_terms_.size());
  lengths_.push_back(length);
  ids_.emplace_back(external_id);
  total_length_ += length;

  for (size_t i = 0; i < scratch_terms_.size();) {
    size_t run_end = i + 1;
    while (run_end < scratch_terms_.size() && scratch_terms_[run_end] == scratch_terms_[i]) {
      ++run_end;
    }
    const absl::string_view term = scratch_terms_[i];
    const auto tf = static_cast<uint32_t>(run_end - i);
    uint32_t term_id;
    auto found = term_ids_.find(term);
    if (found != term_ids_.end()) {
      term_id = found->second;
    } else {
      term_id = static_cast<uint32_t>(postings_.size());
      term_ids_.emplace(std::string(term), term_id);
      postings_.emplace_back();
    }
    Postings& list = postings_[term_id];
    AppendPosting(doc, tf, length, list.docs.size(), &list.blocks);
    list.docs.push_back(doc);
    list.tfs.push_back(tf);
    i = run_end;
  }
  return doc;
}

bool MutableSegment::Find(absl::string_view term, PostingsView* postings) const {
  auto found = term_ids_.find(term);
  if (found == term_ids_.end()) return false;
  const Postings& list = postings_[found->second];
  postings->docs = list.docs.data();
  postings->tfs = list.tfs.data();
  postings->size = static_cast<uint32_t>(list.docs.size());
  postings->blocks = list.blocks.data();
  postings->num_blocks = static_cast<uint32_t>(list.blocks.size());
  return true;
}

std::vector<absl::string_view> MutableSegment::SortedTerms() const {
  std::vector<absl::string_view> terms;
  terms.reserve(term_ids_.size());
  for (const auto& [term, id] : term_ids_) terms.push_back(term);
  std::sort(terms.begin(), terms.end());
  return terms;
}

// ---------------------------------------------------------------------------
// SegmentWriter

void SegmentWriter::AddDocument(absl::string_view external_id, uint32_t length) {
  lengths_.push_back(length);
  total_length_ += length;
  id_bytes_.append(external_id.data(), external_id.size());
  id_offsets_.push_back(id_bytes_.size());
}

void SegmentWriter::BeginTerm(absl::string_view term) {
  pending_term_.assign(term.data(), term.size());
  term_start_ = docs_.size();
}

void SegmentWriter::AddPosting(uint32_t doc, uint32_t tf) {
  AppendPosting(doc, tf, lengths_[doc], docs_.size() - term_start_, &blocks_);
  docs_.push_back(doc);
  tfs_.push_back(tf);
}

void SegmentWriter::EndTerm() {
  if (docs_.size() == term_start_) return;
  term_bytes_ += pending_term_;
  term_offsets_.push_back(term_bytes_.size());
  posting_offsets_.push_back(docs_.size());
  block_offsets_.push_back(blocks_.size());
}

absl::StatusOr<std::unique_ptr<FrozenSegment>> SegmentWriter::Finish() {
  if (lengths_.size() >= UINT32_MAX || term_offsets_.size() >= UINT32_MAX) {
    return absl::ResourceExhaustedError("BM25 segment too large");
  }
  SegmentHeader header{};
  std::memcpy(header.magic, kSegmentMagic, sizeof(kSegmentMagic));
  header.version = kSegmentVersion;
  header.header_bytes = sizeof(SegmentHeader);
  header.doc_count = static_cast<uint32_t>(lengths_.size());
  header.term_count = static_cast<uint32_t>(term_offsets_.size() - 1);
  header.block_size = kBlockSize;
  header.posting_count = docs_.size();
  header.block_count = blocks_.size();
  header.total_length = total_length_;
  header.id_bytes = id_bytes_.size();
  header.term_bytes = term_bytes_.size();
  Layout layout;
  if (!ComputeLayout(header, &layout)) return absl::ResourceExhaustedError("BM25 segment too large");
  header.file_bytes = layout.end;

  auto storage = std::make_unique<HeapStorage>(layout.end);
  char* image = storage->mutable_data();
  CopySection(lengths_, layout.lengths, image);
  CopySection(id_offsets_, layout.id_offsets, image);
  CopySection(id_bytes_, layout.id_bytes, image);
  CopySection(term_offsets_, layout.term_offsets, image);
  CopySection(term_bytes_, layout.term_bytes, image);
  CopySection(posting_offsets_, layout.posting_offsets, image);
  CopySection(block_offsets_, layout.block_offsets, image);
  CopySection(docs_, layout.docs, image);
  CopySection(tfs_, layout.tfs, image);
  CopySection(blocks_, layout.blocks, image);
  std::memcpy(image, &header, sizeof(header));
  header.crc32 = ImageCrc(image, layout.end);
  std::memcpy(image, &header, sizeof(header));
  return FrozenSegment::FromStorage(std::move(storage));
}

// ---------------------------------------------------------------------------
// FrozenSegment

absl::StatusOr<std::unique_ptr<FrozenSegment>> FrozenSegment::FromStorage(
    std::unique_ptr<ImageStorage> storage) {
  std::unique_ptr<FrozenSegment> segment(new FrozenSegment(std::move(storage)));
  if (absl::Status status = segment->Parse(); !status.ok()) return status;
  if (absl::Status status = segment->Validate(); !status.ok()) return status;
  return segment;
}

absl::StatusOr<std::unique_ptr<FrozenSegment>> FrozenSegment::OpenFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open", path);
  struct stat info;
  if (fstat(fd, &info) != 0) {
    absl::Status status = ErrnoStatus("cannot stat", path);
    close(fd);
    return status;
  }
  const auto size = static_cast<size_t>(info.st_size);
  if (size < sizeof(SegmentHeader)) {
    close(fd);
    return DataLoss(absl::StrCat(path, " is truncated (", size, " bytes)"));
  }
  void* address = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (address == MAP_FAILED) return ErrnoStatus("cannot map", path);
  auto segment = FromStorage(std::make_unique<MappedStorage>(address, size));
  if (!segment.ok()) {
    return absl::Status(segment.status().code(),
                        absl::StrCat(segment.status().message(), " (", path, ")"));
  }
  return segment;
}

absl::StatusOr<std::unique_ptr<FrozenSegment>> FrozenSegment::Freeze(
    const MutableSegment& segment) {
  SegmentWriter writer;
  for (uint32_t doc = 0; doc < segment.doc_count(); ++doc) {
    writer.AddDocument(segment.external_id(doc), segment.doc_lengths()[doc]);
  }
  for (absl::string_view term : segment.SortedTerms()) {
    PostingsView postings;
    segment.Find(term, &postings);
    writer.BeginTerm(term);
    for (uint32_t i = 0; i < postings.size; ++i) writer.AddPosting(postings.docs[i], postings.tfs[i]);
    writer.EndTerm();
  }
  return writer.Finish();
}

absl::Status FrozenSegment::Parse() {
  const char* data = storage_->data();
  const size_t size = storage_->size();
  if (size < sizeof(SegmentHeader)) return DataLoss("shorter than its header");
  SegmentHeader header;
  std::memcpy(&header, data, sizeof(header));
  if (std::memcmp(header.magic, kSegmentMagic, sizeof(kSegmentMagic)) != 0) {
    return DataLoss("bad magic");
  }
  if (header.version != kSegmentVersion) {
    return DataLoss(absl::StrCat("unsupported version ", header.version));
  }
  if (header.header_bytes != sizeof(SegmentHeader) || header.block_size != kBlockSize) {
    return DataLoss("unexpected header or block size");
  }
  Layout layout;
  if (!ComputeLayout(header, &layout)) return DataLoss("section sizes out of range");
  if (header.file_bytes != size || layout.end != size) {
    return DataLoss(absl::StrCat("size is ", size, " bytes, header implies ", layout.end,
                                 " (truncated or extended)"));
  }
  if (ImageCrc(data, size) != header.crc32) return DataLoss("checksum mismatch");

  doc_count_ = header.doc_count;
  term_count_ = header.term_count;
  posting_count_ = header.posting_count;
  block_count_ = header.block_count;
  total_length_ = header.total_length;
  id_bytes_size_ = header.id_bytes;
  term_bytes_size_ = header.term_bytes;
  lengths_ = reinterpret_cast<const uint32_t*>(data + layout.lengths);
  id_offsets_ = reinterpret_cast<const uint64_t*>(data + layout.id_offsets);
  id_bytes_ = data + layout.id_bytes;
  term_offsets_ = reinterpret_cast<const uint64_t*>(data + layout.term_offsets);
  term_bytes_ = data + layout.term_bytes;
  posting_offsets_ = reinterpret_cast<const uint64_t*>(data + layout.posting_offsets);
  block_offsets_ = reinterpret_cast<const uint64_t*>(data + layout.block_offsets);
  docs_ = reinterpret_cast<const uint32_t*>(data + layout.docs);
  tfs_ = reinterpret_cast<const uint32_t*>(data + layout.tfs);
  blocks_ = reinterpret_cast<const BlockMax*>(data + layout.blocks);
  return absl::OkStatus();
}

// Checks everything the search and merge code relies on, so that a file with a
// valid checksum but inconsistent contents cannot cause out-of-range reads.
absl::Status FrozenSegment::Validate() const {
  // Offset tables first, so that every later read is known to be in bounds.
  if (id_offsets_[0] != 0 || id_offsets_[doc_count_] != id_bytes_size_) {
    return DataLoss("id offsets do not span the id bytes");
  }
  for (uint32_t doc = 0; doc < doc_count_; ++doc) {
    if (id_offsets_[doc + 1] <= id_offsets_[doc]) return DataLoss("empty or unordered id");
  }
  if (term_offsets_[0] != 0 || term_offsets_[term_count_] != term_bytes_size_ ||
      posting_offsets_[0] != 0 || posting_offsets_[term_count_] != posting_count_ ||
      block_offsets_[0] != 0 || block_offsets_[term_count_] != block_count_) {
    return DataLoss("term tables do not span their sections");
  }
  for (uint32_t t = 0; t < term_count_; ++t) {
    if (term_offsets_[t + 1] <= term_offsets_[t]) return DataLoss("empty or unordered term");
    if (posting_offsets_[t + 1] <= posting_offsets_[t]) return DataLoss("term without postings");
    const uint64_t postings = posting_offsets_[t + 1] - posting_offsets_[t];
    if (block_offsets_[t + 1] < block_offsets_[t] ||
        block_offsets_[t + 1] - block_offsets_[t] != (postings + kBlockSize - 1) / kBlockSize) {
      return DataLoss("block count does not match postings");
    }
  }
  std::vector<uint64_t> length_sums(doc_count_, 0);
  absl::string_view previous_term;
  for (uint32_t t = 0; t < term_count_; ++t) {
    const absl::string_view current = term(t);
    if (t > 0 && !(previous_term < current)) return DataLoss("terms not strictly increasing");
    previous_term = current;

    const uint64_t begin = posting_offsets_[t];
    const uint64_t end = posting_offsets_[t + 1];
    const uint64_t expected_blocks = (end - begin + kBlockSize - 1) / kBlockSize;
    for (uint64_t i = begin; i < end; ++i) {
      const uint32_t doc = docs_[i];
      if (doc >= doc_count_ || (i > begin && doc <= docs_[i - 1])) {
        return DataLoss("postings out of range or order");
      }
      if (tfs_[i] == 0) return DataLoss("zero term frequency");
      length_sums[doc] += tfs_[i];
    }
    for (uint64_t block = 0; block < expected_blocks; ++block) {
      const uint64_t first = begin + block * kBlockSize;
      const uint64_t last = std::min(end, first + kBlockSize);
      uint32_t max_tf = 0;
      uint32_t min_length = UINT32_MAX;
      for (uint64_t i = first; i < last; ++i) {
        max_tf = std::max(max_tf, tfs_[i]);
        min_length = std::min(min_length, lengths_[docs_[i]]);
      }
      const BlockMax& stored = blocks_[block_offsets_[t] + block];
      if (stored.last_doc != docs_[last - 1] || stored.max_tf != max_tf ||
          stored.min_length != min_length) {
        return DataLoss("block summary does not match postings");
      }
    }
  }
  uint64_t total = 0;
  for (uint32_t doc = 0; doc < doc_count_; ++doc) {
    if (length_sums[doc] != lengths_[doc]) return DataLoss("document length mismatch");
    total += lengths_[doc];
  }
  if (total != total_length_) return DataLoss("total length mismatch");
  return absl::OkStatus();
}

absl::Status FrozenSegment::WriteFile(const std::string& path) const {
  const std::string temporary = path + ".tmp";
  const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("cannot create", temporary);
  const char* data = storage_->data();
  size_t remaining = storage_->size();
  while (remaining > 0) {
    const ssize_t written = write(fd, data, remaining);
    if (written < 0) {
      if (errno == EINTR) continue;
      absl::Status status = ErrnoStatus("cannot write", temporary);
      close(fd);
      return status;
    }
    data += written;
    remaining -= static_cast<size_t>(written);
  }
  if (fsync(fd) != 0) {
    absl::Status status = ErrnoStatus("cannot sync", temporary);
    close(fd);
    return status;
  }
  if (close(fd) != 0) return ErrnoStatus("cannot close", temporary);
  if (rename(temporary.c_str(), path.c_str()) != 0) return ErrnoStatus("cannot rename to", path);
  return absl::OkStatus();
}

absl::string_view FrozenSegment::external_id(uint32_t local_doc) const {
  return absl::string_view(id_bytes_ + id_offsets_[local_doc],
                           id_offsets_[local_doc + 1] - id_offsets_[local_doc]);
}

absl::string_view FrozenSegment::term(uint32_t index) const {
  return absl::string_view(term_bytes_ + term_offsets_[index],
                           term_offsets_[index + 1] - term_offsets_[index]);
}

PostingsView FrozenSegment::postings(uint32_t index) const {
  PostingsView view;
  const uint64_t begin = posting_offsets_[index];
  view.docs = docs_ + begin;
  view.tfs = tfs_ + begin;
  view.size = static_cast<uint32_t>(posting_offsets_[index + 1] - begin);
  view.blocks = blocks_ + block_offsets_[index];
  view.num_blocks = static_cast<uint32_t>(block_offsets_[index + 1] - block_offsets_[index]);
  return view;
}

bool FrozenSegment::Find(absl::string_view term_text, PostingsView* out) const {
  uint32_t low = 0;
  uint32_t high = term_count_;
  while (low < high) {
    const uint32_t middle = low + (high - low) / 2;
    if (term(middle) < term_text) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  if (low == term_count_ || term(low) != term_text) return false;
  *out = postings(low);
  return true;
}

}  // namespace tessera::retrieval::bm25

#include "retrieval/bm25_index.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tessera::retrieval {
namespace {

using bm25::BlockMax;
using bm25::kBlockShift;
using bm25::PostingsView;

constexpr uint32_t kNoDoc = UINT32_MAX;
constexpr char kManifestName[] = "MANIFEST";
constexpr char kManifestMagic[8] = {'T', 'S', 'B', 'M', '2', '5', 'M', 'F'};
constexpr uint32_t kManifestVersion = 1;
constexpr char kSegmentPrefix[] = "segment_";
constexpr char kSegmentSuffix[] = ".bm25";
// Upper bounds are inflated by this factor so float rounding in score sums can
// never prune a document that belongs in the top k.
constexpr float kBoundSlack = 1.00001f;

// BM25 constants of one search: term score = weight * tf / (tf + c0 + c1 * |d|).
struct Scoring {
  float c0 = 0;
  float c1 = 0;
  float Norm(uint32_t length) const { return c0 + c1 * static_cast<float>(length); }
};

struct QueryTerm {
  absl::string_view text;
  uint32_t count = 0;
  float weight = 0;  // count * idf * (k1 + 1)
};

struct Cursor {
  const uint32_t* docs;
  const uint32_t* tfs;
  const BlockMax* blocks;
  uint32_t size;
  uint32_t num_blocks;
  uint32_t pos;
  float weight;
  float upper_bound;

  uint32_t doc() const { return pos < size ? docs[pos] : kNoDoc; }
  float ScoreAt(float norm) const {
    const auto tf = static_cast<float>(tfs[pos]);
    return weight * tf / (tf + norm);
  }
  // Moves to the block that may hold `target` without looking inside blocks;
  // false when the list has no doc >= target.
  bool SeekBlock(uint32_t target) {
    uint32_t block = pos >> kBlockShift;
    if (block >= num_blocks) return false;
    if (blocks[block].last_doc >= target) return true;
    do {
      ++block;
    } while (block < num_blocks && blocks[block].last_doc < target);
    if (block == num_blocks) {
      pos = size;
      return false;
    }
    pos = block << kBlockShift;
    return true;
  }
  // Bound of this list's contribution to a document with norm `norm` in the
  // current block.
  float BlockBound(float norm) const {
    const auto max_tf = static_cast<float>(blocks[pos >> kBlockShift].max_tf);
    return weight * max_tf / (max_tf + norm) * kBoundSlack;
  }
  // After SeekBlock(target) returned true: first posting >= target.
  void AdvanceInBlock(uint32_t target) {
    const uint32_t block_end = std::min(size, ((pos >> kBlockShift) + 1) << kBlockShift);
    pos = static_cast<uint32_t>(std::lower_bound(docs + pos, docs + block_end, target) - docs);
  }
};

// The k best (score, doc) pairs; ties favour the smaller doc, which the
// ascending traversal gets by admitting only strictly better scores.
class TopK {
 public:
  void Reset(size_t k) {
    k_ = k;
    heap_.clear();
  }
  // Score a document must exceed to enter; 0 (below any BM25 score) until full.
  float threshold() const { return heap_.size() < k_ ? 0.0f : heap_.front().first; }
  // True when the threshold may have changed.
  bool Push(float score, uint32_t doc) {
    if (heap_.size() < k_) {
      heap_.emplace_back(score, doc);
      std::push_heap(heap_.begin(), heap_.end(), Worse);
      return heap_.size() == k_;
    }
    if (!(score > heap_.front().first)) return false;
    std::pop_heap(heap_.begin(), heap_.end(), Worse);
    heap_.back() = {score, doc};
    std::push_heap(heap_.begin(), heap_.end(), Worse);
    return true;
  }
  std::vector<std::pair<float, uint32_t>>& SortedBestFirst() {
    std::sort(heap_.begin(), heap_.end(), Worse);
    return heap_;
  }

 private:
  // Heap order: the worst entry at the front.
  static bool Worse(const std::pair<float, uint32_t>& a, const std::pair<float, uint32_t>& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  }
  size_t k_ = 0;
  std::vector<std::pair<float, uint32_t>> heap_;
};

// Per-thread buffers so a search allocates nothing once warmed up.
struct SearchScratch {
  std::vector<absl::string_view> sorted_terms;
  std::vector<QueryTerm> terms;
  std::vector<PostingsView> views;  // segment-major: views[s * terms + t]
  std::vector<Cursor> cursors;
  std::vector<float> bound_prefix;
  TopK top;
};

// MaxScore over one segment. `accepts` takes internal (global) doc ids.
template <typename Accepts>
void SearchSegment(const bm25::Segment& segment, uint32_t base, const PostingsView* views,
                   absl::Span<const QueryTerm> terms, const Scoring& scoring, bool exhaustive,
                   const Accepts& accepts, SearchScratch* scratch, Bm25SearchStats* stats) {
  std::vector<Cursor>& cursors = scratch->cursors;
  cursors.clear();
  for (size_t t = 0; t < terms.size(); ++t) {
    const PostingsView& view = views[t];
    if (view.size == 0) continue;
    float bound = 0;
    for (uint32_t b = 0; b < view.num_blocks; ++b) {
      const auto max_tf = static_cast<float>(view.blocks[b].max_tf);
      bound = std::max(bound,
                       terms[t].weight * max_tf / (max_tf + scoring.Norm(view.blocks[b].min_length)));
    }
    cursors.push_back(Cursor{view.docs, view.tfs, view.blocks, view.size, view.num_blocks, 0,
                             terms[t].weight, bound * kBoundSlack});
  }
  if (cursors.empty()) return;
  std::sort(cursors.begin(), cursors.end(),
            [](const Cursor& a, const Cursor& b) { return a.upper_bound < b.upper_bound; });
  const size_t n = cursors.size();
  std::vector<float>& prefix = scratch->bound_prefix;  // prefix[i] = sum of bounds 0..i
  prefix.resize(n);
  float sum = 0;
  for (size_t i = 0; i < n; ++i) prefix[i] = sum += cursors[i].upper_bound;

  TopK& top = scratch->top;
  const uint32_t* lengths = segment.doc_lengths();
  // Lists before first_essential cannot, even together, lift a document above
  // the threshold; candidates come only from the others.
  size_t first_essential = 0;
  auto update_essential = [&] {
    if (exhaustive) return;
    const float threshold = top.threshold();
    while (first_essential < n && prefix[first_essential] <= threshold) ++first_essential;
  };
  update_essential();

  while (first_essential < n) {
    uint32_t doc = kNoDoc;
    for (size_t i = first_essential; i < n; ++i) doc = std::min(doc, cursors[i].doc());
    if (doc == kNoDoc) break;
    ++stats->candidates;
    if (!accepts(base + doc)) {
      for (size_t i = first_essential; i < n; ++i) {
        if (cursors[i].doc() == doc) ++cursors[i].pos;
      }
      continue;
    }
    const float norm = scoring.Norm(lengths[doc]);
    float score = 0;
    for (size_t i = first_essential; i < n; ++i) {
      Cursor& cursor = cursors[i];
      if (cursor.doc() == doc) {
        score += cursor.ScoreAt(norm);
        ++cursor.pos;
      }
    }
    const float threshold = top.threshold();
    bool pruned = false;
    for (size_t i = first_essential; i-- > 0;) {
      if (score + prefix[i] <= threshold) {
        pruned = true;
        break;
      }
      Cursor& cursor = cursors[i];
      if (!cursor.SeekBlock(doc)) continue;
      const float rest = i > 0 ? prefix[i - 1] : 0.0f;
      if (score + rest + cursor.BlockBound(norm) <= threshold) {
        pruned = true;
        break;
      }
      cursor.AdvanceInBlock(doc);
      if (cursor.doc() == doc) score += cursor.ScoreAt(norm);
    }
    if (pruned) continue;
    ++stats->scored;
    if (top.Push(score, base + doc)) update_essential();
  }
}

absl::Status ErrnoStatus(absl::string_view action, const std::string& path) {
  const int error = errno;
  std::string message = absl::StrCat(action, " ", path, ": ", std::strerror(error));
  if (error == ENOENT) return absl::NotFoundError(message);
  return absl::InternalError(message);
}

absl::Status ManifestCorrupt(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("corrupt BM25 manifest: ", what));
}

void PutU32(uint32_t value, std::string* out) {
  out->append(reinterpret_cast<const char*>(&value), sizeof(value));
}

// Bounds-checked reader over the manifest bytes.
class ManifestReader {
 public:
  explicit ManifestReader(absl::string_view bytes) : bytes_(bytes) {}
  bool ReadU32(uint32_t* value) {
    if (bytes_.size() < sizeof(*value)) return false;
    std::memcpy(value, bytes_.data(), sizeof(*value));
    bytes_.remove_prefix(sizeof(*value));
    return true;
  }
  bool ReadBytes(size_t count, absl::string_view* value) {
    if (bytes_.size() < count) return false;
    *value = bytes_.substr(0, count);
    bytes_.remove_prefix(count);
    return true;
  }
  bool done() const { return bytes_.empty(); }

 private:
  absl::string_view bytes_;
};

bool IsSegmentFileName(absl::string_view name) {
  return absl::StartsWith(name, kSegmentPrefix) && absl::EndsWith(name, kSegmentSuffix) &&
         name.size() > sizeof(kSegmentPrefix) + sizeof(kSegmentSuffix) - 2 &&
         name.find('/') == absl::string_view::npos;
}

uint64_t SegmentNumber(absl::string_view name) {
  name.remove_prefix(sizeof(kSegmentPrefix) - 1);
  name.remove_suffix(sizeof(kSegmentSuffix) - 1);
  uint64_t number = 0;
  return absl::SimpleAtoi(name, &number) ? number : 0;
}

absl::Status SyncDirectory(const std::string& directory) {
  const int fd = open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open directory", directory);
  const int result = fsync(fd);
  close(fd);
  if (result != 0) return ErrnoStatus("cannot sync directory", directory);
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents) {
  const std::string temporary = path + ".tmp";
  const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("cannot create", temporary);
  while (!contents.empty()) {
    const ssize_t written = write(fd, contents.data(), contents.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      absl::Status status = ErrnoStatus("cannot write", temporary);
      close(fd);
      return status;
    }
    contents.remove_prefix(static_cast<size_t>(written));
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

std::string CanonicalDirectory(const std::string& directory) {
  std::error_code error;
  std::filesystem::path canonical = std::filesystem::weakly_canonical(directory, error);
  return error ? directory : canonical.string();
}

}  // namespace

// ---------------------------------------------------------------------------
// DocFilter

DocFilter DocFilter::FromBitset(absl::Span<const uint64_t> allowed) {
  DocFilter filter;
  filter.bitset_ = allowed;
  return filter;
}

DocFilter DocFilter::FromPredicate(std::function<bool(uint32_t)> accepts) {
  DocFilter filter;
  filter.predicate_ = std::move(accepts);
  if (!filter.predicate_) filter.predicate_ = [](uint32_t) { return false; };
  return filter;
}

// ---------------------------------------------------------------------------
// Bm25Index: construction and mutation

Bm25Index::Bm25Index(Bm25Options options, std::unique_ptr<Analyzer> analyzer)
    : options_(std::move(options)),
      analyzer_(std::move(analyzer)),
      buffer_(std::make_unique<bm25::MutableSegment>()) {}

namespace {
absl::Status ValidateParams(const Bm25Params& params) {
  if (!(params.k1 >= 0) || !std::isfinite(params.k1) || !(params.b >= 0 && params.b <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("BM25 needs k1 >= 0 and 0 <= b <= 1; got k1=", params.k1, " b=", params.b));
  }
  return absl::OkStatus();
}
}  // namespace

absl::StatusOr<std::unique_ptr<Bm25Index>> Bm25Index::Create(Bm25Options options) {
  if (absl::Status status = ValidateParams(options.params); !status.ok()) return status;
  if (options.max_buffered_docs == 0 || options.max_segments == 0) {
    return absl::InvalidArgumentError("max_buffered_docs and max_segments must be positive");
  }
  auto analyzer = Analyzer::Create(options.analyzer);
  if (!analyzer.ok()) return analyzer.status();
  return std::unique_ptr<Bm25Index>(new Bm25Index(std::move(options), std::move(*analyzer)));
}

absl::Status Bm25Index::Add(absl::string_view id, absl::string_view text) {
  std::vector<std::string> terms;
  analyzer_->Analyze(text, &terms);  // Outside the lock: analysis is the slow part.
  absl::MutexLock lock(&mutex_);
  return AddTermsLocked(id, terms);
}

absl::Status Bm25Index::AddTerms(absl::string_view id, absl::Span<const std::string> terms) {
  absl::MutexLock lock(&mutex_);
  return AddTermsLocked(id, terms);
}

absl::Status Bm25Index::AddTermsLocked(absl::string_view id,
                                       absl::Span<const std::string> terms) {
  if (id.empty()) return absl::InvalidArgumentError("document id must not be empty");
  if (doc_id_limit_ >= kNoDoc - 1) {
    return absl::ResourceExhaustedError("BM25 index is out of internal doc ids; merge it");
  }
  if (auto existing = live_ids_.find(id); existing != live_ids_.end()) {
    MarkDeleted(existing->second);
    live_ids_.erase(existing);
  }
  const uint32_t doc = buffer_base() + buffer_->AddDocument(id, terms);
  live_ids_.emplace(std::string(id), doc);
  total_length_ += buffer_->doc_lengths()[doc - buffer_base()];
  doc_id_limit_ = doc + 1;
  deleted_.resize((doc_id_limit_ + 63) / 64, 0);
  if (buffer_->doc_count() >= options_.max_buffered_docs) return FlushLocked();
  return absl::OkStatus();
}

absl::Status Bm25Index::Delete(absl::string_view id) {
  absl::MutexLock lock(&mutex_);
  auto found = live_ids_.find(id);
  if (found == live_ids_.end()) {
    return absl::NotFoundError(absl::StrCat("no document with id '", id, "'"));
  }
  MarkDeleted(found->second);
  live_ids_.erase(found);
  return absl::OkStatus();
}

void Bm25Index::MarkDeleted(uint32_t doc) { deleted_[doc >> 6] |= uint64_t{1} << (doc & 63); }

bool Bm25Index::IsDeleted(uint32_t doc) const { return (deleted_[doc >> 6] >> (doc & 63)) & 1; }

uint32_t Bm25Index::buffer_base() const {
  return frozen_.empty() ? 0 : frozen_.back().base + frozen_.back().segment->doc_count();
}

absl::Status Bm25Index::Flush() {
  absl::MutexLock lock(&mutex_);
  return FlushLocked();
}

absl::Status Bm25Index::FlushLocked() {
  if (buffer_->doc_count() == 0) return absl::OkStatus();
  auto frozen = bm25::FrozenSegment::Freeze(*buffer_);
  if (!frozen.ok()) return frozen.status();
  FrozenSlot slot;
  slot.base = buffer_base();
  slot.segment = std::move(*frozen);
  frozen_.push_back(std::move(slot));
  buffer_ = std::make_unique<bm25::MutableSegment>();
  if (frozen_.size() > options_.max_segments) return MergeLocked();
  return absl::OkStatus();
}

absl::Status Bm25Index::Merge() {
  absl::MutexLock lock(&mutex_);
  return MergeLocked();
}

absl::Status Bm25Index::MergeLocked() {
  if (absl::Status status = FlushLocked(); !status.ok()) return status;
  const bool any_deleted =
      std::any_of(deleted_.begin(), deleted_.end(), [](uint64_t word) { return word != 0; });
  if (frozen_.empty() || (frozen_.size() == 1 && !any_deleted)) return absl::OkStatus();

  bm25::SegmentWriter writer;
  std::vector<std::vector<uint32_t>> remap(frozen_.size());
  uint32_t next_doc = 0;
  for (size_t s = 0; s < frozen_.size(); ++s) {
    const bm25::FrozenSegment& segment = *frozen_[s].segment;
    remap[s].assign(segment.doc_count(), kNoDoc);
    for (uint32_t local = 0; local < segment.doc_count(); ++local) {
      if (IsDeleted(frozen_[s].base + local)) continue;
      remap[s][local] = next_doc++;
      writer.AddDocument(segment.external_id(local), segment.doc_lengths()[local]);
    }
  }
  // k-way merge of the sorted term dictionaries; segments are few, so the
  // smallest current term is found by a linear scan.
  std::vector<uint32_t> term_index(frozen_.size(), 0);
  while (true) {
    absl::string_view smallest;
    bool any = false;
    for (size_t s = 0; s < frozen_.size(); ++s) {
      const bm25::FrozenSegment& segment = *frozen_[s].segment;
      if (term_index[s] == segment.term_count()) continue;
      const absl::string_view term = segment.term(term_index[s]);
      if (!any || term < smallest) smallest = term;
      any = true;
    }
    if (!any) break;
    writer.BeginTerm(smallest);
    for (size_t s = 0; s < frozen_.size(); ++s) {
      const bm25::FrozenSegment& segment = *frozen_[s].segment;
      if (term_index[s] == segment.term_count() || segment.term(term_index[s]) != smallest) {
        continue;
      }
      const PostingsView postings = segment.postings(term_index[s]);
      for (uint32_t i = 0; i < postings.size; ++i) {
        const uint32_t doc = remap[s][postings.docs[i]];
        if (doc != kNoDoc) writer.AddPosting(doc, postings.tfs[i]);
      }
    }
    writer.EndTerm();
    for (size_t s = 0; s < frozen_.size(); ++s) {
      const bm25::FrozenSegment& segment = *frozen_[s].segment;
      if (term_index[s] < segment.term_count() && segment.term(term_index[s]) == smallest) {
        ++term_index[s];
      }
    }
  }
  auto merged = writer.Finish();
  if (!merged.ok()) return merged.status();

  live_ids_.clear();
  const bm25::FrozenSegment& segment = **merged;
  for (uint32_t doc = 0; doc < segment.doc_count(); ++doc) {
    live_ids_.emplace(std::string(segment.external_id(doc)), doc);
  }
  total_length_ = segment.total_length();
  doc_id_limit_ = segment.doc_count();
  deleted_.assign((doc_id_limit_ + 63) / 64, 0);
  frozen_.clear();
  FrozenSlot slot;
  slot.segment = std::move(*merged);
  frozen_.push_back(std::move(slot));
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Persistence

absl::Status Bm25Index::Save(const std::string& directory) {
  absl::MutexLock lock(&mutex_);
  if (absl::Status status = FlushLocked(); !status.ok()) return status;
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("cannot create directory ", directory, ": ", error.message()));
  }
  const std::string canonical = CanonicalDirectory(directory);

  for (FrozenSlot& slot : frozen_) {
    if (!slot.file_name.empty() && slot.persisted_directory == canonical) continue;
    std::string name;
    do {
      name = absl::StrCat(kSegmentPrefix, next_segment_number_++, kSegmentSuffix);
    } while (std::filesystem::exists(directory + "/" + name, error));
    if (absl::Status status = slot.segment->WriteFile(directory + "/" + name); !status.ok()) {
      return status;
    }
    slot.file_name = name;
    slot.persisted_directory = canonical;
  }

  std::string manifest(kManifestMagic, sizeof(kManifestMagic));
  PutU32(kManifestVersion, &manifest);
  PutU32(static_cast<uint32_t>(frozen_.size()), &manifest);
  for (const FrozenSlot& slot : frozen_) {
    PutU32(static_cast<uint32_t>(slot.file_name.size()), &manifest);
    manifest += slot.file_name;
    const uint32_t count = slot.segment->doc_count();
    PutU32(count, &manifest);
    std::vector<uint32_t> deleted;
    for (uint32_t local = 0; local < count; ++local) {
      if (IsDeleted(slot.base + local)) deleted.push_back(local);
    }
    PutU32(static_cast<uint32_t>(deleted.size()), &manifest);
    for (uint32_t local : deleted) PutU32(local, &manifest);
  }
  PutU32(static_cast<uint32_t>(crc32_z(0, reinterpret_cast<const Bytef*>(manifest.data()),
                                       manifest.size())),
         &manifest);
  if (absl::Status status = WriteFileAtomically(directory + "/" + kManifestName, manifest);
      !status.ok()) {
    return status;
  }
  if (absl::Status status = SyncDirectory(directory); !status.ok()) return status;

  // Segment files no longer referenced (merged away) are garbage now.
  absl::flat_hash_set<std::string> referenced;
  for (const FrozenSlot& slot : frozen_) referenced.insert(slot.file_name);
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
    const std::string name = entry.path().filename().string();
    const bool stale_segment = IsSegmentFileName(name) && !referenced.contains(name);
    const bool leftover = absl::EndsWith(name, ".tmp") && absl::StartsWith(name, kSegmentPrefix);
    if (stale_segment || leftover) std::filesystem::remove(entry.path(), error);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Bm25Index>> Bm25Index::Open(const std::string& directory,
                                                           Bm25Options options) {
  auto created = Create(std::move(options));
  if (!created.ok()) return created.status();
  std::unique_ptr<Bm25Index> index = std::move(*created);

  const std::string manifest_path = directory + "/" + kManifestName;
  std::ifstream file(manifest_path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat("no BM25 index at ", directory));
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (file.bad()) return absl::InternalError(absl::StrCat("cannot read ", manifest_path));
  if (bytes.size() < sizeof(kManifestMagic) + 3 * sizeof(uint32_t)) {
    return ManifestCorrupt("truncated");
  }
  uint32_t stored_crc;
  std::memcpy(&stored_crc, bytes.data() + bytes.size() - sizeof(uint32_t), sizeof(uint32_t));
  bytes.resize(bytes.size() - sizeof(uint32_t));
  if (static_cast<uint32_t>(crc32_z(0, reinterpret_cast<const Bytef*>(bytes.data()),
                                    bytes.size())) != stored_crc) {
    return ManifestCorrupt("checksum mismatch");
  }
  ManifestReader reader(bytes);
  absl::string_view magic;
  uint32_t version = 0;
  uint32_t segment_count = 0;
  if (!reader.ReadBytes(sizeof(kManifestMagic), &magic) ||
      magic != absl::string_view(kManifestMagic, sizeof(kManifestMagic))) {
    return ManifestCorrupt("bad magic");
  }
  if (!reader.ReadU32(&version) || version != kManifestVersion) {
    return ManifestCorrupt(absl::StrCat("unsupported version ", version));
  }
  if (!reader.ReadU32(&segment_count)) return ManifestCorrupt("truncated");

  absl::MutexLock lock(&index->mutex_);
  const std::string canonical = CanonicalDirectory(directory);
  uint64_t next_base = 0;
  std::vector<std::pair<uint32_t, uint32_t>> deleted;  // (segment, local)
  for (uint32_t s = 0; s < segment_count; ++s) {
    uint32_t name_size = 0;
    absl::string_view name;
    uint32_t doc_count = 0;
    uint32_t deleted_count = 0;
    if (!reader.ReadU32(&name_size) || !reader.ReadBytes(name_size, &name) ||
        !reader.ReadU32(&doc_count) || !reader.ReadU32(&deleted_count)) {
      return ManifestCorrupt("truncated segment entry");
    }
    if (!IsSegmentFileName(name)) return ManifestCorrupt("bad segment file name");
    for (uint32_t i = 0; i < deleted_count; ++i) {
      uint32_t local = 0;
      if (!reader.ReadU32(&local)) return ManifestCorrupt("truncated deletions");
      if (local >= doc_count) return ManifestCorrupt("deleted doc out of range");
      deleted.emplace_back(s, local);
    }
    auto segment = bm25::FrozenSegment::OpenFile(directory + "/" + std::string(name));
    if (!segment.ok()) {
      if (absl::IsNotFound(segment.status())) {
        return absl::DataLossError(absl::StrCat("BM25 manifest names a missing segment: ",
                                                segment.status().message()));
      }
      return segment.status();
    }
    if ((*segment)->doc_count() != doc_count) {
      return ManifestCorrupt(absl::StrCat("segment ", name, " document count differs"));
    }
    FrozenSlot slot;
    slot.segment = std::move(*segment);
    slot.base = static_cast<uint32_t>(next_base);
    slot.file_name = std::string(name);
    slot.persisted_directory = canonical;
    next_base += doc_count;
    if (next_base >= kNoDoc) return ManifestCorrupt("too many documents");
    index->next_segment_number_ = std::max(index->next_segment_number_, SegmentNumber(name) + 1);
    index->total_length_ += slot.segment->total_length();
    index->frozen_.push_back(std::move(slot));
  }
  if (!reader.done()) return ManifestCorrupt("trailing bytes");

  index->doc_id_limit_ = static_cast<uint32_t>(next_base);
  index->deleted_.assign((index->doc_id_limit_ + 63) / 64, 0);
  for (const auto& [s, local] : deleted) index->MarkDeleted(index->frozen_[s].base + local);
  for (const FrozenSlot& slot : index->frozen_) {
    for (uint32_t local = 0; local < slot.segment->doc_count(); ++local) {
      const uint32_t doc = slot.base + local;
      if (index->IsDeleted(doc)) continue;
      if (!index->live_ids_.emplace(std::string(slot.segment->external_id(local)), doc).second) {
        return absl::DataLossError(absl::StrCat("BM25 index has two live documents with id '",
                                                slot.segment->external_id(local), "'"));
      }
    }
  }
  return index;
}

// ---------------------------------------------------------------------------
// Search

absl::StatusOr<std::vector<Bm25Hit>> Bm25Index::Search(absl::string_view query,
                                                       const Bm25SearchOptions& options,
                                                       Bm25SearchStats* stats) const {
  thread_local std::vector<std::string> terms;
  analyzer_->Analyze(query, &terms);
  return SearchTerms(terms, options, stats);
}

absl::StatusOr<std::vector<Bm25Hit>> Bm25Index::SearchTerms(absl::Span<const std::string> terms,
                                                            const Bm25SearchOptions& options,
                                                            Bm25SearchStats* stats) const {
  const Bm25Params params = options.params.value_or(options_.params);
  if (absl::Status status = ValidateParams(params); !status.ok()) return status;
  std::vector<Bm25Hit> hits;
  if (options.top_k == 0 || terms.empty()) return hits;
  Bm25SearchStats local_stats;
  if (stats == nullptr) stats = &local_stats;
  *stats = Bm25SearchStats();

  thread_local SearchScratch scratch;
  // Distinct terms with their query frequency.
  scratch.sorted_terms.assign(terms.begin(), terms.end());
  std::sort(scratch.sorted_terms.begin(), scratch.sorted_terms.end());
  scratch.terms.clear();
  for (absl::string_view term : scratch.sorted_terms) {
    if (term.empty()) continue;
    if (!scratch.terms.empty() && scratch.terms.back().text == term) {
      ++scratch.terms.back().count;
    } else {
      scratch.terms.push_back(QueryTerm{term, 1, 0});
    }
  }
  const size_t num_terms = scratch.terms.size();

  absl::ReaderMutexLock lock(&mutex_);
  const size_t num_segments = frozen_.size() + 1;  // The buffer is the last one.
  scratch.views.assign(num_segments * num_terms, PostingsView());
  auto segment_at = [this](size_t s) -> const bm25::Segment& {
    return s < frozen_.size() ? static_cast<const bm25::Segment&>(*frozen_[s].segment)
                              : *buffer_;
  };
  const Bm25CorpusStatistics* corpus = options.corpus;
  const double doc_count = corpus != nullptr ? corpus->doc_count : doc_id_limit_;
  for (size_t t = 0; t < num_terms; ++t) {
    uint64_t df = 0;
    for (size_t s = 0; s < num_segments; ++s) {
      PostingsView& view = scratch.views[s * num_terms + t];
      if (segment_at(s).Find(scratch.terms[t].text, &view)) df += view.size;
    }
    if (corpus != nullptr) {
      auto global = corpus->doc_frequencies.find(scratch.terms[t].text);
      if (global != corpus->doc_frequencies.end()) df = global->second;
    }
    const double idf = std::log(1.0 + (doc_count - df + 0.5) / (df + 0.5));
    scratch.terms[t].weight =
        static_cast<float>(scratch.terms[t].count * idf * (params.k1 + 1.0));
  }
  Scoring scoring;
  const uint64_t total_length = corpus != nullptr ? corpus->total_length : total_length_;
  const double average_length = doc_count > 0 ? total_length / doc_count : 0;
  scoring.c0 = params.k1 * (1.0f - params.b);
  scoring.c1 = average_length > 0 ? static_cast<float>(params.k1 * params.b / average_length) : 0;

  scratch.top.Reset(options.top_k);
  const DocFilter* filter = options.filter;
  auto accepts = [this, filter](uint32_t doc) {
    return !IsDeleted(doc) && (filter == nullptr || filter->Accepts(doc));
  };
  for (size_t s = 0; s < num_segments; ++s) {
    const uint32_t base = s < frozen_.size() ? frozen_[s].base : buffer_base();
    SearchSegment(segment_at(s), base, &scratch.views[s * num_terms], scratch.terms, scoring,
                  options.exhaustive, accepts, &scratch, stats);
  }

  const auto& best = scratch.top.SortedBestFirst();
  hits.reserve(best.size());
  for (size_t i = 0; i < best.size(); ++i) {
    Bm25Hit hit;
    hit.doc = best[i].second;
    hit.id = ExternalIdLocked(hit.doc);
    hit.score = best[i].first;
    hit.rank = static_cast<int>(i + 1);
    hits.push_back(std::move(hit));
  }
  return hits;
}

Bm25CorpusStatistics Bm25Index::Statistics(absl::string_view query) const {
  std::vector<std::string> terms;
  analyzer_->Analyze(query, &terms);
  Bm25CorpusStatistics statistics;
  absl::ReaderMutexLock lock(&mutex_);
  statistics.doc_count = doc_id_limit_;
  statistics.total_length = total_length_;
  for (const std::string& term : terms) {
    if (term.empty() || statistics.doc_frequencies.contains(term)) continue;
    uint64_t df = 0;
    PostingsView view;
    for (const FrozenSlot& slot : frozen_) {
      if (slot.segment->Find(term, &view)) df += view.size;
    }
    if (buffer_->Find(term, &view)) df += view.size;
    statistics.doc_frequencies[term] = df;
  }
  return statistics;
}

// ---------------------------------------------------------------------------
// Lookups

std::optional<uint32_t> Bm25Index::InternalId(absl::string_view id) const {
  absl::ReaderMutexLock lock(&mutex_);
  auto found = live_ids_.find(id);
  if (found == live_ids_.end()) return std::nullopt;
  return found->second;
}

std::string Bm25Index::ExternalId(uint32_t doc) const {
  absl::ReaderMutexLock lock(&mutex_);
  if (doc >= doc_id_limit_ || IsDeleted(doc)) return "";
  return ExternalIdLocked(doc);
}

std::string Bm25Index::ExternalIdLocked(uint32_t doc) const {
  const uint32_t buffer_start = buffer_base();
  if (doc >= buffer_start) return std::string(buffer_->external_id(doc - buffer_start));
  auto slot = std::upper_bound(frozen_.begin(), frozen_.end(), doc,
                               [](uint32_t d, const FrozenSlot& s) { return d < s.base; });
  --slot;
  return std::string(slot->segment->external_id(doc - slot->base));
}

uint32_t Bm25Index::doc_id_limit() const {
  absl::ReaderMutexLock lock(&mutex_);
  return doc_id_limit_;
}

uint32_t Bm25Index::live_doc_count() const {
  absl::ReaderMutexLock lock(&mutex_);
  return static_cast<uint32_t>(live_ids_.size());
}

size_t Bm25Index::segment_count() const {
  absl::ReaderMutexLock lock(&mutex_);
  return frozen_.size() + (buffer_->doc_count() > 0 ? 1 : 0);
}

}  // namespace tessera::retrieval

#include "retrieval/dense/hnsw_vector_index.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <queue>
#include <utility>

#include "absl/strings/str_cat.h"
#include "retrieval/dense/hnswlib_include.h"
#include "retrieval/dense/index_manifest.h"

namespace tessera::dense {
namespace {

using hnswlib::HierarchicalNSW;
using hnswlib::labeltype;
using hnswlib::linklistsizeint;
using hnswlib::tableint;

constexpr char kGraphFileName[] = "hnsw.bin";

// hnswlib distances are "lower is better": 1 - <q, v> for the inner-product
// space, squared Euclidean for L2.
float DistanceToScore(Metric metric, float distance) {
  return metric == Metric::kL2 ? -distance : 1.0f - distance;
}

// (distance, slot). Heaps compare distances only: cheaper than pair's
// lexicographic order, and ties need no order here.
using Candidate = std::pair<float, tableint>;
struct CloserFirst {
  bool operator()(const Candidate& a, const Candidate& b) const { return a.first > b.first; }
};
struct FartherFirst {
  bool operator()(const Candidate& a, const Candidate& b) const { return a.first < b.first; }
};
using FarthestFirst = std::priority_queue<Candidate, std::vector<Candidate>, FartherFirst>;
using NearestFirst = std::priority_queue<Candidate, std::vector<Candidate>, CloserFirst>;

// The fixed-size header hnswlib 0.6.2's saveIndex writes, field by field.
struct GraphFileHeader {
  size_t offset_level0;
  size_t max_elements;
  size_t element_count;
  size_t size_data_per_element;
  size_t label_offset;
  size_t offset_data;
  int max_level;
  tableint entry_point;
  size_t max_m;
  size_t max_m0;
  size_t m;
  double mult;
  size_t ef_construction;
};

// Ten size_t fields, maxlevel_ (int), enterpoint_node_ (tableint), mult_ (double).
constexpr size_t kGraphHeaderBytes =
    10 * sizeof(size_t) + sizeof(int) + sizeof(tableint) + sizeof(double);

template <typename T>
bool ReadPod(std::istream& in, T* value) {
  in.read(reinterpret_cast<char*>(value), sizeof(T));
  return static_cast<bool>(in);
}

// Checks the header and the layout of a graph file against the expected
// dimension before hnswlib's loadIndex sees it: loadIndex trusts every size
// field (allocating and reading whatever they say).
absl::Status ValidateGraphFile(const std::string& path, int dimension) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  in.seekg(0, std::ios::end);
  const std::streamoff file_size = in.tellg();
  in.seekg(0, std::ios::beg);
  auto corrupt = [&path](absl::string_view why) {
    return absl::DataLossError(absl::StrCat("corrupt HNSW graph file ", path, ": ", why));
  };
  GraphFileHeader h;
  if (!ReadPod(in, &h.offset_level0) || !ReadPod(in, &h.max_elements) ||
      !ReadPod(in, &h.element_count) || !ReadPod(in, &h.size_data_per_element) ||
      !ReadPod(in, &h.label_offset) || !ReadPod(in, &h.offset_data) ||
      !ReadPod(in, &h.max_level) || !ReadPod(in, &h.entry_point) ||
      !ReadPod(in, &h.max_m) || !ReadPod(in, &h.max_m0) || !ReadPod(in, &h.m) ||
      !ReadPod(in, &h.mult) || !ReadPod(in, &h.ef_construction)) {
    return corrupt("truncated header");
  }
  const std::streamoff header_size = in.tellg();
  if (header_size != static_cast<std::streamoff>(kGraphHeaderBytes)) {
    return corrupt("unexpected header size");
  }
  if (h.m < 2 || h.m > 1024 || h.max_m != h.m || h.max_m0 != 2 * h.m) {
    return corrupt("inconsistent degree fields");
  }
  const size_t links_level0 = h.max_m0 * sizeof(tableint) + sizeof(linklistsizeint);
  const size_t vector_bytes = static_cast<size_t>(dimension) * sizeof(float);
  if (h.offset_level0 != 0 || h.offset_data != links_level0 ||
      h.label_offset != links_level0 + vector_bytes ||
      h.size_data_per_element != h.label_offset + sizeof(labeltype)) {
    return corrupt("element layout does not match the index dimension");
  }
  if (!std::isfinite(h.mult) || h.mult <= 0 || h.ef_construction < 1 ||
      h.ef_construction > (1u << 20)) {
    return corrupt("bad construction parameters");
  }
  if (h.element_count > h.max_elements ||
      h.element_count > static_cast<size_t>(file_size) / h.size_data_per_element) {
    return corrupt("element count exceeds the file size");
  }
  if (h.element_count == 0) {
    if (file_size != header_size) return corrupt("trailing bytes");
    return absl::OkStatus();
  }
  if (h.entry_point >= h.element_count || h.max_level < 0 || h.max_level > 64) {
    return corrupt("bad entry point or level");
  }
  const size_t links_upper = h.max_m * sizeof(tableint) + sizeof(linklistsizeint);
  std::streamoff position =
      header_size + static_cast<std::streamoff>(h.element_count * h.size_data_per_element);
  for (size_t i = 0; i < h.element_count; ++i) {
    if (position + static_cast<std::streamoff>(sizeof(uint32_t)) > file_size) {
      return corrupt("truncated link lists");
    }
    in.seekg(position);
    uint32_t link_bytes = 0;
    if (!ReadPod(in, &link_bytes)) return corrupt("truncated link lists");
    if (link_bytes % links_upper != 0 ||
        link_bytes / links_upper > static_cast<size_t>(h.max_level)) {
      return corrupt("bad upper-layer link list size");
    }
    position += sizeof(uint32_t) + link_bytes;
  }
  if (position != file_size) return corrupt("file size does not match its contents");
  return absl::OkStatus();
}

}  // namespace

// Owns the hnswlib objects. The space must outlive the graph (the graph keeps
// a pointer to its dimension), hence the member order.
class HnswVectorIndex::Graph {
 public:
  static absl::StatusOr<std::unique_ptr<Graph>> CreateEmpty(
      int dimension, Metric metric, const HnswParams& params, size_t capacity) {
    auto graph = std::unique_ptr<Graph>(new Graph(dimension, metric));
    try {
      graph->hnsw = std::make_unique<HierarchicalNSW<float>>(
          graph->space.get(), capacity, params.m, params.ef_construction,
          params.random_seed);
    } catch (const std::exception& e) {
      return absl::ResourceExhaustedError(
          absl::StrCat("cannot allocate an HNSW graph of ", capacity, " slots: ", e.what()));
    }
    return graph;
  }

  // Loads a file that ValidateGraphFile accepted, then checks the graph.
  static absl::StatusOr<std::unique_ptr<Graph>> LoadFromFile(
      const std::string& path, int dimension, Metric metric, size_t element_count) {
    auto graph = std::unique_ptr<Graph>(new Graph(dimension, metric));
    try {
      // Capacity = element count, ignoring the file's own max_elements field.
      graph->hnsw = std::make_unique<HierarchicalNSW<float>>(
          graph->space.get(), path, false, std::max<size_t>(element_count, 1));
    } catch (const std::exception& e) {
      // A constructor that throws leaks what it allocated but cannot crash.
      return absl::DataLossError(absl::StrCat("hnswlib cannot load ", path, ": ", e.what()));
    }
    absl::Status status = graph->CheckLinks();
    if (!status.ok()) return status;
    size_t deleted = 0;
    for (size_t slot = 0; slot < graph->hnsw->cur_element_count; ++slot) {
      if (graph->hnsw->isMarkedDeleted(slot)) ++deleted;
    }
    // loadIndex counts onto an uninitialised num_deleted_ in hnswlib 0.6.2.
    graph->hnsw->num_deleted_ = deleted;
    graph->deleted = deleted;
    graph->published = graph->hnsw->cur_element_count;
    return graph;
  }

  // Every neighbour id and list length in range, labels unique: a graph that
  // passes cannot make a search read outside hnswlib's buffers.
  absl::Status CheckLinks() const {
    const HierarchicalNSW<float>& h = *hnsw;
    const size_t count = h.cur_element_count;
    if (h.label_lookup_.size() != count) {
      return absl::DataLossError("HNSW graph file has duplicate labels");
    }
    for (size_t slot = 0; slot < count; ++slot) {
      if (h.getExternalLabel(slot) > kMaxVectorId) {
        return absl::DataLossError("HNSW graph file has an out-of-range label");
      }
      for (int level = 0; level <= h.element_levels_[slot]; ++level) {
        linklistsizeint* list = h.get_linklist_at_level(slot, level);
        const size_t size = h.getListCount(list);
        if (size > (level == 0 ? h.maxM0_ : h.maxM_)) {
          return absl::DataLossError("HNSW graph file has an oversized link list");
        }
        const tableint* neighbors = reinterpret_cast<const tableint*>(list + 1);
        for (size_t i = 0; i < size; ++i) {
          if (neighbors[i] >= count || h.element_levels_[neighbors[i]] < level) {
            return absl::DataLossError("HNSW graph file has a dangling link");
          }
        }
      }
    }
    if (count > 0 && h.element_levels_[h.enterpoint_node_] != h.maxlevel_) {
      return absl::DataLossError("HNSW graph file has an inconsistent entry point");
    }
    return absl::OkStatus();
  }

  float Score(float distance) const { return DistanceToScore(metric, distance); }

  const Metric metric;
  std::unique_ptr<hnswlib::SpaceInterface<float>> space;
  std::unique_ptr<HierarchicalNSW<float>> hnsw;
  // Slots [0, published) are fully written. Writers are serialised, so hnswlib
  // fills slots in order and one counter suffices.
  std::atomic<size_t> published{0};
  std::atomic<size_t> deleted{0};

 private:
  Graph(int dimension, Metric metric) : metric(metric) {
    if (metric == Metric::kL2) {
      space = std::make_unique<hnswlib::L2Space>(dimension);
    } else {
      space = std::make_unique<hnswlib::InnerProductSpace>(dimension);
    }
  }
};

absl::StatusOr<std::unique_ptr<HnswVectorIndex>> HnswVectorIndex::Create(
    int dimension, Metric metric, const HnswParams& params) {
  VectorIndexConfig config;
  config.backend = "hnsw";
  config.dimension = dimension;
  config.metric = metric;
  config.hnsw = params;
  absl::Status status = ValidateConfig(config);
  if (!status.ok()) return status;
  absl::StatusOr<std::unique_ptr<Graph>> graph =
      Graph::CreateEmpty(dimension, metric, params, params.initial_capacity);
  if (!graph.ok()) return graph.status();
  return std::unique_ptr<HnswVectorIndex>(
      new HnswVectorIndex(dimension, metric, params, *std::move(graph)));
}

HnswVectorIndex::HnswVectorIndex(int dimension, Metric metric,
                                 const HnswParams& params, std::unique_ptr<Graph> graph)
    : VectorIndex(dimension, metric), params_(params), graph_(std::move(graph)) {}

HnswVectorIndex::~HnswVectorIndex() = default;

absl::Status HnswVectorIndex::AddPrepared(absl::Span<const VectorId> ids,
                                          absl::Span<const float> vectors) {
  std::lock_guard<std::mutex> writer(writer_mutex_);
  for (size_t row = 0; row < ids.size(); ++row) {
    absl::Status status = AddOne(ids[row], vectors.data() + row * dimension());
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status HnswVectorIndex::AddOne(VectorId id, const float* vector) {
  // Fast path: a new id with a free slot, concurrent with searches.
  {
    std::shared_lock<std::shared_mutex> lock(mutex_);
    HierarchicalNSW<float>& h = *graph_->hnsw;
    bool exists;
    {
      std::lock_guard<std::mutex> guard(h.cur_element_count_guard_);
      exists = h.label_lookup_.count(id) > 0;
    }
    if (!exists && h.cur_element_count < h.max_elements_) {
      try {
        h.addPoint(vector, id);
      } catch (const std::exception& e) {
        return absl::InternalError(absl::StrCat("hnswlib addPoint failed: ", e.what()));
      }
      graph_->published.store(h.cur_element_count, std::memory_order_release);
      return absl::OkStatus();
    }
  }
  // Slow path, exclusive: grow the graph, or replace an existing vector
  // (hnswlib's update path is not safe next to concurrent searches' reads of
  // its counters).
  std::unique_lock<std::shared_mutex> lock(mutex_);
  HierarchicalNSW<float>& h = *graph_->hnsw;
  auto existing = h.label_lookup_.find(id);
  try {
    if (existing != h.label_lookup_.end()) {
      if (h.isMarkedDeleted(existing->second)) --graph_->deleted;
      h.addPoint(vector, id);  // Unmarks and updates in place.
      return absl::OkStatus();
    }
    if (h.cur_element_count >= h.max_elements_) {
      h.resizeIndex(std::max<size_t>(2 * h.max_elements_, 1));
    }
    h.addPoint(vector, id);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("hnswlib add failed: ", e.what()));
  }
  graph_->published.store(h.cur_element_count, std::memory_order_release);
  return absl::OkStatus();
}

absl::Status HnswVectorIndex::MarkDeleted(VectorId id) {
  std::lock_guard<std::mutex> writer(writer_mutex_);
  std::unique_lock<std::shared_mutex> lock(mutex_);
  HierarchicalNSW<float>& h = *graph_->hnsw;
  auto it = h.label_lookup_.find(id);
  if (it == h.label_lookup_.end() || h.isMarkedDeleted(it->second)) {
    return absl::NotFoundError(absl::StrCat("id ", id, " is not in the index"));
  }
  h.markDeletedInternal(it->second);
  ++graph_->deleted;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<SearchHit>> HnswVectorIndex::SearchPrepared(
    absl::Span<const float> query, size_t k, const SearchOptions& options) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  const Graph& graph = *graph_;
  const HierarchicalNSW<float>& h = *graph.hnsw;
  const size_t published = graph.published.load(std::memory_order_acquire);
  if (published == 0) return std::vector<SearchHit>();
  const size_t ef = std::max<size_t>(
      k, options.ef_search > 0 ? options.ef_search : params_.ef_search);
  const IdFilter* filter = options.filter;
  const bool check_deleted = graph.deleted.load(std::memory_order_relaxed) > 0;
  // Hoisted out of the hot loop: the compiler cannot prove that writes to the
  // visited marks leave hnswlib's members unchanged.
  const hnswlib::DISTFUNC<float> distance_function = h.fstdistfunc_;
  const void* const distance_parameter = h.dist_func_param_;
  const char* const level0 = h.data_level0_memory_ + h.offsetData_;
  const size_t element_bytes = h.size_data_per_element_;
  auto vector_of = [level0, element_bytes](tableint slot) {
    return level0 + static_cast<size_t>(slot) * element_bytes;
  };
  auto distance = [&](tableint slot) {
    return distance_function(query.data(), vector_of(slot), distance_parameter);
  };
  auto accepts = [&h, filter, check_deleted](tableint slot) {
    if (check_deleted && h.isMarkedDeleted(slot)) return false;
    return filter == nullptr || filter->Contains(h.getExternalLabel(slot));
  };

  // Greedy descent through the upper layers. The entry point's own level is
  // used (not maxlevel_), so a concurrent insert that raises the top level
  // can never send us to a layer the node lacks.
  tableint current = h.enterpoint_node_;
  float current_distance = distance(current);
  for (int level = h.element_levels_[current]; level > 0; --level) {
    bool improved = true;
    while (improved) {
      improved = false;
      linklistsizeint* list = h.get_linklist(current, level);
      const size_t size = h.getListCount(list);
      const tableint* neighbors = reinterpret_cast<const tableint*>(list + 1);
      for (size_t i = 0; i < size; ++i) {
        const float d = distance(neighbors[i]);
        if (d < current_distance) {
          current_distance = d;
          current = neighbors[i];
          improved = true;
        }
      }
    }
  }

  // Beam search on the bottom layer. `results` keeps the ef nearest accepted
  // nodes; rejected nodes are still expanded so the walk can pass through
  // them, and it stops only once ef accepted nodes are found and no candidate
  // can improve them.
  hnswlib::VisitedList* visited = h.visited_list_pool_->getFreeVisitedList();
  hnswlib::vl_type* marks = visited->mass;
  const hnswlib::vl_type tag = visited->curV;
  NearestFirst candidates;
  FarthestFirst results;
  candidates.emplace(current_distance, current);
  marks[current] = tag;
  if (accepts(current)) results.emplace(current_distance, current);
  float bound = results.empty() ? std::numeric_limits<float>::max() : results.top().first;
  while (!candidates.empty()) {
    const Candidate nearest = candidates.top();
    if (results.size() >= ef && nearest.first > bound) break;
    candidates.pop();
    linklistsizeint* list = h.get_linklist0(nearest.second);
    const size_t size = h.getListCount(list);
    const tableint* neighbors = reinterpret_cast<const tableint*>(list + 1);
    if (size > 0) {
      __builtin_prefetch(marks + neighbors[0]);
      __builtin_prefetch(vector_of(neighbors[0]));
    }
    for (size_t i = 0; i < size; ++i) {
      if (i + 1 < size) {
        __builtin_prefetch(vector_of(neighbors[i + 1]));
        __builtin_prefetch(marks + neighbors[i + 1]);
      }
      const tableint neighbor = neighbors[i];
      if (marks[neighbor] == tag) continue;
      marks[neighbor] = tag;
      const float d = distance(neighbor);
      if (results.size() < ef || d < bound) {
        candidates.emplace(d, neighbor);
        // The best candidate is expanded next: fetch its link list early.
        __builtin_prefetch(h.get_linklist0(candidates.top().second));
        if (accepts(neighbor)) {
          results.emplace(d, neighbor);
          if (results.size() > ef) results.pop();
          bound = results.top().first;
        }
      }
    }
  }
  h.visited_list_pool_->releaseVisitedList(visited);

  std::vector<SearchHit> hits;
  hits.reserve(results.size());
  for (; !results.empty(); results.pop()) {
    hits.push_back({h.getExternalLabel(results.top().second), graph.Score(results.top().first)});
  }
  SortAndTruncateHits(k, &hits);

  const size_t live = published - std::min(published, graph.deleted.load());
  const bool may_be_short = filter != nullptr ? hits.size() < k : hits.size() < std::min(k, live);
  if (!may_be_short) return hits;
  // Exact scan of the accepted, fully written slots.
  FarthestFirst exact;
  for (tableint slot = 0; slot < published; ++slot) {
    if (!accepts(slot)) continue;
    const float d = distance(slot);
    if (exact.size() < k) {
      exact.emplace(d, slot);
    } else if (d < exact.top().first) {
      exact.pop();
      exact.emplace(d, slot);
    }
  }
  hits.clear();
  for (; !exact.empty(); exact.pop()) {
    hits.push_back({h.getExternalLabel(exact.top().second), graph.Score(exact.top().first)});
  }
  SortAndTruncateHits(k, &hits);
  return hits;
}

absl::Status HnswVectorIndex::Rebuild() {
  std::lock_guard<std::mutex> writer(writer_mutex_);
  std::unique_ptr<Graph> rebuilt;
  {
    // Writers are excluded, so the graph is stable; searches go on meanwhile.
    std::shared_lock<std::shared_mutex> lock(mutex_);
    const HierarchicalNSW<float>& old = *graph_->hnsw;
    const size_t count = graph_->published.load();
    const size_t live = count - graph_->deleted.load();
    absl::StatusOr<std::unique_ptr<Graph>> created = Graph::CreateEmpty(
        dimension(), metric(), params_, std::max(live, params_.initial_capacity));
    if (!created.ok()) return created.status();
    rebuilt = *std::move(created);
    try {
      for (tableint slot = 0; slot < count; ++slot) {
        if (old.isMarkedDeleted(slot)) continue;
        rebuilt->hnsw->addPoint(old.getDataByInternalId(slot), old.getExternalLabel(slot));
      }
    } catch (const std::exception& e) {
      return absl::InternalError(absl::StrCat("HNSW rebuild failed: ", e.what()));
    }
    rebuilt->published = rebuilt->hnsw->cur_element_count;
  }
  std::unique_lock<std::shared_mutex> lock(mutex_);
  graph_ = std::move(rebuilt);
  return absl::OkStatus();
}

absl::Status HnswVectorIndex::Save(const std::string& dir) const {
  // Writers are excluded (the file must be one consistent snapshot); searches
  // continue.
  std::lock_guard<std::mutex> writer(writer_mutex_);
  std::shared_lock<std::shared_mutex> lock(mutex_);
  absl::Status status = EnsureDirectory(dir);
  if (!status.ok()) return status;
  HierarchicalNSW<float>& h = *graph_->hnsw;
  const std::string path = (std::filesystem::path(dir) / kGraphFileName).string();
  const std::string temporary = path + ".tmp";
  try {
    h.saveIndex(temporary);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("hnswlib saveIndex failed: ", e.what()));
  }
  // saveIndex does not report write errors; a file of the wrong size shows them.
  size_t expected = kGraphHeaderBytes + h.cur_element_count * h.size_data_per_element_;
  for (size_t slot = 0; slot < h.cur_element_count; ++slot) {
    expected += sizeof(uint32_t) +
                (h.element_levels_[slot] > 0 ? h.size_links_per_element_ * h.element_levels_[slot] : 0);
  }
  std::error_code error;
  const uintmax_t written = std::filesystem::file_size(temporary, error);
  if (error || written != expected) {
    return absl::InternalError(absl::StrCat("writing ", temporary, " failed (",
                                            error ? error.message() : "short write", ")"));
  }
  std::filesystem::rename(temporary, path, error);
  if (error) {
    return absl::InternalError(absl::StrCat("cannot rename ", temporary, ": ", error.message()));
  }
  IndexManifest manifest;
  manifest.backend = std::string(backend());
  manifest.dimension = dimension();
  manifest.metric = metric();
  manifest.values = {{"count", static_cast<int64_t>(h.cur_element_count)},
                     {"deleted", static_cast<int64_t>(graph_->deleted.load())},
                     {"hnsw.m", params_.m},
                     {"hnsw.ef_construction", params_.ef_construction},
                     {"hnsw.ef_search", params_.ef_search}};
  manifest.files = {kGraphFileName};
  return WriteManifest(dir, manifest);
}

absl::Status HnswVectorIndex::Load(const std::string& dir) {
  absl::StatusOr<IndexManifest> manifest = ReadManifest(dir);
  if (!manifest.ok()) return manifest.status();
  absl::Status status = CheckManifestMatches(*manifest, backend(), dimension(), metric());
  if (!status.ok()) return status;
  if (manifest->files != std::vector<std::string>{kGraphFileName}) {
    return absl::DataLossError("HNSW manifest must list exactly hnsw.bin");
  }
  absl::StatusOr<int64_t> count =
      GetManifestValue(*manifest, "count", 0, std::numeric_limits<uint32_t>::max());
  absl::StatusOr<int64_t> m = GetManifestValue(*manifest, "hnsw.m", 2, 1024);
  absl::StatusOr<int64_t> ef_construction =
      GetManifestValue(*manifest, "hnsw.ef_construction", 1, 1 << 20);
  absl::StatusOr<int64_t> ef_search = GetManifestValue(*manifest, "hnsw.ef_search", 1, 1 << 20);
  for (const auto* value : {&count, &m, &ef_construction, &ef_search}) {
    if (!value->ok()) return value->status();
  }
  const std::string path = (std::filesystem::path(dir) / kGraphFileName).string();
  status = ValidateGraphFile(path, dimension());
  if (!status.ok()) return status;
  absl::StatusOr<std::unique_ptr<Graph>> loaded =
      Graph::LoadFromFile(path, dimension(), metric(), static_cast<size_t>(*count));
  if (!loaded.ok()) return loaded.status();
  if ((*loaded)->hnsw->cur_element_count != static_cast<size_t>(*count) ||
      static_cast<int64_t>((*loaded)->hnsw->M_) != *m) {
    return absl::DataLossError("HNSW graph file does not match its manifest");
  }
  std::lock_guard<std::mutex> writer(writer_mutex_);
  std::unique_lock<std::shared_mutex> lock(mutex_);
  graph_ = *std::move(loaded);
  params_.m = static_cast<int>(*m);
  params_.ef_construction = static_cast<int>(*ef_construction);
  params_.ef_search = static_cast<int>(*ef_search);
  return absl::OkStatus();
}

size_t HnswVectorIndex::size() const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  return graph_->published.load() - graph_->deleted.load();
}

size_t HnswVectorIndex::deleted_count() const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  return graph_->deleted.load();
}

size_t HnswVectorIndex::capacity() const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  return graph_->hnsw->max_elements_;
}

}  // namespace tessera::dense

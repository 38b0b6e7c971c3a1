// The on-disk envelope shared by all dense index backends: a directory with
// MANIFEST.json (backend, dimension, metric, integer parameters, and the size
// and SHA-256 of every data file) next to the backend's own files. Checking
// sizes and checksums before handing a file to hnswlib or FAISS turns
// truncation and corruption into a Status instead of undefined behaviour in a
// library loader.
#ifndef TESSERA_RETRIEVAL_DENSE_INDEX_MANIFEST_H_
#define TESSERA_RETRIEVAL_DENSE_INDEX_MANIFEST_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "retrieval/dense/vector_index.h"

namespace tessera::dense {

inline constexpr char kManifestFileName[] = "MANIFEST.json";

struct IndexManifest {
  std::string backend;
  int dimension = 0;
  Metric metric = Metric::kCosine;
  // Backend parameters and counters (e.g. "hnsw.m", "count").
  std::map<std::string, int64_t> values;
  // Data files, as names relative to the index directory.
  std::vector<std::string> files;
};

// Creates `dir` (and parents) if missing.
absl::Status EnsureDirectory(const std::string& dir);

// Checksums every file in manifest.files (which must already be written into
// `dir`) and then atomically replaces <dir>/MANIFEST.json.
absl::Status WriteManifest(const std::string& dir, const IndexManifest& manifest);

// Parses <dir>/MANIFEST.json and verifies every listed file's size and
// SHA-256. NotFound when there is no manifest, DataLoss on any mismatch.
absl::StatusOr<IndexManifest> ReadManifest(const std::string& dir);

// FailedPrecondition unless the manifest describes `backend` with this
// dimension and metric.
absl::Status CheckManifestMatches(const IndexManifest& manifest,
                                  absl::string_view backend, int dimension,
                                  Metric metric);

// The value under `key`, DataLoss if missing or outside [min, max].
absl::StatusOr<int64_t> GetManifestValue(const IndexManifest& manifest,
                                         const std::string& key, int64_t min,
                                         int64_t max);

// Writes `contents` to `path` through a temporary file and rename.
absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view contents);
absl::StatusOr<std::string> ReadFileToString(const std::string& path);

}  // namespace tessera::dense

#endif  // TESSERA_RETRIEVAL_DENSE_INDEX_MANIFEST_H_

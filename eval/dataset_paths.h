// Confines the dataset files that job specs name (dataset.jsonl_path,
// dataset.qrels_path) to the server's dataset roots, so a caller over gRPC can
// only make the server read files that were put there for evaluation.
#ifndef TESSERA_EVAL_DATASET_PATHS_H_
#define TESSERA_EVAL_DATASET_PATHS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tessera/eval/v1/eval.pb.h"

namespace tessera::eval {

// The real path of `path` when it lies inside one of `roots` once symlinks are
// resolved. A relative path is taken inside the first root. `field` names the
// spec field in errors:
//  - InvalidArgument: a ".." component, or an empty root list entry;
//  - NotFound: the file does not exist;
//  - PermissionDenied: no roots are configured, or the file (or a symlink on
//    the way) leads outside every root.
absl::StatusOr<std::string> ConfineDatasetPath(const std::string& path,
                                               const std::vector<std::string>& roots,
                                               absl::string_view field);

// Rewrites the dataset's jsonl_path and qrels_path (when set) to their
// confined real paths.
absl::Status ConfineDatasetPaths(const std::vector<std::string>& roots, v1::Dataset* dataset);

}  // namespace tessera::eval

#endif  // TESSERA_EVAL_DATASET_PATHS_H_

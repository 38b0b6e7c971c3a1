#include "eval/dataset_paths.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace tessera::eval {
namespace {

namespace fs = std::filesystem;

bool Inside(const fs::path& path, const fs::path& root) {
  auto p = path.begin();
  for (auto r = root.begin(); r != root.end(); ++r, ++p) {
    if (r->empty()) continue;  // a trailing separator
    if (p == path.end() || *p != *r) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::string> ConfineDatasetPath(const std::string& path, const std::vector<std::string>& roots,
                                               absl::string_view field) {
  if (roots.empty()) {
    return absl::PermissionDeniedError(absl::StrCat(
        field, ": this server reads no dataset files (no eval_dataset_roots configured); "
               "send the cases inline or a stored dataset_id"));
  }
  const fs::path given(path);
  for (const fs::path& part : given) {
    if (part == "..") {
      return absl::InvalidArgumentError(absl::StrCat(field, ": \"..\" is not allowed in dataset paths"));
    }
  }
  const fs::path wanted = given.is_absolute() ? given : fs::path(roots.front()) / given;
  std::error_code error;
  const fs::path real = fs::canonical(wanted, error);  // every symlink resolved
  if (error) {
    return absl::NotFoundError(absl::StrCat(field, ": cannot open dataset file ", path, " (", error.message(), ")"));
  }
  for (const std::string& root : roots) {
    if (root.empty()) return absl::InvalidArgumentError("eval_dataset_roots: an empty entry");
    const fs::path real_root = fs::canonical(root, error);
    if (error) continue;  // a root that does not exist (yet) holds nothing
    if (Inside(real, real_root)) {
      if (!fs::is_regular_file(real, error)) {
        return absl::InvalidArgumentError(absl::StrCat(field, ": ", path, " is not a regular file"));
      }
      return real.string();
    }
  }
  return absl::PermissionDeniedError(
      absl::StrCat(field, ": ", path, " is outside the server's dataset roots"));
}

absl::Status ConfineDatasetPaths(const std::vector<std::string>& roots, v1::Dataset* dataset) {
  if (!dataset->jsonl_path().empty()) {
    auto confined = ConfineDatasetPath(dataset->jsonl_path(), roots, "dataset.jsonl_path");
    if (!confined.ok()) return confined.status();
    dataset->set_jsonl_path(*confined);
  }
  if (!dataset->qrels_path().empty()) {
    auto confined = ConfineDatasetPath(dataset->qrels_path(), roots, "dataset.qrels_path");
    if (!confined.ok()) return confined.status();
    dataset->set_qrels_path(*confined);
  }
  return absl::OkStatus();
}

}  // namespace tessera::eval

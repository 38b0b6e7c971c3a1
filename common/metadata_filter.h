// Metadata filters (tessera.common.v1.Filter), validated once and evaluated many
// times: by retrieval inside index traversal, and by ingest's ListDocuments.
//
// Semantics:
//  - int and double values compare numerically with each other; strings compare
//    byte-wise (UTF-8 order); timestamps by time; bools support EQ/NE only.
//  - A string-list field matches EQ/IN when any element matches, CONTAINS when
//    it holds the value.
//  - A missing field fails every condition except NE and NOT_IN, which it passes
//    (it is not equal to anything); EXISTS tests presence.
#ifndef TESSERA_COMMON_METADATA_FILTER_H_
#define TESSERA_COMMON_METADATA_FILTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tessera/common/v1/common.pb.h"

namespace tessera {

// Returns the value of a metadata field, or nullptr when absent.
using MetadataLookup = absl::FunctionRef<const common::v1::MetadataValue*(absl::string_view)>;

class MetadataFilter {
 public:
  // Limits that keep hostile filters cheap.
  static constexpr int kMaxDepth = 32;
  static constexpr int kMaxConditions = 1024;

  // INVALID_ARGUMENT naming the offending condition when the filter is malformed
  // (no field, unknown op, missing or mistyped value, too deep or too large).
  // An empty Filter (no kind set) matches everything.
  static absl::StatusOr<MetadataFilter> Compile(const common::v1::Filter& filter);

  bool Matches(MetadataLookup lookup) const;
  bool Matches(
      const google::protobuf::Map<std::string, common::v1::MetadataValue>& metadata) const;

  // True when the filter accepts every document (no conditions).
  bool MatchesAll() const { return root_ == nullptr; }
  // The fields the filter reads (for indexes that keep only those columns).
  const std::vector<std::string>& fields() const { return fields_; }

  struct Node;

 private:
  std::shared_ptr<const Node> root_;
  std::vector<std::string> fields_;
};

}  // namespace tessera

#endif  // TESSERA_COMMON_METADATA_FILTER_H_

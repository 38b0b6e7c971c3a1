#include "ingest/index_feed.h"

#include <algorithm>
#include <limits>

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"

namespace tessera::ingest {
namespace {

constexpr int kBatch = 512;

}  // namespace

IndexFeed::~IndexFeed() { Stop(); }

void IndexFeed::Register(Indexer* indexer) { indexers_.push_back(indexer); }

absl::Status IndexFeed::CatchUpIndexer(Indexer* indexer) {
  auto position = store_->GetIndexerPosition(indexer->name());
  if (!position.ok()) return position.status();
  int64_t applied = *position;
  while (true) {
    auto entries = store_->ReadLog(applied, kBatch);
    if (!entries.ok()) return entries.status();
    if (entries->empty()) break;
    for (const LogEntry& entry : *entries) {
      IndexUpdate update;
      update.entry = entry;
      if (entry.op == LogEntry::Op::kPut) {
        auto document = store_->GetDocument(entry.tenant, entry.collection, entry.document_id);
        // A later entry replaced or deleted this version: that entry will apply.
        bool current = document.ok() && document->version() == entry.version;
        if (!document.ok() && document.status().code() != absl::StatusCode::kNotFound) {
          return document.status();
        }
        if (current) {
          auto chunks = store_->GetChunks(entry.tenant, entry.collection, entry.document_id);
          if (!chunks.ok()) return chunks.status();
          update.document = std::move(*document);
          update.chunks = std::move(*chunks);
        } else {
          continue;
        }
      }
      absl::Status status = indexer->Apply(update);
      if (!status.ok()) {
        return absl::Status(status.code(), indexer->name() + " failed at log position " +
                                               std::to_string(entry.position) + ": " +
                                               std::string(status.message()));
      }
    }
    applied = entries->back().position;
    absl::Status status = indexer->Flush();
    if (!status.ok()) return status;
    status = store_->SetIndexerPosition(indexer->name(), applied);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status IndexFeed::CatchUp() {
  absl::MutexLock run(&run_mu_);
  return CatchUpLocked();
}

absl::Status IndexFeed::Rebuild(const std::function<void()>& reset) {
  absl::MutexLock run(&run_mu_);
  reset();
  for (Indexer* indexer : indexers_) {
    absl::Status status = store_->SetIndexerPosition(indexer->name(), 0);
    if (!status.ok()) return status;
  }
  {
    absl::MutexLock lock(&mu_);
    applied_ = 0;
  }
  return CatchUpLocked();
}

absl::Status IndexFeed::CatchUpLocked() {
  int64_t minimum = std::numeric_limits<int64_t>::max();
  for (Indexer* indexer : indexers_) {
    absl::Status status = CatchUpIndexer(indexer);
    if (!status.ok()) return status;
    auto position = store_->GetIndexerPosition(indexer->name());
    if (!position.ok()) return position.status();
    minimum = std::min(minimum, *position);
  }
  if (indexers_.empty()) {
    auto head = store_->LogHead();
    if (!head.ok()) return head.status();
    minimum = *head;
  }
  absl::MutexLock lock(&mu_);
  applied_ = minimum;
  return absl::OkStatus();
}

void IndexFeed::Start(absl::Duration poll_interval) {
  thread_ = std::thread([this, poll_interval] {
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return notified_ || stopping_; };
        mu_.AwaitWithTimeout(absl::Condition(&ready), poll_interval);
        if (stopping_) return;
        notified_ = false;
      }
      absl::Status status = CatchUp();
      if (!status.ok()) spdlog::error("index feed: {}", status.ToString());
    }
  });
}

void IndexFeed::Notify() {
  absl::MutexLock lock(&mu_);
  notified_ = true;
}

void IndexFeed::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

absl::Status IndexFeed::WaitUntilCurrent(absl::Duration timeout) {
  auto head = store_->LogHead();
  if (!head.ok()) return head.status();
  Notify();
  if (!WaitForPosition(*head, timeout)) {
    return absl::UnavailableError(absl::StrCat(
        "the search indexes are still catching up with the ingest log (position ", *head,
        "); retry shortly"));
  }
  return absl::OkStatus();
}

bool IndexFeed::WaitForPosition(int64_t position, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto reached = [this, position]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return applied_ >= position;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
}

}  // namespace tessera::ingest

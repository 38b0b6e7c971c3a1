// Hands committed changes of the document store to indexers (BM25, vectors, ...).
//
// The store's ingest log is the queue: every put and delete is logged in the
// transaction that commits it. The feed reads the log from each indexer's saved
// position, applies the entries, flushes the indexer and only then saves the new
// position, so an indexer that was down (or crashed mid-way) catches up on restart
// and never misses a change. Entries may be applied twice after a crash: indexers
// must treat Apply as idempotent (replace a document's chunks, ignore a repeated
// delete).
#ifndef TESSERA_INGEST_INDEX_FEED_H_
#define TESSERA_INGEST_INDEX_FEED_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ingest/document_store.h"

namespace tessera::ingest {

// One change to apply.
struct IndexUpdate {
  LogEntry entry;
  // For kPut: the document (with text) at entry.version and its chunks.
  // Empty for deletes.
  std::optional<Document> document;
  std::vector<Chunk> chunks;
};

class Indexer {
 public:
  virtual ~Indexer() = default;
  // A stable name; the feed saves this indexer's log position under it.
  virtual std::string name() const = 0;
  // Applies one change. A put replaces every chunk the document had before.
  virtual absl::Status Apply(const IndexUpdate& update) = 0;
  // Makes the changes applied so far durable; called before the position is saved.
  virtual absl::Status Flush() { return absl::OkStatus(); }
};

class IndexFeed {
 public:
  // `store` must outlive the feed.
  explicit IndexFeed(DocumentStore* store) : store_(store) {}
  ~IndexFeed();

  // Adds an indexer (not owned; it must outlive the feed). Call before Start().
  void Register(Indexer* indexer);

  // Applies every pending log entry to every indexer, now, on this thread.
  absl::Status CatchUp();

  // For indexers whose state was lost or is derived in memory: runs `reset`
  // (which must empty them), rewinds every indexer to the start of the log and
  // applies it all again. No other catch-up runs meanwhile.
  absl::Status Rebuild(const std::function<void()>& reset);

  // Starts a background thread that catches up whenever Notify() is called, and
  // at least every `poll_interval` (changes made by other processes).
  void Start(absl::Duration poll_interval = absl::Seconds(1));
  // Wakes the background thread (call after a commit).
  void Notify();
  // Stops the background thread after its current batch.
  void Stop();

  // Waits until every indexer has applied the log up to `position`, or `timeout`.
  bool WaitForPosition(int64_t position, absl::Duration timeout);

  // Read-your-writes for searches: wakes the feed and waits until every write
  // acknowledged so far is applied. UNAVAILABLE after `timeout`.
  absl::Status WaitUntilCurrent(absl::Duration timeout);

 private:
  absl::Status CatchUpIndexer(Indexer* indexer);
  absl::Status CatchUpLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(run_mu_);

  DocumentStore* store_;
  std::vector<Indexer*> indexers_;
  absl::Mutex run_mu_;  // one catch-up at a time
  absl::Mutex mu_;
  bool notified_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t applied_ ABSL_GUARDED_BY(mu_) = 0;  // minimum over indexers
  std::thread thread_;
};

}  // namespace tessera::ingest

#endif  // TESSERA_INGEST_INDEX_FEED_H_

#include "retrieval/sharding/shard_set.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/tenant.h"

namespace tessera::retrieval::sharding {
namespace {

// Requests whose hints are replayed: the IngestService methods that write.
template <typename Request, typename Response>
grpc::Status Forward(grpc::Status (ingest::v1::IngestService::Stub::*method)(grpc::ClientContext*,
                                                                             const Request&,
                                                                             Response*),
                     ingest::v1::IngestService::Stub* stub, grpc::ClientContext* context,
                     const std::string& bytes, std::string* response_bytes) {
  Request request;
  if (!request.ParseFromString(bytes)) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "forwarded request does not parse");
  }
  Response response;
  grpc::Status status = (stub->*method)(context, request, &response);
  if (status.ok() && response_bytes != nullptr) response.SerializeToString(response_bytes);
  return status;
}

}  // namespace

CallScope ScopeOf(const grpc::ServerContext& context, absl::Duration timeout) {
  CallScope scope;
  scope.tenant = TenantOf(context);
  if (context.deadline() != std::chrono::system_clock::time_point::max()) {
    scope.deadline = absl::FromChrono(context.deadline());
  }
  if (timeout != absl::InfiniteDuration()) {
    scope.deadline = std::min(scope.deadline, absl::Now() + timeout);
  }
  return scope;
}

bool IsTransient(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE ||
         status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
}

void ParallelFor(size_t n, const std::function<void(size_t)>& fn) {
  std::vector<std::thread> threads;
  threads.reserve(n > 0 ? n - 1 : 0);
  for (size_t i = 1; i < n; ++i) threads.emplace_back(fn, i);
  if (n > 0) fn(0);
  for (std::thread& thread : threads) thread.join();
}

grpc::Status SendWrite(ShardSet::Replica& replica, grpc::ClientContext* context,
                       const std::string& method, const std::string& request,
                       std::string* response) {
  using Stub = ingest::v1::IngestService::Stub;
  Stub* stub = replica.ingest.get();
  if (method == "PutDocument") {
    return Forward(&Stub::PutDocument, stub, context, request, response);
  }
  if (method == "BatchPutDocuments") {
    return Forward(&Stub::BatchPutDocuments, stub, context, request, response);
  }
  if (method == "DeleteDocument") {
    return Forward(&Stub::DeleteDocument, stub, context, request, response);
  }
  if (method == "CreateCollection") {
    return Forward(&Stub::CreateCollection, stub, context, request, response);
  }
  if (method == "DeleteCollection") {
    return Forward(&Stub::DeleteCollection, stub, context, request, response);
  }
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                      absl::StrCat("not a forwarded write: ", method));
}

absl::StatusOr<std::vector<ShardSpec>> ParseShardSpecs(const std::vector<std::string>& entries) {
  std::vector<ShardSpec> specs;
  std::set<std::string> names;
  for (size_t i = 0; i < entries.size(); ++i) {
    absl::string_view entry = absl::StripAsciiWhitespace(entries[i]);
    ShardSpec spec;
    const size_t equals = entry.find('=');
    if (equals != absl::string_view::npos) {
      spec.name = std::string(absl::StripAsciiWhitespace(entry.substr(0, equals)));
      entry = entry.substr(equals + 1);
    } else {
      spec.name = absl::StrCat("shard-", i);
    }
    for (absl::string_view address : absl::StrSplit(entry, '|')) {
      address = absl::StripAsciiWhitespace(address);
      if (address.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("retrieval shard \"", entries[i], "\" has an empty address"));
      }
      spec.replicas.emplace_back(address);
    }
    if (spec.name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("retrieval shard \"", entries[i], "\" has an empty name"));
    }
    if (!names.insert(spec.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("retrieval shard name ", spec.name, " is used twice"));
    }
    specs.push_back(std::move(spec));
  }
  return specs;
}

absl::StatusOr<std::unique_ptr<ShardSet>> ShardSet::Create(std::vector<ShardSpec> specs,
                                                           ShardSetOptions options) {
  if (specs.empty()) return absl::InvalidArgumentError("no retrieval shards given");
  if (options.hint_path.empty()) return absl::InvalidArgumentError("hint_path is required");
  auto set = std::unique_ptr<ShardSet>(new ShardSet(std::move(options)));
  auto hints = HintLog::Open(set->options_.hint_path);
  if (!hints.ok()) return hints.status();
  set->hints_ = std::move(*hints);

  grpc::ChannelArguments arguments;
  arguments.SetMaxSendMessageSize(static_cast<int>(set->options_.max_message_bytes));
  arguments.SetMaxReceiveMessageSize(static_cast<int>(set->options_.max_message_bytes));
  // A restarted shard must be noticed within about a second, not after gRPC's
  // default backoff of up to two minutes.
  arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  arguments.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  const std::shared_ptr<grpc::ChannelCredentials> credentials =
      set->options_.credentials != nullptr ? set->options_.credentials
                                           : grpc::InsecureChannelCredentials();
  for (ShardSpec& spec : specs) {
    if (spec.replicas.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("shard ", spec.name, " has no replica"));
    }
    absl::Status added = set->ring_.AddShard(spec.name);
    if (!added.ok()) return added;
    auto shard = std::make_unique<Shard>();
    shard->name = spec.name;
    for (const std::string& address : spec.replicas) {
      auto replica = std::make_unique<Replica>();
      replica->address = address;
      replica->channel =
          grpc::CreateCustomChannel(address, credentials, arguments);
      replica->ingest = ingest::v1::IngestService::NewStub(replica->channel);
      replica->retrieval = retrieval::v1::RetrievalService::NewStub(replica->channel);
      shard->replicas.push_back(std::move(replica));
    }
    set->shards_.push_back(std::move(shard));
  }
  ShardSet* self = set.get();
  set->replayer_ = std::thread([self] {
    while (!self->stop_.WaitForNotificationWithTimeout(self->options_.replay_interval)) {
      self->ReplayOnce();
    }
  });
  return set;
}

ShardSet::~ShardSet() {
  stop_.Notify();
  if (replayer_.joinable()) replayer_.join();
}

void PrepareContext(grpc::ClientContext* context, const CallScope& scope) {
  if (!scope.tenant.empty()) context->AddMetadata(kTenantHeader, scope.tenant);
  if (scope.deadline != absl::InfiniteFuture()) {
    context->set_deadline(absl::ToChronoTime(scope.deadline));
  }
}

grpc::Status ShardSet::Read(
    size_t shard, const CallScope& scope,
    const std::function<grpc::Status(Replica&, grpc::ClientContext*)>& call) const {
  const Shard& target = *shards_[shard];
  // Caught-up replicas first, in configured order; replicas with hints last.
  std::vector<Replica*> order;
  for (const auto& replica : target.replicas) {
    if (hints_->Pending(replica->address) == 0) order.push_back(replica.get());
  }
  for (const auto& replica : target.replicas) {
    if (hints_->Pending(replica->address) != 0) order.push_back(replica.get());
  }
  grpc::Status status(grpc::StatusCode::UNAVAILABLE, "no replica tried");
  for (Replica* replica : order) {
    grpc::ClientContext context;
    PrepareContext(&context, scope);
    status = call(*replica, &context);
    if (status.ok() || !IsTransient(status) || absl::Now() >= scope.deadline) break;
  }
  return status;
}

std::vector<grpc::Status> ShardSet::ReadAll(
    const CallScope& scope,
    const std::function<grpc::Status(size_t, Replica&, grpc::ClientContext*)>& call) const {
  std::vector<grpc::Status> statuses(shards_.size());
  ParallelFor(shards_.size(), [&](size_t shard) {
    statuses[shard] = Read(shard, scope, [&](Replica& replica, grpc::ClientContext* context) {
      return call(shard, replica, context);
    });
  });
  return statuses;
}

grpc::Status EveryShardAnswered(const ShardSet& shards, const std::vector<grpc::Status>& statuses) {
  size_t not_found = 0;
  for (size_t i = 0; i < statuses.size(); ++i) {
    if (statuses[i].error_code() == grpc::StatusCode::NOT_FOUND) {
      ++not_found;
    } else if (!statuses[i].ok()) {
      return grpc::Status(
          statuses[i].error_code(),
          absl::StrCat("shard ", shards.shard(i).name, ": ", statuses[i].error_message()));
    }
  }
  if (!statuses.empty() && not_found == statuses.size()) return statuses[0];
  return grpc::Status::OK;
}

WriteOutcome ShardSet::Write(size_t shard, const CallScope& scope, const std::string& method,
                             const std::string& request) {
  WriteOutcome outcome;
  CallScope write_scope = scope;
  write_scope.deadline = std::min(scope.deadline, absl::Now() + options_.write_timeout);
  grpc::Status rejected;
  for (const auto& replica : shards_[shard]->replicas) {
    absl::ReaderMutexLock order(&replica->order);
    bool hand_off = options_.hand_off && hints_->Pending(replica->address) > 0;
    if (!hand_off) {
      grpc::ClientContext context;
      PrepareContext(&context, write_scope);
      std::string response;
      grpc::Status status = SendWrite(*replica, &context, method, request, &response);
      if (status.ok()) {
        if (!outcome.applied) outcome.response = std::move(response);
        outcome.applied = true;
        continue;
      }
      if (!IsTransient(status) || !options_.hand_off) {
        if (rejected.ok()) rejected = status;
        continue;
      }
      spdlog::warn("shard {} replica {} did not take {} ({}); handing it off", shards_[shard]->name,
                   replica->address, method, status.error_message());
      hand_off = true;
    }
    absl::Status stored = hints_->Append(replica->address, scope.tenant, method, request);
    if (!stored.ok()) {
      outcome.status = grpc::Status(
          grpc::StatusCode::UNAVAILABLE,
          absl::StrCat("shard ", shards_[shard]->name, " replica ", replica->address,
                       " is down and its write could not be kept: ", stored.message()));
      return outcome;
    }
    outcome.handed_off = true;
  }
  // Without handoff every replica must have taken the write.
  if (!rejected.ok() && (!outcome.applied || !options_.hand_off)) outcome.status = rejected;
  return outcome;
}

bool ShardSet::Behind(size_t shard) const {
  for (const auto& replica : shards_[shard]->replicas) {
    if (hints_->Pending(replica->address) == 0) return false;
  }
  return true;
}

int64_t ShardSet::PendingHints() const {
  int64_t total = 0;
  for (const std::string& replica : hints_->ReplicasWithHints()) total += hints_->Pending(replica);
  return total;
}

void ShardSet::ReplayOnce() {
  for (const auto& shard : shards_) {
    for (const auto& replica : shard->replicas) {
      if (hints_->Pending(replica->address) == 0) continue;
      // Wait for the replica's connection without holding up writers.
      if (!replica->channel->WaitForConnected(
              absl::ToChronoTime(absl::Now() + absl::Milliseconds(100)))) {
        continue;
      }
      absl::MutexLock order(&replica->order);
      int64_t replayed = 0;
      bool blocked = false;
      while (!blocked && !stop_.HasBeenNotified()) {
        auto hints = hints_->Oldest(replica->address, 64);
        if (!hints.ok()) {
          spdlog::error("hint log: {}", hints.status().ToString());
          return;
        }
        if (hints->empty()) break;
        for (const Hint& hint : *hints) {
          grpc::ClientContext context;
          PrepareContext(&context, {hint.tenant, absl::Now() + absl::Seconds(30)});
          grpc::Status status = SendWrite(*replica, &context, hint.method, hint.request, nullptr);
          if (IsTransient(status)) {
            blocked = true;
            break;
          }
          if (!status.ok()) {
            // Invalid on the replica now (e.g. the collection was deleted since):
            // replaying it again would fail the same way.
            spdlog::warn("shard {} replica {} rejected a handed-off {}: {}", shard->name,
                         replica->address, hint.method, status.error_message());
          }
          absl::Status removed = hints_->Remove(hint);
          if (!removed.ok()) {
            spdlog::error("hint log: {}", removed.ToString());
            return;
          }
          ++replayed;
        }
      }
      if (replayed > 0) {
        spdlog::info("shard {} replica {}: replayed {} handed-off writes, {} left", shard->name,
                     replica->address, replayed, hints_->Pending(replica->address));
      }
    }
  }
}

}  // namespace tessera::retrieval::sharding

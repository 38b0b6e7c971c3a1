#include "gateway/testing/raw_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace tessera::gateway::testing {

RawHttpServer::~RawHttpServer() { Stop(); }

absl::Status RawHttpServer::Start() {
  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  if (listen_fd_ < 0) return absl::InternalError("socket() failed");
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      listen(listen_fd_, 16) != 0) {
    return absl::InternalError(absl::StrCat("bind/listen failed: ", std::strerror(errno)));
  }
  socklen_t length = sizeof(address);
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
  return absl::OkStatus();
}

void RawHttpServer::Stop() {
  if (stopping_.exchange(true)) return;
  if (listen_fd_ >= 0) shutdown(listen_fd_, SHUT_RDWR);
  if (acceptor_.joinable()) acceptor_.join();
  if (listen_fd_ >= 0) close(listen_fd_);
  std::vector<std::thread> workers;
  {
    absl::MutexLock lock(&mu_);
    for (int fd : open_fds_) shutdown(fd, SHUT_RDWR);
    workers.swap(workers_);
  }
  for (auto& worker : workers) worker.join();
}

void RawHttpServer::AcceptLoop() {
  while (!stopping_.load()) {
    int fd = accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) {
      if (stopping_.load()) return;
      continue;
    }
    connections_.fetch_add(1);
    absl::MutexLock lock(&mu_);
    open_fds_.push_back(fd);
    workers_.emplace_back([this, fd] { Serve(fd); });
  }
}

void RawHttpServer::Serve(int fd) {
  std::string buffer;
  char chunk[4096];
  auto read_more = [&]() -> bool {
    ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<size_t>(n));
    return true;
  };
  while (true) {
    size_t header_end;
    while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (!read_more()) goto done;
    }
    {
      RawRequest request;
      std::vector<std::string> lines =
          absl::StrSplit(buffer.substr(0, header_end), "\r\n");
      std::vector<std::string> first = absl::StrSplit(lines[0], ' ');
      if (first.size() >= 2) {
        request.method = first[0];
        request.target = first[1];
      }
      for (size_t i = 1; i < lines.size(); ++i) {
        size_t colon = lines[i].find(':');
        if (colon == std::string::npos) continue;
        request.headers[absl::AsciiStrToLower(lines[i].substr(0, colon))] =
            std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
      }
      size_t content_length = 0;
      if (auto it = request.headers.find("content-length"); it != request.headers.end()) {
        if (!absl::SimpleAtoi(it->second, &content_length)) content_length = 0;
      }
      buffer.erase(0, header_end + 4);
      while (buffer.size() < content_length) {
        if (!read_more()) goto done;
      }
      request.body = buffer.substr(0, content_length);
      buffer.erase(0, content_length);
      std::string response = handler_(request);
      if (response.empty()) goto done;
      size_t sent = 0;
      while (sent < response.size()) {
        ssize_t n = send(fd, response.data() + sent, response.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) goto done;
        sent += static_cast<size_t>(n);
      }
    }
  }
done:
  shutdown(fd, SHUT_RDWR);
  absl::MutexLock lock(&mu_);
  open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
  close(fd);
}

std::string RawHttpServer::Response(int status, const std::string& content_type,
                                    const std::string& body,
                                    const std::vector<std::string>& extra_headers) {
  std::string out = absl::StrCat("HTTP/1.1 ", status, " X\r\nContent-Type: ", content_type,
                                 "\r\nContent-Length: ", body.size(), "\r\n");
  for (const std::string& header : extra_headers) absl::StrAppend(&out, header, "\r\n");
  absl::StrAppend(&out, "\r\n", body);
  return out;
}

}  // namespace tessera::gateway::testing

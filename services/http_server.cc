#include "services/http_server.h"

#include <spdlog/spdlog.h>

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <future>
#include <optional>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace tessera::services {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kIdleTimeout = std::chrono::seconds(30);
constexpr size_t kMaxBodyBytes = 16 << 20;

using Routes = std::map<std::pair<std::string, std::string>, HttpHandler>;

// One connection: read a request, answer it, repeat while keep-alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const Routes* routes)
      : stream_(std::move(socket)), routes_(routes) {}

  void Run() {
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&Session::Read, shared_from_this()));
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(kMaxBodyBytes);
    stream_.expires_after(kIdleTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code error, size_t) {
    if (error == http::error::end_of_stream || error) {
      stream_.socket().shutdown(tcp::socket::shutdown_send, error);
      return;
    }
    const auto& request = parser_->get();
    HttpRequest in;
    in.method = std::string(request.method_string());
    std::string target(request.target());
    size_t question = target.find('?');
    in.path = target.substr(0, question);
    if (question != std::string::npos) in.query = target.substr(question + 1);
    for (const auto& field : request) {
      in.headers[absl::AsciiStrToLower(std::string(field.name_string()))] =
          std::string(field.value());
    }
    in.body = request.body();

    HttpResponse out;
    auto route = routes_->find({in.method, in.path});
    if (route != routes_->end()) {
      out = route->second(in);
    } else {
      bool path_known = false;
      for (const auto& [key, handler] : *routes_) path_known |= key.second == in.path;
      out.status = path_known ? 405 : 404;
      out.body = path_known ? "method not allowed\n" : "not found\n";
    }
    if (out.stream) {
      Stream(request.version(), request.keep_alive(), out);
      return;
    }
    response_ = {};
    response_.version(request.version());
    response_.result(static_cast<http::status>(out.status));
    response_.set(http::field::server, "tessera");
    response_.set(http::field::content_type, out.content_type);
    for (const auto& [name, value] : out.headers) response_.set(name, value);
    response_.keep_alive(request.keep_alive());
    response_.body() = std::move(out.body);
    response_.prepare_payload();
    http::async_write(stream_, response_,
                      beast::bind_front_handler(&Session::OnWrite, shared_from_this()));
  }

  // Writes the head, then each chunk the handler produces as it produces it.
  // Synchronous writes: the handler already holds this I/O thread.
  void Stream(unsigned version, bool keep_alive, const HttpResponse& out) {
    stream_.expires_never();
    http::response<http::empty_body> head;
    head.version(version);
    head.result(static_cast<http::status>(out.status));
    head.set(http::field::server, "tessera");
    head.set(http::field::content_type, out.content_type);
    head.set(http::field::cache_control, "no-cache");
    for (const auto& [name, value] : out.headers) head.set(name, value);
    head.keep_alive(keep_alive);
    head.chunked(true);
    http::response_serializer<http::empty_body> serializer(head);
    beast::error_code error;
    http::write_header(stream_.socket(), serializer, error);
    bool open = !error;
    out.stream([this, &open](const std::string& data) {
      if (!open || data.empty()) return open;
      beast::error_code write_error;
      asio::write(stream_.socket(), http::make_chunk(asio::buffer(data)), write_error);
      open = !write_error;
      return open;
    });
    if (open) {
      asio::write(stream_.socket(), http::make_chunk_last(), error);
      open = !error;
    }
    if (!open || !keep_alive) {
      stream_.socket().shutdown(tcp::socket::shutdown_send, error);
      return;
    }
    Read();
  }

  void OnWrite(beast::error_code error, size_t) {
    if (error) return;
    if (!response_.keep_alive()) {
      stream_.socket().shutdown(tcp::socket::shutdown_send, error);
      return;
    }
    Read();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  const Routes* routes_;
};

}  // namespace

struct HttpServer::Impl {
  asio::io_context io;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;

  void Accept(const Routes* routes) {
    acceptor->async_accept(asio::make_strand(io), [this, routes](beast::error_code error,
                                                                 tcp::socket socket) {
      if (error) {
        if (error != asio::error::operation_aborted) spdlog::warn("http accept: {}", error.message());
        if (!acceptor->is_open()) return;
      } else {
        std::make_shared<Session>(std::move(socket), routes)->Run();
      }
      if (acceptor->is_open()) Accept(routes);
    });
  }
};

HttpServer::HttpServer() : impl_(std::make_unique<Impl>()) {}
HttpServer::~HttpServer() { Shutdown(); }

void HttpServer::Route(const std::string& method, const std::string& path, HttpHandler handler) {
  routes_[{method, path}] = std::move(handler);
}

absl::Status HttpServer::Start(const std::string& host, int port, int threads) {
  beast::error_code error;
  auto address = asio::ip::make_address(host, error);
  if (error) return absl::InvalidArgumentError(absl::StrCat("bad HTTP host ", host));
  tcp::endpoint endpoint(address, static_cast<uint16_t>(port));
  // The acceptor lives on a strand: its accept completions (which re-arm it) and
  // Shutdown's close then never run at once on two I/O threads.
  impl_->acceptor.emplace(asio::make_strand(impl_->io));
  impl_->acceptor->open(endpoint.protocol(), error);
  if (!error) impl_->acceptor->set_option(asio::socket_base::reuse_address(true), error);
  if (!error) impl_->acceptor->bind(endpoint, error);
  if (!error) impl_->acceptor->listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for HTTP on ", host, ":", port, ": ", error.message()));
  }
  port_ = impl_->acceptor->local_endpoint().port();
  impl_->Accept(&routes_);
  for (int i = 0; i < std::max(1, threads); ++i) {
    impl_->threads.emplace_back([this] { impl_->io.run(); });
  }
  return absl::OkStatus();
}

void HttpServer::Shutdown() {
  if (impl_->acceptor && impl_->acceptor->is_open()) {
    if (impl_->threads.empty()) {
      beast::error_code ignored;
      impl_->acceptor->close(ignored);
    } else {
      // Close on an I/O thread and wait for it: stopping the loop first could
      // drop the close and leave the port accepting connections nobody serves.
      std::promise<void> closed;
      asio::post(impl_->acceptor->get_executor(), [this, &closed] {
        beast::error_code ignored;
        impl_->acceptor->close(ignored);
        closed.set_value();
      });
      closed.get_future().wait();
    }
  }
  impl_->io.stop();
  for (auto& thread : impl_->threads) {
    if (thread.joinable()) thread.join();
  }
  impl_->threads.clear();
}

}  // namespace tessera::services

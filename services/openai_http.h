// The OpenAI-compatible HTTP API (/v1/chat/completions, /v1/embeddings,
// /v1/models) on the server's HTTP port. Requests are mapped to
// tessera.generation.v1 and sent over gRPC (to this server's own port, or any
// other), so HTTP callers get exactly what gRPC callers get.
#ifndef TESSERA_SERVICES_OPENAI_HTTP_H_
#define TESSERA_SERVICES_OPENAI_HTTP_H_

#include <grpcpp/channel.h>

#include <memory>

#include "services/http_server.h"

namespace tessera::services {

// Adds the routes to `http` (before it starts). `generation` is the channel to a
// tessera.generation.v1 server.
void MountOpenAiRoutes(HttpServer* http, std::shared_ptr<grpc::Channel> generation);

}  // namespace tessera::services

#endif  // TESSERA_SERVICES_OPENAI_HTTP_H_

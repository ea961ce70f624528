// The routes of remote runners (docs/runners.md): a runner token connects
// (GET /runners/connect, the push channel), changes its connection's free
// slots (POST /runners/slots), fetches its job's commit and
// reports heartbeats, log chunks and the end; an admin lists runners
// (GET /runners). Every report names the job and the lease's fence: one
// the job is no longer leased under is refused with 409.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "server/api_handlers.h"
#include "server/gitlab_json.h"
#include "server/runner_bundle.h"
#include "util/bounded_json.h"
#include "util/logger.h"

namespace slipway {

namespace {

using nlohmann::json;

constexpr int kMaxConcurrency = 256;
constexpr size_t kMaxTags = 64;

std::vector<std::string> SplitTags(const std::string& text) {
  std::vector<std::string> tags;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string tag = text.substr(start, comma - start);
    while (!tag.empty() && tag.front() == ' ') tag.erase(0, 1);
    while (!tag.empty() && tag.back() == ' ') tag.pop_back();
    if (!tag.empty()) tags.push_back(tag);
    start = comma + 1;
  }
  return tags;
}

// The job_id route capture and the fence query parameter; nullopt with
// *error set (400) when either is not a positive integer.
std::optional<std::pair<int64_t, int64_t>> JobAndFence(ApiContext& ctx, HttpResponse* error) {
  std::optional<int64_t> job_id = ParseId(ctx.params["job_id"]);
  std::optional<int64_t> fence = ParseId(ctx.req.Query("fence").value_or(""));
  if (!job_id) *error = BadParam("job_id");
  if (job_id && !fence) *error = BadParam("fence");
  if (!job_id || !fence) return std::nullopt;
  return std::make_pair(*job_id, *fence);
}

// A byte offset query parameter: digits only, at most 19 of them.
std::optional<uint64_t> ParseOffset(const std::string& text) {
  if (text.empty() || text.size() > 19 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  return std::stoull(text);
}

HttpResponse LeaseAnswer(LeaseError error, int64_t job_id) {
  switch (error) {
    case LeaseError::kNone:
      return JsonOk(200, {{"status", "ok"}});
    case LeaseError::kUnknownJob:
      return JsonError(
          409, "409 Conflict - job " + std::to_string(job_id) + " is not leased to this runner");
    case LeaseError::kStaleFence:
      return JsonError(
          409, "409 Conflict - job " + std::to_string(job_id) + " is leased under another fence");
  }
  return JsonError(500, "500 Internal Server Error");
}

}  // namespace

HttpResponse ConnectRunner(ApiContext& ctx) {
  if (ctx.runners == nullptr) return ServiceUnavailable();
  RunnerInfo info;
  info.id = ctx.token->id;
  info.description = ctx.token->name;
  info.tags = SplitTags(ctx.req.Query("tags").value_or(""));
  if (info.tags.size() > kMaxTags) return BadParam("tags");
  std::string concurrency = ctx.req.Query("concurrency").value_or("1");
  // 0: connected but without a free slot now (a runner of several
  // replicas whose slots the others' jobs hold, docs/runners.md).
  std::optional<int64_t> n = concurrency == "0" ? std::optional<int64_t>(0) : ParseId(concurrency);
  if (!n || *n > kMaxConcurrency) return BadParam("concurrency");
  info.concurrency = static_cast<int>(*n);
  info.executor = ctx.req.Query("executor").value_or("shell");
  if (info.executor != "shell" && info.executor != "slurm") return BadParam("executor");
  HttpResponse response;
  response.headers = {{"Content-Type", "application/x-ndjson"}, {"Cache-Control", "no-store"}};
  response.push = ctx.runners->Connect(std::move(info));
  return response;
}

HttpResponse SetRunnerSlots(ApiContext& ctx) {
  if (ctx.runners == nullptr) return ServiceUnavailable();
  BoundedJson parsed = ParseBoundedJson(ctx.req.body);
  if (parsed.error != JsonParseError::kNone || !parsed.value.is_object()) {
    return JsonError(400, "400 Bad request - the body is not a JSON object");
  }
  const json concurrency = parsed.value.value("concurrency", json());
  if (!concurrency.is_number_integer() || concurrency.get<int64_t>() < 0 ||
      concurrency.get<int64_t>() > kMaxConcurrency) {
    return BadParam("concurrency");
  }
  if (!ctx.runners->SetConcurrency(ctx.token->id, concurrency.get<int>())) {
    return JsonError(409, "409 Conflict - this runner is not connected");
  }
  return JsonOk(200, {{"status", "ok"}});
}

HttpResponse RunnerHeartbeat(ApiContext& ctx) {
  if (ctx.runners == nullptr) return ServiceUnavailable();
  HttpResponse error;
  auto ids = JobAndFence(ctx, &error);
  if (!ids) return error;
  return LeaseAnswer(ctx.runners->Heartbeat(ctx.token->id, ids->first, ids->second), ids->first);
}

HttpResponse RunnerAppendTrace(ApiContext& ctx) {
  if (ctx.runners == nullptr) return ServiceUnavailable();
  HttpResponse error;
  auto ids = JobAndFence(ctx, &error);
  if (!ids) return error;
  std::optional<uint64_t> offset;
  if (std::optional<std::string> text = ctx.req.Query("offset")) {
    offset = ParseOffset(*text);
    if (!offset) return BadParam("offset");
  }
  int refused = 0;
  std::string why;
  // Larger bodies never get here: the server answers 413 (max_body_bytes).
  LeaseError lease = ctx.runners->AppendLog(ctx.token->id, ids->first, ids->second, offset,
                                            ctx.req.body, &refused, &why);
  if (lease != LeaseError::kNone || refused == 0) return LeaseAnswer(lease, ids->first);
  if (refused == 416) return JsonError(416, "416 Range Not Satisfiable - " + why);
  // Not acknowledged: the runner sends the same bytes again (docs/runners.md).
  LogLine(LogLevel::kError, "runner_log_error").Int("job_id", ids->first).Str("error", why);
  return JsonError(503, "503 Service Unavailable - the log of job " + std::to_string(ids->first) +
                            " could not be stored; send it again");
}

HttpResponse RunnerFinishJob(ApiContext& ctx) {
  if (ctx.runners == nullptr) return ServiceUnavailable();
  HttpResponse error;
  auto ids = JobAndFence(ctx, &error);
  if (!ids) return error;
  BoundedJson parsed = ParseBoundedJson(ctx.req.body);
  if (parsed.error != JsonParseError::kNone || !parsed.value.is_object()) {
    return JsonError(400, "400 Bad request - the body is not a JSON object");
  }
  const json& body = parsed.value;
  JobResult result;
  std::string outcome = body.value("outcome", json()).is_string()
                            ? body["outcome"].get<std::string>()
                            : std::string();
  if (outcome == "success") {
    result.outcome = JobOutcome::kSuccess;
  } else if (outcome == "failed") {
    result.outcome = JobOutcome::kFailed;
  } else if (outcome == "canceled") {
    result.outcome = JobOutcome::kCanceled;
  } else {
    return BadParam("outcome");
  }
  if (body.contains("exit_code")) {
    if (!body["exit_code"].is_number_integer()) return BadParam("exit_code");
    result.exit_code = body["exit_code"].get<int>();
  }
  if (body.contains("failure_reason")) {
    if (!body["failure_reason"].is_string()) return BadParam("failure_reason");
    result.failure_reason = body["failure_reason"].get<std::string>();
    static const char* const kReasons[] = {"", "script_failure", "job_execution_timeout",
                                           "runner_system_failure", "unknown_failure"};
    if (std::find(std::begin(kReasons), std::end(kReasons), result.failure_reason) ==
        std::end(kReasons)) {
      return BadParam("failure_reason");
    }
  }
  if (body.contains("dotenv")) {
    if (!body["dotenv"].is_array()) return BadParam("dotenv");
    for (const json& v : body["dotenv"]) {
      if (!v.is_object() || !v.value("key", json()).is_string() ||
          !v.value("value", json()).is_string()) {
        return BadParam("dotenv");
      }
      result.dotenv.Set(v["key"].get<std::string>(), v["value"].get<std::string>());
    }
  }
  std::optional<ArchiveFile> artifacts;
  if (body.contains("artifacts") && !body["artifacts"].is_null()) {
    const json& a = body["artifacts"];
    if (!a.is_object() || !a.value("size", json()).is_number_unsigned() ||
        !a.value("digest", json()).is_string()) {
      return BadParam("artifacts");
    }
    artifacts = ArchiveFile{a["size"].get<uint64_t>(), a["digest"].get<std::string>()};
  }
  return LeaseAnswer(ctx.runners->Finish(ctx.token->id, ids->first, ids->second, std::move(result),
                                         std::move(artifacts)),
                     ids->first);
}

HttpResponse RunnerUploadArtifacts(ApiContext& ctx) {
  if (ctx.runners == nullptr) return ServiceUnavailable();
  HttpResponse error;
  auto ids = JobAndFence(ctx, &error);
  if (!ids) return error;
  std::optional<uint64_t> offset = ParseOffset(ctx.req.Query("offset").value_or(""));
  if (!offset) return BadParam("offset");
  int refused = 0;
  std::string why;
  // Chunks are bounded by the server's request body limit (413 before here).
  LeaseError lease = ctx.runners->AppendArtifacts(ctx.token->id, ids->first, ids->second, *offset,
                                                  ctx.req.body, &refused, &why);
  if (lease != LeaseError::kNone || refused == 0) return LeaseAnswer(lease, ids->first);
  const char* reason = refused == 413   ? "413 Payload Too Large - "
                       : refused == 416 ? "416 Range Not Satisfiable - "
                                        : "500 Internal Server Error - ";
  return JsonError(refused, reason + why);
}

HttpResponse RunnerDownloadArtifacts(ApiContext& ctx) {
  if (ctx.runners == nullptr) return ServiceUnavailable();
  HttpResponse error;
  auto ids = JobAndFence(ctx, &error);
  if (!ids) return error;
  std::optional<int64_t> from = ParseId(ctx.params["from_job_id"]);
  if (!from) return BadParam("from_job_id");
  std::string path;
  ArchiveFile archive;
  Status packed;
  LeaseError lease = ctx.runners->ArtifactsArchive(ctx.token->id, ids->first, ids->second, *from,
                                                   &path, &archive, &packed);
  if (lease != LeaseError::kNone) return LeaseAnswer(lease, ids->first);
  if (!packed.ok()) return JsonError(500, "500 Internal Server Error - " + packed.message());
  // Only the jobs this one gets artifacts from, and only those that have some.
  if (path.empty()) return JsonError(404, "404 Not Found");
  HttpResponse response;
  response.headers = {{"Content-Type", "application/x-tar"},
                      {"X-Slipway-Archive-Digest", archive.digest}};
  response.file_path = path;
  return response;
}

HttpResponse RunnerJobRepository(ApiContext& ctx) {
  if (ctx.runners == nullptr) return ServiceUnavailable();
  HttpResponse error;
  auto ids = JobAndFence(ctx, &error);
  if (!ids) return error;
  std::string repository, commit;
  LeaseError lease =
      ctx.runners->Source(ctx.token->id, ids->first, ids->second, &repository, &commit);
  if (lease != LeaseError::kNone) return LeaseAnswer(lease, ids->first);
  std::string path = ctx.runners->BundlePath(ids->first, ids->second);
  Status made = ctx.runners->bundles().LinkTo(repository, commit, path);
  if (!made.ok()) return JsonError(500, "500 Internal Server Error - " + made.message());
  HttpResponse response;
  response.headers = {{"Content-Type", "application/octet-stream"}};
  response.file_path = path;
  return response;
}

HttpResponse ListRunners(ApiContext& ctx) {
  StatusOr<std::vector<TokenRecord>> tokens = ctx.store->ListTokens();
  if (!tokens.ok()) return StoreError(tokens.status());
  std::map<int64_t, RunnerStatus> live;
  if (ctx.runners != nullptr) {
    for (RunnerStatus& status : ctx.runners->Runners()) live[status.info.id] = std::move(status);
  }
  json out = json::array();
  for (const TokenRecord& token : *tokens) {
    if (token.role != TokenRole::kRunner) continue;
    auto it = live.find(token.id);
    bool online = it != live.end() && it->second.online && !token.revoked;
    std::optional<int64_t> contacted =
        it != live.end() ? it->second.contacted_at : token.last_used_at;
    json tags = it != live.end() ? json(it->second.info.tags) : json::array();
    json runner = RunnerJson(token.id, token.name, !token.revoked, online);
    runner["tag_list"] = tags;
    runner["contacted_at"] = contacted ? json(IsoTime(*contacted)) : json();
    out.push_back(std::move(runner));
  }
  return JsonOk(200, out);
}

}  // namespace slipway

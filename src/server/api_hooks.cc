// POST /hooks/{gitlab,github,gitea}/:project_id: push and merge-request
// webhooks, verified by the forge's signature (no API token), creating a
// push pipeline or a merge-request pipeline (and recording the merge
// request's state for CI_OPEN_MERGE_REQUESTS); a delivery seen before
// within the replay window creates nothing.
#include "server/api_handlers.h"
#include "server/gitlab_json.h"
#include "server/webhook.h"
#include "util/logger.h"

namespace slipway {

namespace {

// The "webhook" log line: the forge and project, and what the delivery did
// (docs/server.md, "Log"). Refusals are warnings: a misconfigured forge or
// someone probing the hook.
HttpResponse Logged(LogLevel level, const ApiContext& ctx, std::string_view outcome,
                    HttpResponse response, std::string_view reason = "", int64_t pipeline_id = 0,
                    std::string_view source = "") {
  LogLine line(level, "webhook");
  line.Str("forge", ctx.params.count("forge") ? ctx.params.at("forge") : "")
      .Str("project_id", ctx.params.count("id") ? ctx.params.at("id") : "")
      .Str("outcome", outcome)
      .Int("status", response.status);
  if (!reason.empty()) line.Str("reason", reason);
  if (pipeline_id != 0) line.Int("pipeline_id", pipeline_id);
  if (!source.empty()) line.Str("source", source);
  return response;
}

HttpResponse Refused(const ApiContext& ctx, HttpResponse response, std::string_view reason) {
  return Logged(LogLevel::kWarn, ctx, "refused", std::move(response), reason);
}

// Answers {"message": message}; the log's reason is reason, else message.
HttpResponse Ignored(const ApiContext& ctx, std::string message, std::string reason = "") {
  if (reason.empty()) reason = message;
  return Logged(LogLevel::kInfo, ctx, "ignored", JsonOk(200, {{"message", std::move(message)}}),
                reason);
}

}  // namespace

HttpResponse HandleWebhook(ApiContext& ctx) {
  auto forge = ParseForge(ctx.params["forge"]);
  if (!forge) return JsonError(404, "404 Not Found");
  auto id = ParseId(ctx.params["id"]);
  if (!id) return Refused(ctx, JsonError(404, "404 Project Not Found"), "no such project");
  auto project = ctx.store->GetProject(*id);
  if (!project.ok()) return StoreError(project.status());
  if (!project->has_value()) {
    return Refused(ctx, JsonError(404, "404 Project Not Found"), "no such project");
  }
  const ProjectRecord& p = **project;
  // Before the body is read: an unsigned request may come from anyone.
  if (p.webhook_secret.empty() && !p.allow_unsigned_webhooks) {
    return Refused(ctx,
                   JsonError(403, "403 Forbidden - project " + std::to_string(p.id) +
                                      " has no webhook secret: set one (slipway project add "
                                      "--webhook-secret) or allow unsigned webhooks "
                                      "(--allow-unsigned-webhooks)"),
                   "the project has no webhook secret");
  }
  WebhookResult result = ParseWebhook(*forge, ctx.req.headers, ctx.req.body, p.webhook_secret);
  if (!result.event && !result.merge_request) {
    switch (result.error) {
      case WebhookError::kUnauthorized:
        return Refused(ctx,
                       JsonError(401, "401 Unauthorized" +
                                          (result.message.empty() ? "" : " - " + result.message)),
                       result.message.empty() ? "unauthorized" : result.message);
      case WebhookError::kIgnored:
        return Ignored(
            ctx, "ignored",
            result.message.empty() ? "not an event that starts pipelines" : result.message);
      case WebhookError::kBadRequest:
        break;
    }
    return Refused(
        ctx,
        JsonError(400, "400 Bad request" + (result.message.empty() ? "" : " - " + result.message)),
        result.message.empty() ? "bad request" : result.message);
  }
  if (result.event && result.event->deleted) {
    return Ignored(ctx, "ignored", "the branch or tag was deleted");
  }
  if (ctx.service == nullptr) return ServiceUnavailable();
  // Taken before the pipeline is created, so that two copies arriving
  // together cannot both create one. 200, not an error: a forge redelivers
  // with the same id only when asked to, and GitLab disables a webhook that
  // keeps failing.
  if (!result.replay_keys.empty()) {
    StatusOr<bool> taken = ctx.store->TakeWebhookDelivery(p.id, result.replay_keys, ctx.now_ms,
                                                          ctx.webhook_replay_window_ms);
    if (!taken.ok()) return StoreError(taken.status());
    if (!*taken) return Ignored(ctx, "duplicate delivery ignored");
  }
  CreatePipelineRequest request;
  request.project_id = p.id;
  if (const std::optional<MergeRequestEvent>& event = result.merge_request) {
    const MergeRequest& mr = event->merge_request;
    MergeRequestRecord record;
    record.project_id = p.id;
    record.iid = mr.iid;
    record.title = mr.title;
    record.source_branch = mr.source_branch;
    record.target_branch = mr.target_branch;
    record.sha = mr.source_sha;
    record.state = event->state;
    if (Status saved = ctx.store->SaveMergeRequest(record); !saved.ok()) {
      (void)ctx.store->ForgetWebhookDelivery(p.id, result.replay_keys);
      return StoreError(saved);
    }
    if (!event->new_commits) {
      return Ignored(ctx, "merge request !" + std::to_string(mr.iid) + " " + event->state +
                              ", no new commits: no pipeline");
    }
    request.merge_request = mr;
    request.sha = mr.source_sha;
    request.source = kMergeRequestSource;
  } else {
    request.ref = result.event->ref;
    request.tag = result.event->tag;
    request.sha = result.event->after;
    request.before_sha = result.event->before;
    request.source = "push";
  }
  auto pipeline = ctx.service->CreatePipeline(request);
  if (!pipeline.ok()) {
    // Nothing was created: the forge may deliver this again.
    (void)ctx.store->ForgetWebhookDelivery(p.id, result.replay_keys);
    return Logged(LogLevel::kWarn, ctx, "failed",
                  JsonError(422, "422 Unprocessable - " + pipeline.status().message()),
                  pipeline.status().message());
  }
  return Logged(LogLevel::kInfo, ctx, "pipeline_created",
                JsonOk(201, PipelineJson(*pipeline, p, ctx.base_url)), "", pipeline->id,
                request.source);
}

}  // namespace slipway

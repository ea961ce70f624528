// POST /hooks/{gitlab,github,gitea}/:project_id: push webhooks, verified by
// the forge's signature (no API token), creating a push pipeline; a delivery
// seen before within the replay window creates nothing.
#include "server/api_handlers.h"
#include "server/gitlab_json.h"
#include "server/webhook.h"

namespace slipway {

HttpResponse HandleWebhook(ApiContext& ctx) {
  auto forge = ParseForge(ctx.params["forge"]);
  if (!forge) return JsonError(404, "404 Not Found");
  auto id = ParseId(ctx.params["id"]);
  if (!id) return JsonError(404, "404 Project Not Found");
  auto project = ctx.store->GetProject(*id);
  if (!project.ok()) return StoreError(project.status());
  if (!project->has_value()) return JsonError(404, "404 Project Not Found");
  const ProjectRecord& p = **project;
  // Before the body is read: an unsigned request may come from anyone.
  if (p.webhook_secret.empty() && !p.allow_unsigned_webhooks) {
    return JsonError(403, "403 Forbidden - project " + std::to_string(p.id) +
                              " has no webhook secret: set one (slipway project add "
                              "--webhook-secret) or allow unsigned webhooks "
                              "(--allow-unsigned-webhooks)");
  }
  WebhookResult result = ParseWebhook(*forge, ctx.req.headers, ctx.req.body, p.webhook_secret);
  if (!result.event) {
    switch (result.error) {
      case WebhookError::kUnauthorized:
        return JsonError(
            401, "401 Unauthorized" + (result.message.empty() ? "" : " - " + result.message));
      case WebhookError::kIgnored:
        return JsonOk(200, {{"message", "ignored"}});
      case WebhookError::kBadRequest:
        break;
    }
    return JsonError(400,
                     "400 Bad request" + (result.message.empty() ? "" : " - " + result.message));
  }
  const PushEvent& event = *result.event;
  if (event.deleted) return JsonOk(200, {{"message", "ignored"}});
  if (ctx.service == nullptr) return ServiceUnavailable();
  // Taken before the pipeline is created, so that two copies arriving
  // together cannot both create one. 200, not an error: a forge redelivers
  // with the same id only when asked to, and GitLab disables a webhook that
  // keeps failing.
  if (!result.replay_keys.empty()) {
    StatusOr<bool> taken = ctx.store->TakeWebhookDelivery(p.id, result.replay_keys, ctx.now_ms,
                                                          ctx.webhook_replay_window_ms);
    if (!taken.ok()) return StoreError(taken.status());
    if (!*taken) return JsonOk(200, {{"message", "duplicate delivery ignored"}});
  }
  CreatePipelineRequest request;
  request.project_id = p.id;
  request.ref = event.ref;
  request.tag = event.tag;
  request.sha = event.after;
  request.before_sha = event.before;
  request.source = "push";
  auto pipeline = ctx.service->CreatePipeline(request);
  if (!pipeline.ok()) {
    // Nothing was created: the forge may deliver this again.
    (void)ctx.store->ForgetWebhookDelivery(p.id, result.replay_keys);
    return JsonError(422, "422 Unprocessable - " + pipeline.status().message());
  }
  return JsonOk(201, PipelineJson(*pipeline, p, ctx.base_url));
}

}  // namespace slipway

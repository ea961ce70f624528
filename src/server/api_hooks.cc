// POST /hooks/{gitlab,github,gitea}/:project_id: push webhooks, verified by
// the forge's signature (no API token), creating a push pipeline.
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
  WebhookResult result = ParseWebhook(*forge, ctx.req.headers, ctx.req.body, p.webhook_secret);
  if (!result.event) {
    switch (result.error) {
      case WebhookError::kUnauthorized:
        return JsonError(401, "401 Unauthorized" +
                                  (result.message.empty() ? "" : " - " + result.message));
      case WebhookError::kIgnored:
        return JsonOk(200, {{"message", "ignored"}});
      case WebhookError::kBadRequest:
        break;
    }
    return JsonError(400, "400 Bad request" +
                              (result.message.empty() ? "" : " - " + result.message));
  }
  const PushEvent& event = *result.event;
  if (event.deleted) return JsonOk(200, {{"message", "ignored"}});
  if (ctx.service == nullptr) return ServiceUnavailable();
  CreatePipelineRequest request;
  request.project_id = p.id;
  request.ref = event.ref;
  request.tag = event.tag;
  request.sha = event.after;
  request.before_sha = event.before;
  request.source = "push";
  auto pipeline = ctx.service->CreatePipeline(request);
  if (!pipeline.ok()) return JsonError(422, "422 Unprocessable - " + pipeline.status().message());
  return JsonOk(201, PipelineJson(*pipeline, p, ctx.base_url));
}

}  // namespace slipway

// GitLab's pipeline status badge: GET /<project path>/-/badges/<ref>/pipeline.svg
// (and the older /<project path>/badges/<ref>/pipeline.svg), an SVG saying
// the status of the ref's latest pipeline. Served without an API token, so
// that a README on the forge can show it (docs/api.md, "Pipeline badge"):
// it tells the status word and nothing else, and an unknown project, an
// unknown ref and a ref without pipelines all get the same "unknown" badge,
// so a badge URL cannot tell which projects or refs exist.
#include <cstdio>

#include "server/api_handlers.h"
#include "server/api_util.h"

namespace slipway {
namespace {

// The badge's text and colour (GitLab's words and colours).
std::pair<std::string, std::string> Look(std::optional<CiStatus> status) {
  if (!status) return {"unknown", "#9f9f9f"};
  switch (*status) {
    case CiStatus::kSuccess:
      return {"passed", "#4c1"};
    case CiStatus::kFailed:
      return {"failed", "#e05d44"};
    case CiStatus::kRunning:
      return {"running", "#dfb317"};
    case CiStatus::kPending:
    case CiStatus::kCreated:
    case CiStatus::kWaitingForResource:
    case CiStatus::kPreparing:
    case CiStatus::kScheduled:
      return {"pending", "#dfb317"};
    case CiStatus::kCanceled:
      return {"canceled", "#9f9f9f"};
    case CiStatus::kSkipped:
      return {"skipped", "#9f9f9f"};
    case CiStatus::kManual:
      return {"manual", "#9f9f9f"};
  }
  return {"unknown", "#9f9f9f"};
}

std::string Svg(const std::string& text, const std::string& colour) {
  // Widths from the text's length: the words are fixed, plain ASCII.
  int key = 62;
  int value = static_cast<int>(text.size()) * 7 + 12;
  int total = key + value;
  char svg[2048];
  std::snprintf(svg, sizeof svg,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"20\" "
                "role=\"img\" aria-label=\"pipeline: %s\">"
                "<title>pipeline: %s</title>"
                "<rect width=\"%d\" height=\"20\" fill=\"#555\"/>"
                "<rect x=\"%d\" width=\"%d\" height=\"20\" fill=\"%s\"/>"
                "<g fill=\"#fff\" text-anchor=\"middle\" "
                "font-family=\"DejaVu Sans,Verdana,Geneva,sans-serif\" font-size=\"11\">"
                "<text x=\"%d\" y=\"14\">pipeline</text>"
                "<text x=\"%d\" y=\"14\">%s</text></g></svg>",
                total, text.c_str(), text.c_str(), key, key, value, colour.c_str(), key / 2,
                key + value / 2, text.c_str());
  return svg;
}

}  // namespace

std::optional<std::pair<std::string, std::string>> BadgePath(std::string_view path) {
  constexpr std::string_view kSuffix = "/pipeline.svg";
  if (!path.ends_with(kSuffix)) return std::nullopt;
  std::string_view rest = path.substr(0, path.size() - kSuffix.size());
  for (std::string_view marker : {"/-/badges/", "/badges/"}) {
    size_t at = rest.find(marker);
    if (at == std::string_view::npos || at == 0) continue;
    std::string project(rest.substr(1, at - 1));
    std::string ref(rest.substr(at + marker.size()));
    if (project.empty() || ref.empty()) return std::nullopt;
    return std::make_pair(project, ref);
  }
  return std::nullopt;
}

HttpResponse HandleBadge(ApiContext& ctx) {
  std::optional<CiStatus> status;
  HttpResponse ignored;
  // A project or ref that cannot be read is "unknown", like a missing one.
  auto project = LoadProject(ctx, &ignored);
  if (project) {
    PipelineFilter filter;
    filter.project_id = project->id;
    filter.ref = ctx.params["ref"];
    filter.order_by = "id";
    filter.sort = "desc";
    filter.per_page = 1;
    auto page = ctx.store->ListPipelines(filter);
    if (page.ok() && !page->items.empty()) status = page->items.front().status;
  }
  auto [text, colour] = Look(status);
  HttpResponse response = TextResponse(200, Svg(text, colour), "image/svg+xml");
  response.SetHeader("Cache-Control", "no-store");
  return response;
}

}  // namespace slipway

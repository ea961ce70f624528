#include "server/project_spec.h"

#include <cctype>

#include "server/executor_factory.h"

namespace slipway {

namespace {

bool PathChar(char c) {
  return isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

}  // namespace

StatusOr<ProjectRecord> MakeProject(const ProjectSpec& spec) {
  if (spec.name.empty() && spec.path.empty()) return Status::Error("name is missing");
  if (spec.repo_url.empty()) return Status::Error("repo_url is missing");
  ProjectRecord project;
  project.name = spec.name.empty() ? spec.path : spec.name;
  project.repo_url = spec.repo_url;
  project.default_branch = spec.default_branch.empty() ? "main" : spec.default_branch;
  project.webhook_secret = spec.webhook_secret;
  project.allow_unsigned_webhooks = spec.allow_unsigned_webhooks;
  project.executor = spec.executor.empty() ? "shell" : spec.executor;
  if (Status known = CheckExecutorName(project.executor); !known.ok()) return known;
  std::string path = spec.path;
  if (path.empty()) {
    for (char c : spec.name) path.push_back(PathChar(c) || c == '/' ? c : '-');
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string segment =
        path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (segment.empty() || segment == "." || segment == "..") {
      return Status::Error("path '" + path +
                           "' is invalid: segments between '/' must not be empty, '.' or '..'");
    }
    for (char c : segment) {
      if (!PathChar(c)) {
        return Status::Error("path '" + path +
                             "' is invalid: use letters, digits, '_', '-', '.' and '/'");
      }
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  project.path_with_namespace = path;
  return project;
}

}  // namespace slipway

// `slipway project add` and `slipway project list`: the server's projects,
// written to and read from its database directly (the server need not run).
#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/commands.h"
#include "cli/forge_flags.h"
#include "cli/repository_check.h"
#include "cli/server_commands.h"
#include "server/project_spec.h"
#include "util/display_width.h"
#include "util/redact.h"

namespace slipway {
namespace {

struct AddOptions {
  ProjectSpec spec;
  bool no_check = false;
  int check_timeout_s = 30;
  ForgeFlags forge;  // Where commit statuses go (cli/forge_flags.h).
};

void AddProjectAdd(CLI::App* project, int* exit_code) {
  auto data = std::make_shared<DataOptions>();
  auto options = std::make_shared<AddOptions>();
  ProjectSpec& spec = options->spec;
  CLI::App* add = project->add_subcommand("add", "Register a git repository; prints its id");
  AddDataOptions(add, data.get());
  add->add_option("name", spec.name, "The project's name")->type_name("NAME")->required();
  add->add_option("repo", spec.repo_url, "A local path or a URL git can fetch")
      ->type_name("REPO")
      ->required();
  add->add_option("--path", spec.path, "path_with_namespace (default: from the name)")
      ->type_name("PATH");
  add->add_option("--webhook-secret", spec.webhook_secret, "Secret that webhooks must prove")
      ->type_name("SECRET");
  add->add_flag("--allow-unsigned-webhooks", spec.allow_unsigned_webhooks,
                "Without --webhook-secret, accept webhooks nobody signed (anyone who can reach "
                "the server may then start its pipelines); refused otherwise");
  add->add_option("--default-branch", spec.default_branch, "Default branch (default: main)")
      ->type_name("BRANCH");
  add->add_option(
         "--executor", spec.executor,
         "What runs the project's jobs: shell (default), sandbox, or remote (slipway runner)")
      ->type_name("EXECUTOR");
  AddForgeFlags(add, &options->forge, /*for_set=*/false);
  add->add_flag("--no-check", options->no_check,
                "Store REPO without checking that git can read it (git ls-remote)");
  add->add_option("--check-timeout", options->check_timeout_s,
                  "Seconds a URL has to answer the check")
      ->type_name("SECONDS")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  add->callback([data, options, exit_code] {
    ProjectSpec resolved = options->spec;
    std::error_code ec;
    // A local repository is stored by absolute path: the server's working
    // directory is not this command's.
    if (IsLocalRepository(resolved.repo_url) && !resolved.repo_url.empty()) {
      resolved.repo_url =
          std::filesystem::absolute(resolved.repo_url, ec).lexically_normal().string();
      if (resolved.repo_url.size() > 1 && resolved.repo_url.back() == '/') {
        resolved.repo_url.pop_back();
      }
    }
    auto record = MakeProject(resolved);
    if (!record.ok()) {
      std::fprintf(stderr, "slipway: %s\n", record.status().message().c_str());
      *exit_code = 2;
      return;
    }
    StatusOr<std::optional<ProjectForgeSettings>> forge =
        ApplyForgeFlags(options->forge, std::nullopt, record->path_with_namespace);
    if (!forge.ok()) {
      std::fprintf(stderr, "slipway: %s\n", forge.status().message().c_str());
      *exit_code = 2;
      return;
    }
    // Checked before anything is stored, so that a mistake does not take
    // the name.
    if (!options->no_check) {
      Status checked =
          CheckRepository(record->repo_url, std::chrono::seconds(options->check_timeout_s));
      if (!checked.ok()) {
        std::fprintf(stderr, "slipway: %s; --no-check stores it anyway\n",
                     checked.message().c_str());
        *exit_code = 2;
        return;
      }
    }
    std::unique_ptr<Store> store = OpenDataStore(*data);
    if (!store) {
      *exit_code = 1;
      return;
    }
    auto created = store->CreateProject(*record);
    if (!created.ok()) {
      std::fprintf(stderr, "slipway: %s\n", created.status().message().c_str());
      *exit_code = 1;
      return;
    }
    if (*forge) {
      (*forge)->project_id = created->id;
      if (Status s = store->SetProjectForge(**forge); !s.ok()) {
        std::fprintf(stderr, "slipway: project %lld added, but not its forge: %s\n",
                     static_cast<long long>(created->id), s.message().c_str());
        *exit_code = 1;
        return;
      }
    }
    std::printf("%lld\n", static_cast<long long>(created->id));
  });
}

void AddProjectList(CLI::App* project, int* exit_code) {
  auto data = std::make_shared<DataOptions>();
  CLI::App* list = project->add_subcommand("list", "List the registered projects");
  AddDataOptions(list, data.get());
  list->callback([data, exit_code] {
    std::unique_ptr<Store> store = OpenExistingDataStore(*data);
    if (!store) {
      *exit_code = 1;
      return;
    }
    auto projects = store->ListProjects();
    if (!projects.ok()) {
      std::fprintf(stderr, "slipway: %s\n", projects.status().message().c_str());
      *exit_code = 1;
      return;
    }
    if (projects->empty()) {
      std::printf("no projects (add one with `slipway project add NAME REPO`)\n");
      return;
    }
    std::vector<std::vector<std::string>> rows = {{"id", "name", "path", "branch", "repository"}};
    for (const ProjectRecord& p : *projects) {
      rows.push_back({std::to_string(p.id), p.name, p.path_with_namespace, p.default_branch,
                      RedactUrlCredentials(p.repo_url)});
    }
    PrintTable(rows);
  });
}

}  // namespace

void AddProjectCommand(CLI::App* app, int* exit_code) {
  CLI::App* project = app->add_subcommand("project", "Manage the server's projects");
  project->require_subcommand(1);
  AddProjectAdd(project, exit_code);
  AddProjectList(project, exit_code);
  AddProjectChangeCommands(project, exit_code);
}

}  // namespace slipway

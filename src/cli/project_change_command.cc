// `slipway project set` and `slipway project remove`: changing and deleting
// what `project add` registered, in the server's database directly (the
// server need not run; `DELETE /api/v4/projects/:id` is the way while it
// runs, as it cancels what the project runs first).
#include <cstdio>
#include <memory>
#include <optional>

#include "cli/commands.h"
#include "cli/forge_flags.h"
#include "cli/repository_check.h"
#include "cli/server_commands.h"
#include "server/pipeline_service.h"
#include "server/project_spec.h"
#include "server/server_dirs.h"

namespace slipway {
namespace {

// The project named by an id or a path_with_namespace; nullopt after
// saying why.
std::optional<ProjectRecord> FindProject(Store* store, const std::string& name) {
  bool digits = !name.empty() && name.find_first_not_of("0123456789") == std::string::npos;
  StatusOr<std::optional<ProjectRecord>> found =
      digits ? store->GetProject(std::stoll(name)) : store->GetProjectByPath(name);
  if (!found.ok()) {
    std::fprintf(stderr, "slipway: %s\n", found.status().message().c_str());
    return std::nullopt;
  }
  if (!*found) std::fprintf(stderr, "slipway: no project '%s'\n", name.c_str());
  return *found;
}

struct SetOptions {
  std::string project;
  std::optional<std::string> name, repo, default_branch, webhook_secret, executor;
  std::optional<bool> allow_unsigned_webhooks;
  ForgeFlags forge;
  bool no_check = false;
};

void AddProjectSet(CLI::App* parent, int* exit_code) {
  auto data = std::make_shared<DataOptions>();
  auto o = std::make_shared<SetOptions>();
  CLI::App* set = parent->add_subcommand("set", "Change a project's settings");
  AddDataOptions(set, data.get());
  set->add_option("project", o->project, "The project's id or path")
      ->type_name("ID|PATH")
      ->required();
  set->add_option("--name", o->name, "Its name")->type_name("NAME");
  set->add_option("--repo", o->repo, "A local path or a URL git can fetch")->type_name("REPO");
  set->add_option("--default-branch", o->default_branch, "Default branch")->type_name("BRANCH");
  set->add_option("--webhook-secret", o->webhook_secret, "Secret webhooks must prove ('' : none)")
      ->type_name("SECRET");
  set->add_option("--allow-unsigned-webhooks", o->allow_unsigned_webhooks,
                  "Accept webhooks nobody signed when there is no secret")
      ->type_name("true|false");
  set->add_option("--executor", o->executor, "shell, sandbox, slurm or remote")
      ->type_name("EXECUTOR");
  AddForgeFlags(set, &o->forge, /*for_set=*/true);
  set->add_flag("--no-check", o->no_check, "Store --repo without checking that git can read it");
  set->callback([data, o, exit_code] {
    *exit_code = 1;
    std::unique_ptr<Store> store = OpenExistingDataStore(*data);
    if (!store) return;
    std::optional<ProjectRecord> project = FindProject(store.get(), o->project);
    if (!project) return;
    ProjectSpec spec;
    spec.name = o->name.value_or(project->name);
    spec.path = project->path_with_namespace;
    spec.repo_url = o->repo.value_or(project->repo_url);
    spec.default_branch = o->default_branch.value_or(project->default_branch);
    spec.webhook_secret = o->webhook_secret.value_or(project->webhook_secret);
    spec.allow_unsigned_webhooks =
        o->allow_unsigned_webhooks.value_or(project->allow_unsigned_webhooks);
    spec.executor = o->executor.value_or(project->executor);
    StatusOr<ProjectRecord> record = MakeProject(spec);
    if (!record.ok()) {
      std::fprintf(stderr, "slipway: %s\n", record.status().message().c_str());
      *exit_code = 2;
      return;
    }
    // The forge is checked with the rest, before anything is stored.
    std::optional<ProjectForgeSettings> forge;
    if (o->forge.any()) {
      StatusOr<std::optional<ProjectForgeSettings>> current = store->GetProjectForge(project->id);
      if (!current.ok()) {
        std::fprintf(stderr, "slipway: %s\n", current.status().message().c_str());
        return;
      }
      StatusOr<std::optional<ProjectForgeSettings>> applied =
          ApplyForgeFlags(o->forge, *current, project->path_with_namespace);
      if (!applied.ok()) {
        std::fprintf(stderr, "slipway: %s\n", applied.status().message().c_str());
        *exit_code = 2;
        return;
      }
      // An empty kind removes it (Store::SetProjectForge).
      forge = applied->value_or(ProjectForgeSettings{});
      forge->project_id = project->id;
    }
    if (o->repo && !o->no_check) {
      Status checked = CheckRepository(record->repo_url, std::chrono::seconds(30));
      if (!checked.ok()) {
        std::fprintf(stderr, "slipway: %s; --no-check stores it anyway\n",
                     checked.message().c_str());
        *exit_code = 2;
        return;
      }
    }
    record->id = project->id;
    StatusOr<bool> updated = store->UpdateProject(*record);
    if (!updated.ok() || !*updated) {
      std::fprintf(stderr, "slipway: %s\n",
                   updated.ok() ? "the project is gone" : updated.status().message().c_str());
      return;
    }
    if (forge) {
      if (Status s = store->SetProjectForge(*forge); !s.ok()) {
        std::fprintf(stderr, "slipway: %s\n", s.message().c_str());
        return;
      }
    }
    *exit_code = 0;
  });
}

void AddProjectRemove(CLI::App* parent, int* exit_code) {
  auto data = std::make_shared<DataOptions>();
  auto project_name = std::make_shared<std::string>();
  auto builds_dir = std::make_shared<std::string>();
  CLI::App* remove = parent->add_subcommand(
      "remove", "Delete a project with its pipelines, logs, artifacts, caches and mirror");
  AddDataOptions(remove, data.get());
  remove->add_option("project", *project_name, "The project's id or path")
      ->type_name("ID|PATH")
      ->required();
  remove
      ->add_option("--builds-dir", *builds_dir,
                   "The server's --builds-dir, if it has one (default: DATA-builds)")
      ->type_name("DIR");
  remove->callback([data, project_name, builds_dir, exit_code] {
    *exit_code = 1;
    std::unique_ptr<Store> store = OpenExistingDataStore(*data);
    if (!store) return;
    std::optional<ProjectRecord> project = FindProject(store.get(), *project_name);
    if (!project) return;
    // The service's own removal, with nothing of its running here.
    LogHub hub;
    ServiceOptions options;
    options.data_dir = data->data_dir;
    options.builds_dir = builds_dir->empty() ? DefaultBuildsDir(data->data_dir) : *builds_dir;
    StatusOr<std::unique_ptr<PipelineService>> service =
        PipelineService::Create(store.get(), &hub, options);
    StatusOr<bool> deleted =
        service.ok() ? (*service)->DeleteProject(project->id) : StatusOr<bool>(service.status());
    if (!deleted.ok()) {
      std::fprintf(stderr, "slipway: %s\n", deleted.status().message().c_str());
      return;
    }
    std::printf("removed project %lld (%s)\n", static_cast<long long>(project->id),
                project->path_with_namespace.c_str());
    *exit_code = 0;
  });
}

}  // namespace

void AddProjectChangeCommands(CLI::App* project, int* exit_code) {
  AddProjectSet(project, exit_code);
  AddProjectRemove(project, exit_code);
}

}  // namespace slipway

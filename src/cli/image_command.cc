// `slipway image pull|ls|rm|prune|import`: the image store that jobs with
// an `image:` run in (docs/images.md). The store is shared with `slipway
// run`; `slipway serve` keeps its own under <data>/images (--store points
// these commands at it).
#include <array>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <memory>
#include <set>

#include "cli/commands.h"
#include "image/image_import.h"
#include "image/image_puller.h"
#include "image/image_store.h"
#include "util/display_width.h"

namespace slipway {
namespace {

struct StoreOptions {
  std::string dir;
  std::vector<std::string> insecure;
};

void AddStoreOption(CLI::App* cmd, StoreOptions* options) {
  cmd->add_option("--store", options->dir,
                  "The image store (default: $XDG_CACHE_HOME/slipway/images or "
                  "~/.cache/slipway/images; a server's is DATA/images)")
      ->type_name("DIR");
}

std::unique_ptr<ImageStore> OpenStore(const StoreOptions& options, int* exit_code) {
  StatusOr<std::unique_ptr<ImageStore>> store =
      ImageStore::Open(options.dir.empty() ? ImageStore::DefaultDir() : options.dir);
  if (!store.ok()) {
    std::fprintf(stderr, "slipway: %s\n", store.status().message().c_str());
    *exit_code = 1;
    return nullptr;
  }
  return std::move(*store);
}

// SLIPWAY_INSECURE_REGISTRIES: hosts (host or host:port), separated by
// commas or spaces, spoken to in plain HTTP as loopback registries are.

std::string Size(int64_t bytes) {
  char text[32];
  if (bytes >= (int64_t{1} << 30)) {
    std::snprintf(text, sizeof text, "%.1f GB", static_cast<double>(bytes) / (1 << 30));
  } else if (bytes >= (1 << 20)) {
    std::snprintf(text, sizeof text, "%.1f MB", static_cast<double>(bytes) / (1 << 20));
  } else {
    std::snprintf(text, sizeof text, "%.1f kB", static_cast<double>(bytes) / 1024);
  }
  return text;
}

void AddPull(CLI::App* image, int* exit_code) {
  auto options = std::make_shared<StoreOptions>();
  auto name = std::make_shared<std::string>();
  CLI::App* pull = image->add_subcommand(
      "pull", "Pull an image from its registry into the store (pull_policy: always)");
  AddStoreOption(pull, options.get());
  pull->add_option("--insecure-registry", options->insecure,
                   "A registry (HOST[:PORT]) to speak plain HTTP to, besides "
                   "loopback; also "
                   "$SLIPWAY_INSECURE_REGISTRIES")
      ->type_name("HOST");
  pull->add_option("name", *name,
                   "The image: alpine:3.19, registry.example.com/group/tool@sha256:...")
      ->type_name("NAME")
      ->required();
  pull->callback([options, name, exit_code] {
    std::unique_ptr<ImageStore> store = OpenStore(*options, exit_code);
    if (!store) return;
    StatusOr<RegistryOptions> registry = RegistryOptionsFromEnvironment();
    if (!registry.ok()) {
      std::fprintf(stderr, "slipway: %s\n", registry.status().message().c_str());
      *exit_code = 1;
      return;
    }
    for (const std::string& host : options->insecure) registry->insecure_registries.push_back(host);
    ImagePuller puller(store.get(), std::move(*registry));
    StatusOr<ResolvedImage> image = puller.Resolve({*name, "always"}, [](const std::string& line) {
      std::fprintf(stderr, "%s\n", line.c_str());
    });
    if (!image.ok()) {
      std::fprintf(stderr, "slipway: %s\n", image.status().message().c_str());
      *exit_code = 1;
      return;
    }
    std::printf("%s\n%s\n", image->digest.c_str(), image->rootfs.c_str());
  });
}

void AddList(CLI::App* image, int* exit_code) {
  auto options = std::make_shared<StoreOptions>();
  CLI::App* ls = image->add_subcommand("ls", "List the images in the store");
  AddStoreOption(ls, options.get());
  ls->callback([options, exit_code] {
    std::unique_ptr<ImageStore> store = OpenStore(*options, exit_code);
    if (!store) return;
    std::map<std::string, ImageRecord> images;
    for (ImageRecord& record : store->Images()) images[record.digest] = std::move(record);
    std::vector<std::array<std::string, 4>> rows = {{"IMAGE", "DIGEST", "SIZE", "STORED"}};
    std::set<std::string> named;
    auto row = [&](const std::string& name, const ImageRecord& record) {
      char when[32];
      std::time_t t = static_cast<std::time_t>(record.created);
      std::strftime(when, sizeof when, "%Y-%m-%d %H:%M", std::localtime(&t));
      rows.push_back({name, record.digest.substr(0, 19), Size(record.size), when});
    };
    for (const auto& [name, digest] : store->Refs()) {
      auto it = images.find(digest);
      if (it == images.end()) continue;  // Removed, or its pull did not finish.
      named.insert(digest);
      row(name, it->second);
    }
    for (const auto& [digest, record] : images) {
      if (!named.count(digest)) row("<none>", record);
    }
    std::array<size_t, 4> width{};
    for (const auto& r : rows) {
      for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], DisplayWidth(r[i]));
    }
    for (const auto& r : rows) {
      std::printf("%s  %s  %s  %s\n", PadToWidth(r[0], width[0]).c_str(),
                  PadToWidth(r[1], width[1]).c_str(), PadToWidth(r[2], width[2]).c_str(),
                  r[3].c_str());
    }
  });
}

void AddRemove(CLI::App* image, int* exit_code) {
  auto options = std::make_shared<StoreOptions>();
  auto names = std::make_shared<std::vector<std::string>>();
  CLI::App* rm = image->add_subcommand(
      "rm", "Remove images from the store (their blobs go with the next prune)");
  AddStoreOption(rm, options.get());
  rm->add_option("name", *names, "An image name as pulled, or a digest sha256:...")
      ->type_name("NAME")
      ->required();
  rm->callback([options, names, exit_code] {
    std::unique_ptr<ImageStore> store = OpenStore(*options, exit_code);
    if (!store) return;
    for (const std::string& name : *names) {
      std::string key = name;
      if (!IsSha256Digest(name)) {
        StatusOr<ImageReference> ref = ParseImageReference(name);
        if (!ref.ok()) {
          std::fprintf(stderr, "slipway: %s\n", ref.status().message().c_str());
          *exit_code = 1;
          continue;
        }
        key = ref->Canonical();
      }
      Status removed = store->Remove(key);
      if (!removed.ok()) {
        std::fprintf(stderr, "slipway: %s\n", removed.message().c_str());
        *exit_code = 1;
        continue;
      }
      std::printf("removed %s\n", key.c_str());
    }
  });
}

void AddPrune(CLI::App* image, int* exit_code) {
  auto options = std::make_shared<StoreOptions>();
  CLI::App* prune = image->add_subcommand(
      "prune", "Remove unnamed images, unused blobs and what interrupted pulls left");
  AddStoreOption(prune, options.get());
  prune->callback([options, exit_code] {
    std::unique_ptr<ImageStore> store = OpenStore(*options, exit_code);
    if (!store) return;
    StatusOr<PruneResult> pruned = store->Prune();
    if (!pruned.ok()) {
      std::fprintf(stderr, "slipway: %s\n", pruned.status().message().c_str());
      *exit_code = 1;
      return;
    }
    std::printf("removed %zu images, %zu blobs (%s), %zu temporary files\n", pruned->images,
                pruned->blobs, Size(static_cast<int64_t>(pruned->bytes)).c_str(),
                pruned->temporaries);
  });
}

void AddImport(CLI::App* image, int* exit_code) {
  auto options = std::make_shared<StoreOptions>();
  auto path = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>();
  CLI::App* import = image->add_subcommand("import",
                                           "Load images from `docker save` output "
                                           "or an OCI layout (directory or tar)");
  AddStoreOption(import, options.get());
  import->add_option("--name", *name, "The name to store the one image of FILE under")
      ->type_name("NAME");
  import->add_option("file", *path, "A tar archive (gzip-ed or not) or a directory")
      ->type_name("FILE")
      ->required();
  import->callback([options, path, name, exit_code] {
    std::unique_ptr<ImageStore> store = OpenStore(*options, exit_code);
  if (!store) return;
  StatusOr<std::vector<ImportedImage>> imported = ImportImages(store.get(), *path, *name);
  if (!imported.ok()) {
    std::fprintf(stderr, "slipway: %s\n", imported.status().message().c_str());
    *exit_code = 1;
    return;
  }
  for (const ImportedImage& i : *imported) {
    std::printf("%s %s\n", i.name.c_str(), i.digest.c_str());
  }
});
}  // namespace

}  // namespace slipway

void AddImageCommand(CLI::App* app, int* exit_code) {
  CLI::App* image = app->add_subcommand("image", "Manage the images jobs run in");
  image->require_subcommand(1);
  image->footer(
      "Images come from any registry of the Docker Registry HTTP API v2 "
      "(Docker Hub, GitLab's "
      "container registry, ...), with credentials from $DOCKER_AUTH_CONFIG or "
      "~/.docker/config.json. The store defaults to "
      "$XDG_CACHE_HOME/slipway/images. See "
      "docs/images.md.");
  AddPull(image, exit_code);
  AddList(image, exit_code);
  AddRemove(image, exit_code);
  AddPrune(image, exit_code);
  AddImport(image, exit_code);
}

}  // namespace slipway

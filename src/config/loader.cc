// LoadConfig: the root file, its `include:`s (recursively), inputs, the
// merge, and !reference resolution.
#include "config/loader.h"

#include <algorithm>
#include <deque>
#include <filesystem>
#include <utility>

#include "config/deep_merge.h"
#include "config/extends.h"
#include "config/include_messages.h"
#include "config/include_rules.h"
#include "config/inputs.h"
#include "config/reference.h"
#include "config/yaml_parser.h"
#include "util/glob.h"
#include "util/http_get.h"
#include "util/redact.h"
#include "util/source_tree.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kIncludeKeys[] = {
    "local", "file",      "remote", "project", "ref",       "template", "artifact",
    "job",   "component", "rules",  "inputs",  "integrity", "cache"};

bool IsUrl(std::string_view s) { return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0; }

bool HasYamlExtension(std::string_view path) {
  std::string name = fs::path(std::string(path)).filename().string();
  for (std::string_view ext : {".yml", ".yaml"}) {
    if (name.size() > ext.size()) {
      std::string tail = name.substr(name.size() - ext.size());
      for (char& c : tail) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (tail == ext) return true;
    }
  }
  return false;
}

// How the include names what slipway cannot fetch, in the form
// `type:location` (for project includes `project:path:file@ref`).
std::string DescribeRemote(const Node& entry, std::string_view type) {
  auto text = [&](std::string_view key) {
    const Node* n = entry.Find(key);
    return n && n->IsScalar() ? n->scalar : std::string();
  };
  if (type == "project") {
    std::string ref = text("ref");
    return "project:" + text("project") + ":" + text("file") + (ref.empty() ? "" : "@" + ref);
  }
  return std::string(type) + ":" + text(type);
}

// Why a link is not followed; "`ci` is a symbolic link to `../x`: ...".
std::string LinkNote(const ReadError& error) {
  return "`" + error.link + "` is a symbolic link to `" + error.link_target +
         "`: GitLab does not follow symbolic links in the repository";
}

// GitLab's message for a local include that could not be read. GitLab reads
// a link's blob, whose content is the target's name and so not a map:
// "`x.yml`: Invalid configuration format". A path through a linked
// directory, one that leaves the repository or names a directory is not in
// its tree: "does not exist!".
std::string LocalFileError(const std::string& name, const ReadError& error, const Status& status) {
  switch (error.kind) {
    case ReadError::Kind::kSymlink:
      return "`" + name + "`: Invalid configuration format (" + LinkNote(error) + ")";
    case ReadError::Kind::kSymlinkInPath:
      return "Local file `" + name + "` does not exist! (" + LinkNote(error) + ")";
    case ReadError::Kind::kOther:
      return "Local file `" + name + "` cannot be read: " + status.message();
    case ReadError::Kind::kNoSuchFile:
    case ReadError::Kind::kNotRegularFile:
    case ReadError::Kind::kOutside:
      break;
  }
  return "Local file `" + name + "` does not exist!";
}

class Loader {
 public:
  Loader(const LoadOptions& options, Diagnostics* diags)
      : options_(options),
        diags_(diags),
        tree_(options.commit.empty() ? SourceTree::WorkTree(options.project_dir)
                                     : SourceTree::AtCommit(options.project_dir, options.commit,
                                                            options.commit_label)),
        current_(&tree_) {}

  std::optional<Node> LoadRoot() {
    if (options_.root_include) {
      Mark mark = options_.root_include->mark;
      Node content = Node::Map(mark);
      content.Set("include", *options_.root_include, mark);
      return ExpandIncludes(std::move(content));
    }
    if (options_.root_text != nullptr) {
      return RootContent(*options_.root_text, options_.file);
    }
    StatusOr<std::string> path = tree_.Locate(options_.file);
    if (!path.ok()) {
      diags_->Error(Mark{tree_.Name(options_.file), 0, 0}, path.status().message());
      return std::nullopt;
    }
    std::string name = tree_.Name(*path);
    Mark mark{name, 0, 0};
    ReadError error;
    StatusOr<std::string> text = tree_.Read(*path, &error);
    if (!text.ok()) {
      std::string why = "cannot read the pipeline file: " + text.status().message();
      if (error.kind == ReadError::Kind::kSymlink) {
        why = "Invalid configuration format (" + LinkNote(error) + ")";
      } else if (error.kind == ReadError::Kind::kSymlinkInPath) {
        why = "cannot read the pipeline file: no such file (" + LinkNote(error) + ")";
      }
      diags_->Error(mark, why);
      return std::nullopt;
    }
    Record(name, "local", false);
    return RootContent(*text, name);
  }

 private:
  // The root file's content, its includes expanded.
  std::optional<Node> RootContent(const std::string& text, const std::string& name) {
    Mark mark{name, 0, 0};
    std::optional<Node> content = Parse(text, name, &options_.inputs, mark, "");
    if (!content) return std::nullopt;
    if (content->IsNull() || (content->IsMap() && content->entries.empty())) {
      diags_->Error(mark, "Please provide content of " + name);
      return std::nullopt;
    }
    if (!content->IsMap()) {
      diags_->Error(content->mark, "Invalid configuration format");
      return std::nullopt;
    }
    return ExpandIncludes(std::move(*content));
  }

  // Parses a file's text, applies its `spec:inputs` header, and returns the
  // content document (null for an empty file).
  std::optional<Node> Parse(const std::string& text, const std::string& file, const Node* inputs,
                            const Mark& include_mark, const std::string& prefix) {
    std::optional<std::vector<Node>> docs = ParseYaml(text, file, diags_);
    if (!docs) return std::nullopt;
    bool has_inputs = inputs != nullptr && inputs->IsMap() && !inputs->entries.empty();
    if (!HasSpecHeader(*docs)) {
      if (has_inputs) {
        std::string names;
        for (const MapEntry& e : inputs->entries) names += (names.empty() ? "" : ", ") + e.key;
        diags_->Error(include_mark, prefix + "unknown input arguments: " + names);
        return std::nullopt;
      }
      return docs->empty() ? Node::Null(Mark{file, 1, 1}) : std::move((*docs)[0]);
    }
    Node content = std::move(docs->back());
    InputsSource source{include_mark.line > 0 ? include_mark : (*docs)[0].mark, prefix};
    if (!ApplyInputs((*docs)[0], inputs, source, Variables(), &content, diags_)) {
      return std::nullopt;
    }
    return content;
  }

  // Returns content with its includes merged in (GitLab: every included
  // file in order, then the including file on top).
  std::optional<Node> ExpandIncludes(Node content) {
    const MapEntry* include = content.FindEntry("include");
    if (include == nullptr) return content;
    Node include_value = include->value;
    content.Erase("include");
    std::vector<const Node*> entries;
    if (include_value.IsSequence()) {
      for (const Node& item : include_value.items) entries.push_back(&item);
    } else if (!include_value.IsNull()) {
      entries.push_back(&include_value);
    }
    if (options_.fetcher != nullptr) {
      std::vector<PrefetchRequest> requests = FetchesOf(entries);
      if (requests.size() > 1) options_.fetcher->Prefetch(requests);
    }
    Node merged = Node::Map(content.mark);
    bool ok = true;
    for (const Node* entry : entries) {
      if (!IncludeEntry(*entry, &merged)) ok = false;
      if (limit_reached_) return std::nullopt;
    }
    if (!ok) return std::nullopt;
    DeepMerge(&merged, std::move(content));
    return merged;
  }

  // What entries will surely fetch: remote, template and project entries
  // without `rules:` and without variables in what they name (which could
  // ask for the project's variables, or lead elsewhere). A project is
  // listed once, with the first ref it is included at.
  static std::vector<PrefetchRequest> FetchesOf(const std::vector<const Node*>& entries) {
    std::vector<PrefetchRequest> out;
    auto plain = [](const Node* n) {
      return n != nullptr && n->IsScalar() && n->scalar.find('$') == std::string::npos;
    };
    std::vector<std::string> projects;
    for (const Node* entry : entries) {
      if (entry->IsScalar()) {
        if (plain(entry) && IsUrl(entry->scalar)) {
          out.push_back({PrefetchRequest::Kind::kUrl, entry->scalar, ""});
        }
        continue;
      }
      if (!entry->IsMap() || entry->Find("rules") != nullptr) continue;
      if (plain(entry->Find("remote"))) {
        out.push_back({PrefetchRequest::Kind::kUrl, entry->Find("remote")->scalar, ""});
      } else if (plain(entry->Find("template"))) {
        out.push_back({PrefetchRequest::Kind::kTemplate, entry->Find("template")->scalar, ""});
      } else if (plain(entry->Find("project")) && entry->Find("file") != nullptr) {
        const Node* ref = entry->Find("ref");
        if (ref != nullptr && !plain(ref)) continue;
        std::string project = entry->Find("project")->scalar;
        for (char& c : project) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (std::find(projects.begin(), projects.end(), project) != projects.end()) continue;
        projects.push_back(project);
        out.push_back({PrefetchRequest::Kind::kProject, project, ref ? ref->scalar : "HEAD"});
      }
    }
    return out;
  }

  // Handles one item of `include:`; merges what it names into merged.
  bool IncludeEntry(const Node& entry, Node* merged) {
    if (entry.IsScalar()) {
      std::string location = Expand(entry.scalar);
      if (IsUrl(location)) return IncludeRemote(location, nullptr, entry.mark, merged);
      return IncludeLocal(location, nullptr, entry.mark, merged);
    }
    if (!entry.IsMap()) {
      diags_->Error(entry.mark, "include config should be a hash, a string or an array of them");
      return false;
    }
    for (const MapEntry& e : entry.entries) {
      bool known = false;
      for (std::string_view key : kIncludeKeys) known = known || e.key == key;
      if (!known) {
        diags_->Error(e.key_mark, "include config contains unknown keys: " + e.key);
        return false;
      }
    }
    std::vector<std::string_view> types;
    if (entry.Find("local")) types.push_back("local");
    if (entry.Find("project") && entry.Find("file")) types.push_back("project");
    if (entry.Find("remote")) types.push_back("remote");
    if (entry.Find("template")) types.push_back("template");
    if (entry.Find("artifact") && entry.Find("job")) types.push_back("artifact");
    if (entry.Find("component")) types.push_back("component");
    if (types.size() != 1) {
      diags_->Error(entry.mark,
                    types.empty()
                        ? "include does not have a valid subkey. Valid subkeys are: `local`, "
                          "`project`, `remote`, `template`, `artifact`, `component`"
                        : "Each include must use only one of: `local`, `project`, `remote`, "
                          "`template`, `artifact`, `component`");
      return false;
    }
    std::optional<bool> allowed =
        entry.Find("rules") == nullptr
            ? std::optional<bool>(true)
            : EvaluateIncludeRules(entry.Find("rules"), current_ ? *current_ : tree_, Variables(),
                                   diags_);
    if (!allowed) return false;
    if (!*allowed) return true;
    if (types[0] == "remote" || types[0] == "template") {
      const Node& where = *entry.Find(types[0]);
      if (!where.IsScalar()) {
        diags_->Error(where.mark, "Included file `" + where.scalar + "` needs to be a string");
        return false;
      }
      if (types[0] == "remote") {
        return IncludeRemote(Expand(where.scalar), entry.Find("inputs"), entry.mark, merged);
      }
      return IncludeTemplate(Expand(where.scalar), entry.Find("inputs"), entry.mark, merged);
    }
    if (types[0] == "project" && options_.fetcher != nullptr) return IncludeProject(entry, merged);
    if (types[0] == "artifact" && options_.read_artifact) return IncludeArtifact(entry, merged);
    if (types[0] == "component" && options_.fetcher != nullptr) {
      return IncludeComponent(entry, merged);
    }
    if (types[0] != "local") {
      if (types[0] == "project" && entry.Find("file")->IsSequence()) {
        Node one = entry;
        bool ok = true;
        for (const Node& file : entry.Find("file")->items) {
          one.Set("file", file);
          ok = CannotFetch(entry.mark, DescribeRemote(one, "project")) && ok;
        }
        return ok;
      }
      return CannotFetch(entry.mark, DescribeRemote(entry, types[0]));
    }
    const Node& local = *entry.Find("local");
    if (!local.IsScalar()) {
      diags_->Error(local.mark, "Included file `" + local.scalar + "` needs to be a string");
      return false;
    }
    return IncludeLocal(Expand(local.scalar), entry.Find("inputs"), entry.mark, merged);
  }

  // The variables includes see, read on first use (LoadOptions::lazy_variables).
  const VariableList& Variables() {
    if (!options_.lazy_variables) return options_.variables;
    if (!lazy_) lazy_ = options_.lazy_variables();
    return *lazy_;
  }

  // An include location with variables expanded; one without `$` is its own
  // expansion, and asks for no variables.
  std::string Expand(const std::string& text) {
    if (text.find('$') == std::string::npos) return text;
    return ExpandVariables(text, Variables());
  }

  bool CannotFetch(const Mark& mark, const std::string& what) {
    diags_->Error(mark, "cannot fetch `" + what +
                            "`: slipway runs pipelines offline and reads only `local` includes");
    return false;
  }

  bool IncludeLocal(const std::string& location, const Node* inputs, const Mark& mark,
                    Node* merged) {
    if (current_ == nullptr) {
      // Inside a remote file or a template: GitLab drops the project
      // context there, so there is no project to read from.
      diags_->Error(mark, "Local file `" + location + "` does not have project!");
      return false;
    }
    std::string path = location;
    while (!path.empty() && path.front() == '/') path.erase(path.begin());
    if (path.find('*') == std::string::npos) return IncludeFile(path, inputs, mark, merged);
    // GitLab turns each match into a plain `{local: path}`: inputs given
    // next to a wildcard do not reach the matched files.
    StatusOr<std::vector<std::string>> matches = current_->Find(path, GlobSyntax::kIncludeWildcard);
    if (!matches.ok()) {
      diags_->Error(mark, matches.status().message());
      return false;
    }
    bool ok = true;
    for (const std::string& match : *matches) {
      ok = IncludeFile(match, nullptr, mark, merged) && ok;
      if (limit_reached_) return false;
    }
    return ok;
  }

  // Counts one more included file; false (reported) past GitLab's limit.
  bool CountInclude(const Mark& mark) {
    if (include_count_ >= kMaxIncludes) {
      diags_->Error(mark,
                    "Maximum of " + std::to_string(kMaxIncludes) + " nested includes are allowed!");
      limit_reached_ = true;
      return false;
    }
    ++include_count_;
    return true;
  }

  void Record(const std::string& name, const std::string& origin, bool from_cache) {
    if (options_.sources != nullptr) options_.sources->push_back({name, origin, from_cache});
  }

  // include:remote. GitLab's checks in its order: the extension, the
  // address, then the fetch; its messages name the URL with credentials
  // masked.
  bool IncludeRemote(const std::string& url, const Node* inputs, const Mark& mark, Node* merged) {
    if (!CountInclude(mark)) return false;
    std::string shown = RedactUrlCredentials(url);
    HttpUrl parsed;
    bool valid = ParseHttpUrl(url, &parsed);
    std::string path = valid ? parsed.target.substr(0, parsed.target.find('?')) : url;
    if (!HasYamlExtension(path)) {
      diags_->Error(mark, "Included file `" + shown + "` does not have YAML extension!");
      return false;
    }
    if (!valid) {
      diags_->Error(mark, "Remote file `" + shown + "` does not have a valid address!");
      return false;
    }
    if (options_.fetcher == nullptr) return CannotFetch(mark, "remote:" + shown);
    FetchError error;
    StatusOr<FetchedFile> file = options_.fetcher->FetchUrl(url, &error);
    if (!file.ok()) {
      diags_->Error(mark, RemoteFetchMessage(shown, error));
      return false;
    }
    Record(shown, file->origin, file->from_cache);
    return MergeFetched(shown, file->content, inputs, mark, merged, nullptr);
  }

  // include:template: a name ending in `.gitlab-ci.yml`, read from the
  // fetcher's template source.
  bool IncludeTemplate(const std::string& name, const Node* inputs, const Mark& mark,
                       Node* merged) {
    if (!CountInclude(mark)) return false;
    if (!HasYamlExtension(name)) {
      diags_->Error(mark, "Included file `" + name + "` does not have YAML extension!");
      return false;
    }
    constexpr std::string_view kSuffix = ".gitlab-ci.yml";
    if (name.size() < kSuffix.size() ||
        name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) {
      diags_->Error(mark, "Template file `" + name + "` is not a valid location!");
      return false;
    }
    if (options_.fetcher == nullptr) return CannotFetch(mark, "template:" + name);
    FetchError error;
    StatusOr<FetchedFile> file = options_.fetcher->FetchTemplate(name, &error);
    if (!file.ok()) {
      if (error.kind == FetchError::Kind::kHttpStatus && error.http_status == 404) {
        diags_->Error(mark, "Included file `" + name + "` is empty or does not exist!");
      } else {
        diags_->Error(mark, "Template file `" + name +
                                "` could not be fetched: " + RedactUrlCredentials(error.detail));
      }
      return false;
    }
    Record(name, file->origin, file->from_cache);
    return MergeFetched(name, file->content, inputs, mark, merged, nullptr);
  }

  // A fetched include's content (GitLab's message when it is blank), merged;
  // its own includes see context as their project (null: none), whose
  // files come from origin.
  bool MergeFetched(const std::string& name, const std::string& text, const Node* inputs,
                    const Mark& mark, Node* merged, const SourceTree* context,
                    const std::string& origin = "") {
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
      diags_->Error(mark, "Included file `" + name + "` is empty or does not exist!");
      return false;
    }
    const SourceTree* outer = current_;
    std::string outer_origin = std::move(current_origin_);
    current_ = context;
    current_origin_ = context != nullptr ? origin : "";
    bool ok = MergeIncluded(name, text, inputs, mark, merged);
    current_ = outer;
    current_origin_ = std::move(outer_origin);
    return ok;
  }

  // include:project: each `file` of `project` at `ref` (default HEAD),
  // fetched with git; the files' own `local` includes are read from that
  // project at that commit, as GitLab does.
  bool IncludeProject(const Node& entry, Node* merged) {
    const Node& project_node = *entry.Find("project");
    const Node* ref_node = entry.Find("ref");
    if (!project_node.IsScalar() || (ref_node != nullptr && !ref_node->IsScalar())) {
      diags_->Error(entry.mark, "include `project` and `ref` must be strings");
      return false;
    }
    std::string project = Expand(project_node.scalar);
    for (char& c : project) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string ref = ref_node != nullptr ? Expand(ref_node->scalar) : "HEAD";
    std::vector<const Node*> files;
    const Node& file_node = *entry.Find("file");
    if (file_node.IsSequence()) {
      for (const Node& f : file_node.items) files.push_back(&f);
    } else {
      files.push_back(&file_node);
    }
    const SourceTree* tree = nullptr;
    std::optional<ProjectCommit> project_commit;  // Set with tree.
    std::string origin;
    bool from_cache = false;
    bool ok = true;
    for (const Node* f : files) {
      if (!CountInclude(entry.mark)) return false;
      if (!f->IsScalar()) {
        diags_->Error(f->mark, "Included file `" + f->scalar + "` needs to be a string");
        ok = false;
        continue;
      }
      std::string path = Expand(f->scalar);
      while (!path.empty() && path.front() == '/') path.erase(path.begin());
      if (!HasYamlExtension(path)) {
        diags_->Error(entry.mark, "Included file `" + path + "` does not have YAML extension!");
        ok = false;
        continue;
      }
      if (tree == nullptr) {
        FetchError error;
        StatusOr<ProjectCommit> commit = options_.fetcher->FetchProject(project, ref, &error);
        if (!commit.ok()) {
          diags_->Error(entry.mark, ProjectFetchMessage(project, ref, error));
          return false;
        }
        project_trees_.push_back(
            SourceTree::AtCommit(commit->repo_dir, commit->commit, project + "@" + ref));
        tree = &project_trees_.back();
        project_commit = *commit;
        origin = commit->origin + " " + commit->commit;
        from_cache = commit->from_cache;
      }
      ReadError read_error;
      StatusOr<std::string> text =
          options_.fetcher->ReadProjectFile(*project_commit, *tree, path, &read_error);
      if (!text.ok()) {
        diags_->Error(entry.mark, "Project `" + project + "` file `" + path + "` does not exist!");
        ok = false;
        continue;
      }
      if (text->find_first_not_of(" \t\r\n") == std::string::npos) {
        diags_->Error(entry.mark, "Project `" + project + "` file `" + path + "` is empty!");
        ok = false;
        continue;
      }
      std::string name = tree->Name(path);
      Record(name, origin, from_cache);
      ok = MergeFetched(name, *text, entry.Find("inputs"), entry.mark, merged, tree, origin) && ok;
      if (limit_reached_) return false;
    }
    return ok;
  }

  // An included file's text (not blank), parsed with its inputs, its own
  // includes expanded, merged into merged.
  bool MergeIncluded(const std::string& name, const std::string& text, const Node* inputs,
                     const Mark& mark, Node* merged) {
    std::string prefix = "`" + name + "`: ";
    std::optional<Node> content = Parse(text, name, inputs, mark, prefix);
    if (!content) return false;
    if (!content->IsMap()) {
      diags_->Error(mark, "Included file `" + name + "` does not have valid YAML syntax!");
      return false;
    }
    std::optional<Node> expanded = ExpandIncludes(std::move(*content));
    if (!expanded) return false;
    DeepMerge(merged, std::move(*expanded));
    return true;
  }

  // include:component: `host/group/project/name@version`, the template
  // `templates/<name>.yml` or `templates/<name>/template.yml` of the
  // project's commit that version names; its `local` includes are read from
  // that project, as GitLab does. Messages in GitLab's wording
  // (Ci::Components::FetchService).
  bool IncludeComponent(const Node& entry, Node* merged) {
    const Node& where = *entry.Find("component");
    if (!where.IsScalar()) {
      diags_->Error(where.mark, "Included file `" + where.scalar + "` needs to be a string");
      return false;
    }
    if (!CountInclude(entry.mark)) return false;
    std::string address = Expand(where.scalar);
    std::string prefix = "Component '" + address + "' - ";
    size_t at = address.find('@');
    std::string path = address.substr(0, at);
    size_t host_end = path.find('/');
    size_t name_start = path.rfind('/');
    if (at == std::string::npos || host_end == std::string::npos || name_start == host_end) {
      diags_->Error(entry.mark, prefix + "the component path is not supported");
      return false;
    }
    std::string host = path.substr(0, host_end);
    std::string project = path.substr(host_end + 1, name_start - host_end - 1);
    std::string name = path.substr(name_start + 1);
    std::string version = address.substr(at + 1);
    FetchError error;
    StatusOr<ProjectCommit> commit =
        options_.fetcher->FetchComponent(host, project, version, &error);
    if (!commit.ok()) {
      diags_->Error(entry.mark, ComponentFetchMessage(address, error));
      return false;
    }
    project_trees_.push_back(
        SourceTree::AtCommit(commit->repo_dir, commit->commit, project + "@" + commit->ref));
    const SourceTree* tree = &project_trees_.back();
    for (const std::string& file :
         {"templates/" + name + ".yml", "templates/" + name + "/template.yml"}) {
      ReadError read_error;
      StatusOr<std::string> text =
          options_.fetcher->ReadProjectFile(*commit, *tree, file, &read_error);
      if (!text.ok()) continue;
      std::string origin = commit->origin + " " + commit->commit;
      Record(tree->Name(file), origin, commit->from_cache);
      return MergeFetched(tree->Name(file), *text, entry.Find("inputs"), entry.mark, merged, tree,
                          origin);
    }
    diags_->Error(entry.mark, prefix + "content not found (no templates/" + name +
                                  ".yml or templates/" + name + "/template.yml at " + commit->ref +
                                  ")");
    return false;
  }

  // include:artifact with job: a file a job of the parent pipeline kept as
  // an artifact (LoadOptions::read_artifact). Its own `local` includes are
  // read from the project, as GitLab does.
  bool IncludeArtifact(const Node& entry, Node* merged) {
    const Node& artifact = *entry.Find("artifact");
    const Node& job = *entry.Find("job");
    if (!artifact.IsScalar() || !job.IsScalar()) {
      diags_->Error(entry.mark, "include:artifact and include:job should be strings");
      return false;
    }
    if (!CountInclude(entry.mark)) return false;
    if (!HasYamlExtension(artifact.scalar)) {
      diags_->Error(entry.mark,
                    "Included file `" + artifact.scalar + "` does not have YAML extension!");
      return false;
    }
    StatusOr<LoadOptions::ArtifactFile> file = options_.read_artifact(job.scalar, artifact.scalar);
    if (!file.ok()) {
      diags_->Error(entry.mark, file.status().message());
      return false;
    }
    Record(file->name, "artifact", false);
    return MergeIncluded(file->name, file->text, entry.Find("inputs"), entry.mark, merged);
  }

  bool IncludeFile(const std::string& path, const Node* inputs, const Mark& mark, Node* merged) {
    if (!CountInclude(mark)) return false;
    if (!HasYamlExtension(path)) {
      diags_->Error(mark, "Included file `" + path + "` does not have YAML extension!");
      return false;
    }
    std::string name = current_->Name(path);
    ReadError error;
    StatusOr<std::string> text = current_->Read(path, &error);
    if (!text.ok()) {
      diags_->Error(mark, LocalFileError(name, error, text.status()));
      return false;
    }
    if (text->find_first_not_of(" \t\r\n") == std::string::npos) {
      diags_->Error(mark, "Local file `" + name + "` is empty!");
      return false;
    }
    Record(name, current_origin_, false);
    return MergeIncluded(name, *text, inputs, mark, merged);
  }

  const LoadOptions& options_;
  Diagnostics* diags_;
  SourceTree tree_;  // Where files are read: disk or options_.commit.
  // The project `local` includes read from: tree_, a project_trees_ entry
  // inside a project include, null inside a remote file or a template.
  const SourceTree* current_;
  std::deque<SourceTree> project_trees_;  // Stable addresses.
  std::string current_origin_ = "local";  // How Record names current_'s origin.
  std::optional<VariableList> lazy_;
  int include_count_ = 0;
  bool limit_reached_ = false;
};

// GitLab's reserved top-level keywords: never jobs, never extended.
bool IsReservedKeyword(std::string_view key) {
  for (std::string_view word : {"include", "before_script", "image", "services", "after_script",
                                "variables", "stages", "cache"}) {
    if (key == word) return true;
  }
  return false;
}

// GitLab resolves `extends` before `!reference` (Config#build_config: load,
// includes, extends, tags), so a reference may name keys that a template
// only gets through `extends`. Running extends here as well as in the
// pipeline builder is harmless: merging an entry's parents into it again
// changes nothing.
bool ResolveTopLevelExtends(Node* root, Diagnostics* diags) {
  std::vector<MapEntry> candidates;
  std::vector<size_t> positions;
  for (size_t i = 0; i < root->entries.size(); ++i) {
    const std::string& key = root->entries[i].key;
    if (IsReservedKeyword(key) || key == "spec") continue;
    candidates.push_back(std::move(root->entries[i]));
    positions.push_back(i);
  }
  bool ok = ResolveExtends(&candidates, diags);
  for (size_t k = 0; k < positions.size(); ++k) {
    // Once resolved, `extends` has done its work; dropping it spares the
    // pipeline builder merging every parent a second time.
    if (ok) candidates[k].value.Erase("extends");
    root->entries[positions[k]] = std::move(candidates[k]);
  }
  return ok;
}

}  // namespace

std::optional<Node> LoadConfig(const LoadOptions& options, Diagnostics* diags) {
  Loader loader(options, diags);
  std::optional<Node> config = loader.LoadRoot();
  if (!config) return std::nullopt;
  if (!ResolveTopLevelExtends(&*config, diags)) return std::nullopt;
  if (!ResolveReferences(&*config, diags)) return std::nullopt;
  if (diags->HasErrors()) return std::nullopt;
  return config;
}

}  // namespace slipway

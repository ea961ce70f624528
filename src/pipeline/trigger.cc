#include "pipeline/trigger.h"

#include <span>
#include <string_view>

namespace slipway {
namespace {

// Reads a `forward:` flag; false (reported) when it is not a boolean.
bool ReadFlag(const Node& forward, std::string_view key, bool* out, const std::string& job,
              Diagnostics* diags) {
  const Node* value = forward.Find(key);
  if (value == nullptr) return true;
  std::optional<bool> flag = value->AsBool();
  if (!flag) {
    diags->Error(value->mark, std::string(key) + " should be a boolean value", job,
                 "trigger:forward:" + std::string(key));
    return false;
  }
  *out = *flag;
  return true;
}

bool ReadString(const Node& map, std::string_view key, std::string* out, const std::string& job,
                Diagnostics* diags) {
  const Node* value = map.Find(key);
  if (value == nullptr) return true;
  if (!value->IsScalar()) {
    diags->Error(value->mark, std::string(key) + " should be a string", job,
                 "trigger:" + std::string(key));
    return false;
  }
  *out = value->scalar;
  return true;
}

}  // namespace

std::optional<Trigger> ParseTrigger(const Node& node, const std::string& job, Diagnostics* diags) {
  Trigger trigger;
  trigger.mark = node.mark;
  if (node.IsScalar()) {
    // `trigger: group/project`: the short form of trigger:project.
    trigger.kind = Trigger::Kind::kProject;
    trigger.project = node.scalar;
    if (trigger.project.empty()) {
      diags->Error(node.mark, "trigger can't be blank", job, "trigger");
      return std::nullopt;
    }
    return trigger;
  }
  if (!node.IsMap()) {
    diags->Error(node.mark, "trigger should be a string or a hash", job, "trigger");
    return std::nullopt;
  }
  const Node* include = node.Find("include");
  const Node* project = node.Find("project");
  static constexpr std::string_view kChildKeys[] = {"include", "strategy", "forward", "inputs"};
  static constexpr std::string_view kProjectKeys[] = {"project", "branch", "strategy", "forward",
                                                      "inputs"};
  if (include != nullptr && project != nullptr) {
    diags->Error(node.mark, "these keys cannot be used together: include, project", job, "trigger");
    return std::nullopt;
  }
  if (include == nullptr && project == nullptr) {
    diags->Error(node.mark, "trigger config is missing `include` or `project`", job, "trigger");
    return std::nullopt;
  }
  std::span<const std::string_view> allowed = include != nullptr
                                                  ? std::span<const std::string_view>(kChildKeys)
                                                  : std::span<const std::string_view>(kProjectKeys);
  for (const MapEntry& e : node.entries) {
    bool known = false;
    for (std::string_view key : allowed) known = known || e.key == key;
    if (!known) {
      diags->Error(e.key_mark, "trigger config contains unknown keys: " + e.key, job, "trigger");
      return std::nullopt;
    }
  }
  if (include != nullptr) {
    trigger.kind = Trigger::Kind::kChild;
    if (include->IsSequence()) {
      trigger.include = *include;
    } else if (include->IsScalar() || include->IsMap()) {
      trigger.include = Node::Sequence(include->mark);
      trigger.include.items.push_back(*include);
    } else {
      diags->Error(include->mark, "include config should be a hash, a string or an array of them",
                   job, "trigger:include");
      return std::nullopt;
    }
    if (trigger.include.items.empty()) {
      diags->Error(include->mark, "include config can't be blank", job, "trigger:include");
      return std::nullopt;
    }
    if (trigger.include.items.size() > kMaxTriggerIncludes) {
      diags->Error(include->mark,
                   "include config must not contain more than " +
                       std::to_string(kMaxTriggerIncludes) + " entries",
                   job, "trigger:include");
      return std::nullopt;
    }
  } else {
    trigger.kind = Trigger::Kind::kProject;
    if (!ReadString(node, "project", &trigger.project, job, diags) ||
        !ReadString(node, "branch", &trigger.branch, job, diags)) {
      return std::nullopt;
    }
    if (trigger.project.empty()) {
      diags->Error(project->mark, "project can't be blank", job, "trigger:project");
      return std::nullopt;
    }
  }
  if (const Node* strategy = node.Find("strategy")) {
    if (!strategy->IsScalar() || (strategy->scalar != "depend" && strategy->scalar != "mirror")) {
      diags->Error(strategy->mark, "strategy should be depend or mirror", job, "trigger:strategy");
      return std::nullopt;
    }
    trigger.strategy = strategy->scalar;
    trigger.depend = true;
  }
  if (const Node* forward = node.Find("forward")) {
    if (!forward->IsMap()) {
      diags->Error(forward->mark, "forward should be a hash", job, "trigger:forward");
      return std::nullopt;
    }
    for (const MapEntry& e : forward->entries) {
      if (e.key != "yaml_variables" && e.key != "pipeline_variables") {
        diags->Error(e.key_mark, "forward config contains unknown keys: " + e.key, job,
                     "trigger:forward");
        return std::nullopt;
      }
    }
    if (!ReadFlag(*forward, "yaml_variables", &trigger.forward_yaml_variables, job, diags) ||
        !ReadFlag(*forward, "pipeline_variables", &trigger.forward_pipeline_variables, job,
                  diags)) {
      return std::nullopt;
    }
  }
  return trigger;
}

std::optional<Node> StaticTriggerIncludes(const Trigger& trigger) {
  if (trigger.kind != Trigger::Kind::kChild) return std::nullopt;
  for (const Node& entry : trigger.include.items) {
    if (entry.IsMap() && entry.Find("artifact") != nullptr) return std::nullopt;
  }
  return trigger.include;
}

LoadOptions ChildLoadOptions(const Trigger& trigger, const PipelineContext& child,
                             IncludeFetcher* fetcher) {
  LoadOptions load;
  load.project_dir = child.project_dir;
  load.file = trigger.mark.file;
  load.commit = child.commit;
  load.commit_label = child.commit_label;
  load.variables = child.predefined;
  load.variables.Merge(child.cli_variables);
  load.fetcher = fetcher;
  load.root_include = trigger.include;
  return load;
}

}  // namespace slipway

#include "exec/remote_job.h"

#include <string>
#include <vector>

namespace slipway {

namespace {

using nlohmann::json;

json Strings(const std::vector<std::string>& items) { return json(items); }

// Reads members of one JSON object, remembering the first error with the
// member's path.
class Reader {
 public:
  Reader(const json& object, std::string path, Status* error)
      : object_(object), path_(std::move(path)), error_(error) {
    if (!object_.is_object()) Fail(path_, "expected an object");
  }

  const json* Member(const std::string& key) const {
    if (!object_.is_object()) return nullptr;
    auto it = object_.find(key);
    return it == object_.end() || it->is_null() ? nullptr : &*it;
  }
  std::string Path(const std::string& key) const { return path_ + "." + key; }

  void String(const std::string& key, std::string* out) const {
    const json* v = Member(key);
    if (v == nullptr) return;
    if (!v->is_string()) return Fail(Path(key), "expected a string");
    *out = v->get<std::string>();
  }
  void Bool(const std::string& key, bool* out) const {
    const json* v = Member(key);
    if (v == nullptr) return;
    if (!v->is_boolean()) return Fail(Path(key), "expected true or false");
    *out = v->get<bool>();
  }
  void Int(const std::string& key, int64_t* out) const {
    const json* v = Member(key);
    if (v == nullptr) return;
    if (!v->is_number_integer()) return Fail(Path(key), "expected an integer");
    *out = v->get<int64_t>();
  }
  void Strings(const std::string& key, std::vector<std::string>* out) const {
    const json* v = Member(key);
    if (v == nullptr) return;
    if (!v->is_array()) return Fail(Path(key), "expected an array of strings");
    out->clear();
    for (size_t i = 0; i < v->size(); ++i) {
      if (!(*v)[i].is_string()) {
        return Fail(Path(key) + "[" + std::to_string(i) + "]", "expected a string");
      }
      out->push_back((*v)[i].get<std::string>());
    }
  }
  // Each element of the array key, as an object with its own Reader.
  template <typename F>
  void Objects(const std::string& key, F each) const {
    const json* v = Member(key);
    if (v == nullptr) return;
    if (!v->is_array()) return Fail(Path(key), "expected an array");
    for (size_t i = 0; i < v->size() && error_->ok(); ++i) {
      each(Reader((*v)[i], Path(key) + "[" + std::to_string(i) + "]", error_));
    }
  }
  void Fail(const std::string& path, const std::string& why) const {
    if (error_->ok()) *error_ = Status::Error(path + ": " + why);
  }

 private:
  const json& object_;
  std::string path_;
  Status* error_;
};

json ArtifactsJson(const Artifacts& a) {
  json reports = json::object();
  for (const auto& [type, paths] : a.reports) reports[type] = paths;
  return {{"present", a.present},     {"paths", a.paths},  {"exclude", a.exclude},
          {"untracked", a.untracked}, {"when", a.when},    {"expire_in", a.expire_in},
          {"name", a.name},           {"reports", reports}};
}

void ReadArtifacts(const Reader& r, Artifacts* a, Status* error) {
  r.Bool("present", &a->present);
  r.Strings("paths", &a->paths);
  r.Strings("exclude", &a->exclude);
  r.Bool("untracked", &a->untracked);
  r.String("when", &a->when);
  r.String("expire_in", &a->expire_in);
  r.String("name", &a->name);
  if (const json* reports = r.Member("reports")) {
    Reader each(*reports, r.Path("reports"), error);
    if (!reports->is_object()) return;
    for (const auto& [type, paths] : reports->items()) each.Strings(type, &a->reports[type]);
  }
}

}  // namespace

json RemoteJobToJson(const Job& job, const JobSpec& spec) {
  json caches = json::array();
  for (const Cache& c : job.caches) {
    caches.push_back({{"key", c.key},
                      {"key_files", c.key_files},
                      {"key_prefix", c.key_prefix},
                      {"paths", c.paths},
                      {"untracked", c.untracked},
                      {"policy", c.policy},
                      {"when", c.when},
                      {"fallback_keys", c.fallback_keys}});
  }
  json j = {{"name", job.name},
            {"stage", job.stage},
            {"before_script", Strings(job.before_script)},
            {"script", Strings(job.script)},
            {"after_script", Strings(job.after_script)},
            {"allow_failure", job.allow_failure.value},
            {"allow_failure_exit_codes", job.allow_failure.exit_codes},
            {"artifacts", ArtifactsJson(job.artifacts)},
            {"caches", caches},
            {"tags", job.tags},
            {"coverage", job.coverage},
            {"interruptible", job.interruptible}};
  if (job.timeout_seconds) j["timeout_seconds"] = *job.timeout_seconds;
  json variables = json::array();
  for (const Variable& v : spec.variables.items()) {
    variables.push_back({{"key", v.name}, {"value", v.value}, {"expand", v.expand}});
  }
  json from = json::array();
  for (const JobSpec::ArtifactSource& a : spec.artifacts_from) {
    from.push_back({{"job_id", a.job_id}, {"job_name", a.job_name}});
  }
  json s = {{"job_id", spec.job_id},
            {"commit", spec.commit},
            {"variables", variables},
            {"artifacts_from", from},
            {"attempt", spec.attempt}};
  if (spec.timeout) s["timeout_ms"] = spec.timeout->count();
  return {{"job", j}, {"spec", s}};
}

Status RemoteJobFromJson(const json& message, Job* job, JobSpec* spec) {
  Status error;
  Reader top(message, "message", &error);
  const json* job_json = top.Member("job");
  const json* spec_json = top.Member("spec");
  if (job_json == nullptr || spec_json == nullptr) {
    top.Fail("message", "expected members job and spec");
    return error;
  }
  Reader j(*job_json, "job", &error);
  j.String("name", &job->name);
  job->base_name = job->name;
  j.String("stage", &job->stage);
  j.Strings("before_script", &job->before_script);
  j.Strings("script", &job->script);
  j.Strings("after_script", &job->after_script);
  j.Bool("allow_failure", &job->allow_failure.value);
  if (const json* codes = j.Member("allow_failure_exit_codes")) {
    if (!codes->is_array()) j.Fail(j.Path("allow_failure_exit_codes"), "expected an array");
    for (const json& c : codes->is_array() ? *codes : json::array()) {
      if (!c.is_number_integer()) {
        j.Fail(j.Path("allow_failure_exit_codes"), "expected integers");
        break;
      }
      job->allow_failure.exit_codes.push_back(c.get<int>());
    }
  }
  if (const json* a = j.Member("artifacts")) {
    ReadArtifacts(Reader(*a, "job.artifacts", &error), &job->artifacts, &error);
  }
  j.Objects("caches", [&](const Reader& c) {
    Cache cache;
    c.String("key", &cache.key);
    c.Strings("key_files", &cache.key_files);
    c.String("key_prefix", &cache.key_prefix);
    c.Strings("paths", &cache.paths);
    c.Bool("untracked", &cache.untracked);
    c.String("policy", &cache.policy);
    c.String("when", &cache.when);
    c.Strings("fallback_keys", &cache.fallback_keys);
    job->caches.push_back(std::move(cache));
  });
  j.Strings("tags", &job->tags);
  j.String("coverage", &job->coverage);
  j.Bool("interruptible", &job->interruptible);
  int64_t timeout_seconds = -1;
  j.Int("timeout_seconds", &timeout_seconds);
  if (timeout_seconds >= 0) job->timeout_seconds = timeout_seconds;

  Reader s(*spec_json, "spec", &error);
  s.Int("job_id", &spec->job_id);
  s.String("commit", &spec->commit);
  s.Objects("variables", [&](const Reader& v) {
    Variable variable;
    v.String("key", &variable.name);
    v.String("value", &variable.value);
    v.Bool("expand", &variable.expand);
    if (variable.name.empty()) v.Fail("spec.variables", "a variable without a key");
    spec->variables.Set(std::move(variable));
  });
  s.Objects("artifacts_from", [&](const Reader& a) {
    JobSpec::ArtifactSource from;
    a.Int("job_id", &from.job_id);
    a.String("job_name", &from.job_name);
    spec->artifacts_from.push_back(std::move(from));
  });
  int64_t timeout_ms = -1;
  s.Int("timeout_ms", &timeout_ms);
  if (timeout_ms >= 0) spec->timeout = std::chrono::milliseconds(timeout_ms);
  int64_t attempt = 1;
  s.Int("attempt", &attempt);
  spec->attempt = static_cast<int>(attempt);
  if (error.ok() && spec->job_id <= 0) error = Status::Error("spec.job_id: expected a job id");
  if (error.ok() && spec->commit.empty()) error = Status::Error("spec.commit: expected a commit");
  return error;
}

}  // namespace slipway

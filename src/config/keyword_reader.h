// Typed reading of keyword values from the YAML tree, with GitLab's type
// rules and its wording for type errors. Every problem becomes an error
// diagnostic "file:line:col: error: job 'x', key 'k': message" pointing at
// the offending node; readers then return nullopt so that callers can keep
// going and report further problems in the same run.
#ifndef SLIPWAY_CONFIG_KEYWORD_READER_H_
#define SLIPWAY_CONFIG_KEYWORD_READER_H_

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/node.h"
#include "util/diagnostic.h"

namespace slipway {

class KeywordReader {
 public:
  // job may be empty for top-level keywords; key_prefix (e.g. "default") is
  // put before every key reported. diags must outlive the reader.
  KeywordReader(Diagnostics* diags, std::string job, std::string key_prefix = {})
      : diags_(diags), job_(std::move(job)), key_prefix_(std::move(key_prefix)) {}

  const std::string& job() const { return job_; }
  Diagnostics* diags() const { return diags_; }
  // Number of errors reported through this reader.
  int errors() const { return errors_; }

  void Error(const Mark& mark, const std::string& key, std::string message);
  void Warning(const Mark& mark, const std::string& key, std::string message);

  // Reports "unknown key" for each entry of map not in allowed (the key is
  // reported as prefix + ":" + name, or name when prefix is empty), with
  // "; did you mean `x`?" when one of allowed is a few edits away. Returns
  // false if any was unknown.
  bool CheckKeys(const Node& map, std::span<const std::string_view> allowed,
                 const std::string& prefix);
  bool CheckKeys(const Node& map, std::initializer_list<std::string_view> allowed,
                 const std::string& prefix) {
    return CheckKeys(map, std::span<const std::string_view>(allowed.begin(), allowed.size()),
                     prefix);
  }

  // Each reader reports "<key>: should be ..." on a type mismatch.
  bool ExpectMap(const Node& n, const std::string& key);
  std::optional<std::string> String(const Node& n, const std::string& key);
  std::optional<bool> Bool(const Node& n, const std::string& key);
  std::optional<int64_t> Int(const Node& n, const std::string& key);
  // An array whose items are all strings.
  std::optional<std::vector<std::string>> StringArray(const Node& n, const std::string& key);
  // A string (a one-item list) or an array of strings.
  std::optional<std::vector<std::string>> StringOrStringArray(const Node& n,
                                                              const std::string& key);
  // An integer or an array of integers.
  std::optional<std::vector<int>> IntOrIntArray(const Node& n, const std::string& key);
  // A duration as GitLab's ChronicDuration reads it ("1h 30m", "3600"),
  // in seconds; "should be a duration", or "should not exceed the limit"
  // when limit_seconds is given and exceeded.
  std::optional<int64_t> Duration(const Node& n, const std::string& key,
                                  std::optional<int64_t> limit_seconds = std::nullopt);
  // script / before_script / after_script: a string or an array of strings
  // and arrays of strings nested up to 10 levels deep, flattened in order.
  // A bad item is reported at its own position, as key ":index" (e.g.
  // "script:3", "script:1:0" when nested).
  std::optional<std::vector<std::string>> Script(const Node& n, const std::string& key);

 private:
  Diagnostics* diags_;
  std::string job_;
  std::string key_prefix_;
  int errors_ = 0;
};

// map's value for key, or nullptr when the key is absent or its value is
// null: GitLab treats a keyword set to null as not specified.
const Node* FindValue(const Node& map, std::string_view key);

// True for a scalar that GitLab reads as a string (quoted, or plain text that
// is not null, a boolean or a number).
bool IsStringScalar(const Node& n);

// The text GitLab gives a scalar variable value: Ruby's to_s of what its YAML
// parser (YAML 1.1) produced, so `1.10` becomes "1.1", `yes` becomes "true"
// and `0x1f` becomes "31".
std::string ScalarToGitLabString(const Node& n);

}  // namespace slipway

#endif  // SLIPWAY_CONFIG_KEYWORD_READER_H_

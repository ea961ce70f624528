#include "exec/scheduler_parameters.h"

#include <utility>

namespace slipway {
namespace {

struct Refused {
  std::string_view long_name;  // Without the leading "--".
  char short_name;             // '\0': none.
  std::string_view why;
};

// sbatch's options the Slurm executor decides itself.
constexpr Refused kRefused[] = {
    {"output", 'o', "the executor collects the job's output"},
    {"error", 'e', "the executor collects the job's output"},
    {"input", 'i', "the job has no input"},
    {"open-mode", '\0', "the executor collects the job's output"},
    {"wait", 'W', "the executor follows the job itself"},
    {"parsable", '\0', "the executor reads sbatch's answer itself"},
    {"wrap", '\0', "the job's script is what runs"},
    {"array", 'a', "one CI job is one Slurm job"},
    {"export", '\0', "the job's variables are its environment"},
    {"export-file", '\0', "the job's variables are its environment"},
    {"chdir", 'D', "the job runs in its workspace"},
    {"uid", '\0', "the job runs as the executor's user"},
    {"gid", '\0', "the job runs as the executor's user"},
    {"time", 't', "the job's timeout: sets the time limit"},
};

// The refused option word names, or null.
const Refused* RefusedOption(std::string_view word) {
  if (word.size() > 2 && word.substr(0, 2) == "--") {
    std::string_view name = word.substr(2);
    name = name.substr(0, name.find('='));
    for (const Refused& r : kRefused) {
      if (name == r.long_name) return &r;
    }
    return nullptr;
  }
  // A short option, alone or with its value attached (-t10, -o/x).
  if (word.size() >= 2 && word[0] == '-' && word[1] != '-') {
    for (const Refused& r : kRefused) {
      if (r.short_name != '\0' && word[1] == r.short_name) return &r;
    }
  }
  return nullptr;
}

Status ColumnError(size_t column, const std::string& message) {
  return Status::Error(std::string(kSchedulerParametersVariable) + ": column " +
                       std::to_string(column) + ": " + message);
}

}  // namespace

StatusOr<std::vector<std::string>> ParseSchedulerParameters(std::string_view value) {
  std::vector<std::string> words;
  std::vector<size_t> starts;  // 1-based column of each word.
  std::string word;
  bool in_word = false;
  size_t i = 0;
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (i < value.size()) {
    char c = value[i];
    if (blank(c)) {
      if (in_word) words.push_back(std::exchange(word, "")), in_word = false;
      ++i;
      continue;
    }
    if (!in_word) starts.push_back(i + 1), in_word = true;
    if (c == '\'') {
      size_t end = value.find('\'', i + 1);
      if (end == std::string_view::npos) return ColumnError(i + 1, "unterminated ' quote");
      word.append(value.substr(i + 1, end - i - 1));
      i = end + 1;
    } else if (c == '"') {
      size_t open = i++;
      for (;;) {
        if (i >= value.size()) return ColumnError(open + 1, "unterminated \" quote");
        if (value[i] == '"') break;
        if (value[i] == '\\' && i + 1 < value.size() &&
            (value[i + 1] == '"' || value[i + 1] == '\\')) {
          ++i;
        }
        word += value[i++];
      }
      ++i;
    } else if (c == '\\') {
      if (i + 1 >= value.size()) return ColumnError(i + 1, "a backslash ends the value");
      word += value[i + 1];
      i += 2;
    } else {
      word += c;
      ++i;
    }
  }
  if (in_word) words.push_back(std::move(word));
  for (size_t w = 0; w < words.size(); ++w) {
    if (const Refused* r = RefusedOption(words[w]); r != nullptr) {
      return ColumnError(starts[w], "'" + words[w] + "' is not allowed: " + std::string(r->why));
    }
  }
  return words;
}

}  // namespace slipway

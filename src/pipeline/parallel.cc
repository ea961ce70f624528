#include "pipeline/parallel.h"

namespace slipway {
namespace {

struct MatrixEntry {
  std::vector<std::string> names;
  std::vector<std::vector<std::string>> values;
};

// One matrix entry: variable name -> a scalar or an array of scalars.
std::optional<MatrixEntry> ReadMatrixEntry(const Node& entry, const std::string& key,
                                           KeywordReader* reader) {
  if (!entry.IsMap()) {
    reader->Error(entry.mark, key, "should be an array of hashes");
    return std::nullopt;
  }
  if (entry.entries.empty()) {
    reader->Error(entry.mark, key, "requires at least 1 items");
    return std::nullopt;
  }
  MatrixEntry out;
  for (const MapEntry& e : entry.entries) {
    std::vector<std::string> values;
    if (e.value.IsScalar()) {
      values.push_back(ScalarToGitLabString(e.value));
    } else if (e.value.IsSequence()) {
      for (const Node& item : e.value.items) {
        if (!item.IsScalar()) {
          reader->Error(item.mark, key + ":" + e.key, "should be a string or an array of strings");
          return std::nullopt;
        }
        values.push_back(ScalarToGitLabString(item));
      }
    } else {
      reader->Error(e.value.mark, key + ":" + e.key, "should be a string or an array of strings");
      return std::nullopt;
    }
    out.names.push_back(e.key);
    out.values.push_back(std::move(values));
  }
  return out;
}

}  // namespace

std::optional<std::vector<ParallelInstance>> ExpandMatrix(const std::string& base_name,
                                                          const Node& matrix,
                                                          const std::string& key,
                                                          KeywordReader* reader) {
  if (!matrix.IsSequence()) {
    reader->Error(matrix.mark, key, "should be an array of hashes");
    return std::nullopt;
  }
  std::vector<MatrixEntry> entries;
  long long total = 0;
  for (const Node& item : matrix.items) {
    auto entry = ReadMatrixEntry(item, key, reader);
    if (!entry) return std::nullopt;
    long long product = 1;
    for (const auto& values : entry->values) {
      product *= static_cast<long long>(values.size());
      if (product > kMaxParallel) break;
    }
    total += product;
    entries.push_back(std::move(*entry));
  }
  if (total > kMaxParallel) {
    reader->Error(matrix.mark, key,
                  "generates too many jobs (maximum is " + std::to_string(kMaxParallel) + ")");
    return std::nullopt;
  }
  // Cartesian product per entry, the first variable varying slowest, as
  // Ruby's Array#product does.
  std::vector<ParallelInstance> out;
  for (const MatrixEntry& entry : entries) {
    std::vector<size_t> pos(entry.values.size(), 0);
    bool empty = false;
    for (const auto& values : entry.values) empty = empty || values.empty();
    while (!empty) {
      ParallelInstance inst;
      std::string shown;
      for (size_t v = 0; v < pos.size(); ++v) {
        const std::string& value = entry.values[v][pos[v]];
        inst.variables.Set(entry.names[v], value);
        shown += (v == 0 ? "" : ", ") + value;
      }
      inst.name = base_name + ": [" + shown + "]";
      out.push_back(std::move(inst));
      size_t v = pos.size();
      while (v > 0) {
        --v;
        if (++pos[v] < entry.values[v].size()) break;
        pos[v] = 0;
        if (v == 0) empty = true;
      }
    }
  }
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].index = static_cast<int>(i) + 1;
    out[i].total = static_cast<int>(out.size());
  }
  return out;
}

std::optional<std::string> InterpolateMatrix(std::string_view text, const VariableList& values,
                                             std::string* unknown) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t open = text.find("$[[", pos);
    size_t close = open == std::string_view::npos ? open : text.find("]]", open + 3);
    if (close == std::string_view::npos) break;
    std::string_view inner = text.substr(open + 3, close - open - 3);
    while (!inner.empty() && inner.front() == ' ') inner.remove_prefix(1);
    while (!inner.empty() && inner.back() == ' ') inner.remove_suffix(1);
    if (!inner.starts_with("matrix.")) {
      // Not a matrix expression (e.g. inputs); left for whoever owns it.
      out.append(text.substr(pos, close + 2 - pos));
      pos = close + 2;
      continue;
    }
    std::string_view name = inner.substr(7);
    const std::string* value = values.Get(name);
    if (value == nullptr) {
      *unknown = std::string(name);
      return std::nullopt;
    }
    out.append(text.substr(pos, open - pos));
    out += *value;
    pos = close + 2;
  }
  out.append(text.substr(pos));
  return out;
}

std::optional<std::vector<ParallelInstance>> ExpandParallel(const std::string& base_name,
                                                            const Node& parallel,
                                                            KeywordReader* reader) {
  if (parallel.IsMap()) {
    if (!reader->CheckKeys(parallel, {"matrix"}, "parallel")) return std::nullopt;
    const Node* matrix = parallel.Find("matrix");
    if (matrix == nullptr) {
      reader->Error(parallel.mark, "parallel", "config missing required keys: matrix");
      return std::nullopt;
    }
    return ExpandMatrix(base_name, *matrix, "parallel:matrix", reader);
  }
  auto n = parallel.AsInt();
  if (!n) {
    reader->Error(parallel.mark, "parallel", "should be an integer or a hash");
    return std::nullopt;
  }
  if (*n < 1 || *n > kMaxParallel) {
    reader->Error(parallel.mark, "parallel",
                  *n < 1 ? "must be greater than or equal to 1"
                         : "must be less than or equal to " + std::to_string(kMaxParallel));
    return std::nullopt;
  }
  std::vector<ParallelInstance> out;
  for (int i = 1; i <= *n; ++i) {
    ParallelInstance inst;
    inst.name = base_name + " " + std::to_string(i) + "/" + std::to_string(*n);
    inst.index = i;
    inst.total = static_cast<int>(*n);
    out.push_back(std::move(inst));
  }
  return out;
}

}  // namespace slipway

#include "pipeline/variables_parser.h"

#include <algorithm>

namespace slipway {

std::optional<VariableList> ParseVariables(const Node& node, VariablesScope scope,
                                           const std::string& key, KeywordReader* reader) {
  if (node.IsPlainNullScalar()) return VariableList();
  if (!node.IsMap()) {
    reader->Error(node.mark, key, "should be a hash of key value pairs, value can be a hash");
    return std::nullopt;
  }
  int errors_before = reader->errors();
  VariableList out;
  for (const MapEntry& e : node.entries) {
    Variable v;
    v.name = e.key;
    v.mark = e.key_mark;
    const std::string var_key = key + ":" + e.key;
    const Node& value = e.value;
    if (value.IsScalar() || value.IsNull()) {
      v.value = ScalarToGitLabString(value);
      out.Set(std::move(v));
      continue;
    }
    if (!value.IsMap()) {
      reader->Error(value.mark, var_key, "variable definition must be either a string or a hash");
      continue;
    }
    if (scope == VariablesScope::kRule) {
      reader->Error(value.mark, var_key, "must be a string");
      continue;
    }
    bool keys_ok =
        scope == VariablesScope::kTopLevel
            ? reader->CheckKeys(value, {"value", "description", "expand", "options"}, var_key)
            : reader->CheckKeys(value, {"value", "expand"}, var_key);
    if (!keys_ok) continue;
    if (const Node* val = value.Find("value")) {
      if (val->IsScalar() || val->IsNull()) {
        v.value = ScalarToGitLabString(*val);
      } else {
        reader->Error(val->mark, var_key + ":value", "should be a string");
      }
    }
    if (const Node* desc = value.Find("description")) {
      if (auto s = reader->String(*desc, var_key + ":description")) v.description = *s;
    }
    if (const Node* expand = value.Find("expand")) {
      if (auto b = reader->Bool(*expand, var_key + ":expand")) v.expand = *b;
    }
    if (const Node* options = value.Find("options")) {
      if (auto list = reader->StringArray(*options, var_key + ":options")) {
        v.options = *list;
        if (std::find(list->begin(), list->end(), v.value) == list->end()) {
          reader->Error(options->mark, var_key, "value must be present in options");
        }
      }
    }
    out.Set(std::move(v));
  }
  if (reader->errors() != errors_before) return std::nullopt;
  return out;
}

}  // namespace slipway

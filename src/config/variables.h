// CI/CD variables: an ordered list of name/value pairs with GitLab's expansion
// rules ($VAR, ${VAR}, $$ for a literal dollar; unknown variables expand to "").
#ifndef SLIPWAY_CONFIG_VARIABLES_H_
#define SLIPWAY_CONFIG_VARIABLES_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/diagnostic.h"

namespace slipway {

struct Variable {
  std::string name;
  std::string value;
  // false for `expand: false`: the value is used verbatim, never expanded.
  bool expand = true;
  std::string description;
  std::vector<std::string> options;
  Mark mark;
};

// Ordered; names unique. Later Set() of an existing name replaces its value
// in place, which is how each precedence level overrides the one below.
class VariableList {
 public:
  const Variable* Find(std::string_view name) const;
  // nullptr when undefined.
  const std::string* Get(std::string_view name) const;
  void Set(Variable v);
  void Set(std::string name, std::string value);
  // Overlays every variable of other onto this list (other wins).
  void Merge(const VariableList& other);
  bool Erase(std::string_view name);

  const std::vector<Variable>& items() const { return items_; }
  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }

 private:
  std::vector<Variable> items_;
};

// Expands $NAME, ${NAME} and $$ in text using vars, as GitLab does when it
// expands variables in keywords such as `environment:name`, `cache:key`,
// `artifacts:name` or `rules:changes`. Unknown variables become "".
// Variables whose values reference other variables are expanded recursively
// (with a depth bound, so a self reference cannot loop forever) unless marked
// expand: false.
std::string ExpandVariables(std::string_view text, const VariableList& vars);

// GitLab's `expand_existing`: as ExpandVariables, but a reference to a
// variable that is not defined is kept as written ("$NOPE/x" stays
// "$NOPE/x"). GitLab expands `rules:changes` paths and `compare_to`, and
// `rules:exists` paths, this way.
std::string ExpandExistingVariables(std::string_view text, const VariableList& vars);

}  // namespace slipway

#endif  // SLIPWAY_CONFIG_VARIABLES_H_

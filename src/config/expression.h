// `rules:if` / `workflow:rules:if` / `include:rules:if` expressions, evaluated
// exactly as GitLab documents: $VAR, "strings", 'strings', null, ==, !=, =~,
// !~, /regex/flags (RE2), a regex held in a variable, &&, ||, parentheses.
#ifndef SLIPWAY_CONFIG_EXPRESSION_H_
#define SLIPWAY_CONFIG_EXPRESSION_H_

#include <memory>
#include <string>
#include <string_view>

#include "config/variables.h"
#include "util/status.h"

namespace slipway {

class Expression {
 public:
  // Parses text. On error the Status message says what is wrong and where,
  // e.g. "unexpected '&' at column 7" (column 1-based within text), suitable to
  // follow the mark of the `if:` value.
  static StatusOr<Expression> Parse(std::string_view text);

  // GitLab's truthiness: a lone $VAR is true when defined and not blank
  // (empty or whitespace only); && and || return one of their operands as in
  // Ruby (so "$EMPTY && $X" is $X), and the whole expression is true when its
  // value is present. Variable values are used as stored, never expanded
  // further. On the right of =~ / !~, a value written /pattern/flags is a
  // regex; any other value, including an invalid regex, is a plain string
  // that "matches" when the left text occurs inside it (GitLab's behaviour).
  // Never fails. Thread-safe: const, and regexes are immutable.
  bool Evaluate(const VariableList& vars) const;

  const std::string& text() const { return text_; }

  struct Ast;  // Defined in expression.cc.
  Expression(Expression&&) noexcept;
  Expression& operator=(Expression&&) noexcept;
  ~Expression();

 private:
  Expression();
  std::string text_;
  std::unique_ptr<Ast> ast_;
};

}  // namespace slipway

#endif  // SLIPWAY_CONFIG_EXPRESSION_H_

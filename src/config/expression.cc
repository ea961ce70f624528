#include "config/expression.h"

#include <re2/re2.h>

#include <cctype>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "config/ruby_regexp.h"

namespace slipway {
namespace {

// GitLab's lexer gives up after this many tokens ("Too many tokens!"): its
// loop scans at most 100 times and the 100th scan must find the end. The
// limit also bounds parenthesis nesting, and so the parser's recursion.
constexpr int kMaxTokens = 99;

enum class TokenKind {
  kVariable,
  kString,
  kRegex,
  kNull,
  kTrue,
  kFalse,
  kEquals,
  kNotEquals,
  kMatches,
  kNotMatches,
  kAnd,
  kOr,
  kOpen,
  kClose,
  kEnd,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;           // Variable name, string contents or regex literal.
  int column = 0;             // 1-based.
  std::string_view spelling;  // As written, for messages.
};

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string At(int column) { return " at column " + std::to_string(column); }

// Splits text into tokens the way GitLab's lexer does: at each position the
// first lexeme that matches wins, in GitLab's order (parentheses, variable,
// string, regex, null, true/false, then the operators).
class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  Status Run(std::vector<Token>* tokens) {
    while (true) {
      while (pos_ < text_.size() && IsSpace(text_[pos_])) ++pos_;
      if (pos_ >= text_.size()) break;
      if (static_cast<int>(tokens->size()) >= kMaxTokens) {
        return Status::Error("expression has too many tokens (GitLab allows at most " +
                             std::to_string(kMaxTokens) + ")");
      }
      Token token;
      token.column = static_cast<int>(pos_) + 1;
      size_t start = pos_;
      Status status = Next(&token);
      if (!status.ok()) return status;
      token.spelling = text_.substr(start, pos_ - start);
      tokens->push_back(std::move(token));
    }
    Token end;
    end.column = static_cast<int>(text_.size()) + 1;
    tokens->push_back(std::move(end));
    return Status::Ok();
  }

 private:
  bool Consume(std::string_view s) {
    if (text_.substr(pos_, s.size()) != s) return false;
    pos_ += s.size();
    return true;
  }

  Status Next(Token* token) {
    const int column = token->column;
    const char c = text_[pos_];
    if (Consume("(")) return Set(token, TokenKind::kOpen);
    if (Consume(")")) return Set(token, TokenKind::kClose);
    if (c == '$' && pos_ + 1 < text_.size() && IsWordChar(text_[pos_ + 1])) {
      size_t end = pos_ + 1;
      while (end < text_.size() && IsWordChar(text_[end])) ++end;
      token->text = std::string(text_.substr(pos_ + 1, end - pos_ - 1));
      pos_ = end;
      return Set(token, TokenKind::kVariable);
    }
    if (c == '"' || c == '\'') {
      // No escapes: the string ends at the next quote of the same kind, and
      // (as with Ruby's `.`) cannot span lines.
      size_t close = text_.find(c, pos_ + 1);
      size_t newline = text_.find('\n', pos_ + 1);
      if (close == std::string_view::npos || newline < close) {
        return Status::Error("unterminated string" + At(column));
      }
      token->text = std::string(text_.substr(pos_ + 1, close - pos_ - 1));
      pos_ = close + 1;
      return Set(token, TokenKind::kString);
    }
    if (c == '/') {
      size_t length = RegexLiteralLength(text_.substr(pos_));
      if (length == 0) {
        return Status::Error(
            "invalid regular expression literal" + At(column) +
            " (expected /pattern/flags with at least two characters between the slashes)");
      }
      token->text = std::string(text_.substr(pos_, length));
      pos_ += length;
      regex_end_ = pos_;
      return Set(token, TokenKind::kRegex);
    }
    if (Consume("null")) return Set(token, TokenKind::kNull);
    if (KeywordAhead("true")) return Set(token, TokenKind::kTrue);
    if (KeywordAhead("false")) return Set(token, TokenKind::kFalse);
    if (Consume("==")) return Set(token, TokenKind::kEquals);
    if (Consume("=~")) return Set(token, TokenKind::kMatches);
    if (Consume("!=")) return Set(token, TokenKind::kNotEquals);
    if (Consume("!~")) return Set(token, TokenKind::kNotMatches);
    if (Consume("&&")) return Set(token, TokenKind::kAnd);
    if (Consume("||")) return Set(token, TokenKind::kOr);
    if (c == '$' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '{') {
      return Status::Error("unexpected '${'" + At(column) +
                           ": variables in expressions are written $NAME, without braces");
    }
    if (pos_ == regex_end_ && std::isalpha(static_cast<unsigned char>(c))) {
      return Status::Error("unsupported regular expression flag " + Quote(text_.substr(pos_, 1)) +
                           At(column) + " (GitLab accepts i, m, s and U)");
    }
    return Status::Error("unexpected " + Quote(text_.substr(pos_, 1)) + At(column));
  }

  // true/false are whole words (GitLab: /\b(?:true|false)\b/).
  bool KeywordAhead(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    size_t after = pos_ + word.size();
    if (after < text_.size() && IsWordChar(text_[after])) return false;
    pos_ = after;
    return true;
  }

  static Status Set(Token* token, TokenKind kind) {
    token->kind = kind;
    return Status::Ok();
  }

  // Length of the regex literal at the start of s, or 0 if there is none.
  // GitLab's lexeme is %r{^/([^/]|\\/)+[^\\]/[ismU]*}: RE2's leftmost-first
  // matching picks the same match as Ruby's backtracking engine. Latin-1 makes
  // it work on bytes, which is exact because '/' and '\' are ASCII.
  static size_t RegexLiteralLength(std::string_view s) {
    static const RE2* const kLiteral = [] {
      RE2::Options options(RE2::Latin1);
      options.set_log_errors(false);
      return new RE2(R"(/(?:[^/]|\\/)+[^\\]/[ismU]*)", options);
    }();
    re2::StringPiece input(s.data(), s.size());
    re2::StringPiece match;
    if (!kLiteral->Match(input, 0, s.size(), RE2::ANCHOR_START, &match, 1)) return 0;
    return match.size();
  }

  std::string_view text_;
  size_t pos_ = 0;
  size_t regex_end_ = std::string_view::npos;  // Just after the last regex literal.
};

}  // namespace

// The parsed expression: a tree of nodes stored in one vector, children
// referenced by index. Leaves own their literal values; regex literals are
// compiled once at parse time.
struct Expression::Ast {
  struct Node {
    // A value token (kVariable, kString, kRegex, kNull, kTrue, kFalse) or a
    // binary operator token.
    TokenKind kind;
    std::string text;  // Variable name or string value.
    std::shared_ptr<const RubyRegexp> regex;
    int left = -1;
    int right = -1;
  };
  std::vector<Node> nodes;
  int root = -1;
};

namespace {

using Ast = Expression::Ast;

// Grammar (lowest precedence first), matching GitLab's operator precedence:
//   or      := and ('||' and)*
//   and     := compare ('&&' compare)*
//   compare := operand (('==' | '!=' | '=~' | '!~') operand)*
//   operand := $VAR | "string" | 'string' | /regex/flags | null | true | false
//            | '(' or ')'
// All binary operators are left-associative.
class Parser {
 public:
  Parser(const std::vector<Token>& tokens, Ast* ast) : tokens_(tokens), ast_(ast) {}

  Status Run() {
    if (Peek().kind == TokenKind::kEnd) return Status::Error("empty expression");
    StatusOr<int> root = ParseLevel(kOrLevel);
    if (!root.ok()) return root.status();
    if (Peek().kind != TokenKind::kEnd) {
      const Token& t = Peek();
      if (t.kind == TokenKind::kClose) {
        return Status::Error("unmatched ')'" + At(t.column));
      }
      return Status::Error("unexpected " + Quote(t.spelling) + At(t.column) +
                           ", expected an operator");
    }
    ast_->root = *root;
    return Status::Ok();
  }

 private:
  const Token& Peek() const { return tokens_[pos_]; }

  int Add(Ast::Node node) {
    ast_->nodes.push_back(std::move(node));
    return static_cast<int>(ast_->nodes.size()) - 1;
  }

  int AddBinary(TokenKind kind, int left, int right) {
    Ast::Node node{kind, {}, nullptr, left, right};
    return Add(std::move(node));
  }

  // Binding levels, loosest first; each binary operator belongs to one.
  enum Level { kOrLevel = 0, kAndLevel = 1, kCompareLevel = 2, kOperandLevel = 3 };

  // The node kind of a binary operator token at `level`, if it is one.
  static bool BinaryAt(int level, TokenKind kind) {
    switch (kind) {
      case TokenKind::kOr:
        return level == kOrLevel;
      case TokenKind::kAnd:
        return level == kAndLevel;
      case TokenKind::kEquals:
      case TokenKind::kNotEquals:
      case TokenKind::kMatches:
      case TokenKind::kNotMatches:
        return level == kCompareLevel;
      default:
        return false;
    }
  }

  // Parses a left-associative chain of the operators of `level`.
  StatusOr<int> ParseLevel(int level) {
    if (level == kOperandLevel) return ParseOperand();
    StatusOr<int> left = ParseLevel(level + 1);
    if (!left.ok()) return left;
    int node = *left;
    while (BinaryAt(level, Peek().kind)) {
      TokenKind kind = Peek().kind;
      ++pos_;
      StatusOr<int> right = ParseLevel(level + 1);
      if (!right.ok()) return right;
      node = AddBinary(kind, node, *right);
    }
    return node;
  }

  StatusOr<int> ParseOperand() {
    const Token& t = Peek();
    Ast::Node node{t.kind, {}, nullptr, -1, -1};
    switch (t.kind) {
      case TokenKind::kVariable:
      case TokenKind::kString:
        node.text = t.text;
        break;
      case TokenKind::kRegex: {
        std::string error;
        auto regex = RubyRegexp::Parse(t.text, &error);
        if (regex == nullptr) {
          return Status::Error("invalid regular expression " + t.text + At(t.column) + ": " +
                               error);
        }
        node.regex = std::move(regex);
        break;
      }
      case TokenKind::kNull:
      case TokenKind::kTrue:
      case TokenKind::kFalse:
        break;
      case TokenKind::kOpen: {
        ++pos_;
        StatusOr<int> inner = ParseLevel(kOrLevel);
        if (!inner.ok()) return inner;
        if (Peek().kind != TokenKind::kClose) {
          if (Peek().kind == TokenKind::kEnd) {
            return Status::Error("missing ')' for '('" + At(t.column));
          }
          return Status::Error("unexpected " + Quote(Peek().spelling) + At(Peek().column) +
                               ", expected an operator or ')'");
        }
        ++pos_;
        return inner;
      }
      case TokenKind::kEnd:
        return Status::Error("unexpected end of expression" + At(t.column) + ", expected a value");
      default:
        return Status::Error("unexpected " + Quote(t.spelling) + At(t.column) +
                             ", expected a value");
    }
    ++pos_;
    return Add(std::move(node));
  }

  const std::vector<Token>& tokens_;
  Ast* ast_;
  size_t pos_ = 0;
};

// A runtime value. GitLab evaluates in Ruby, where an operand is nil (an
// undefined variable or `null`), a String, true/false, or a regexp; && and ||
// return one of their operands, as in Ruby.
struct Value {
  enum class Kind { kNull, kBool, kString, kRegex };
  Kind kind = Kind::kNull;
  bool boolean = false;
  std::string_view string;  // Points into the Ast or the VariableList.
  const RubyRegexp* regex = nullptr;

  // Ruby truthiness: only nil and false are false ("" is true).
  bool Truthy() const {
    return kind == Kind::kString || kind == Kind::kRegex || (kind == Kind::kBool && boolean);
  }
};

bool Equal(const Value& a, const Value& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Value::Kind::kNull:
      return true;
    case Value::Kind::kBool:
      return a.boolean == b.boolean;
    case Value::Kind::kString:
      return a.string == b.string;
    case Value::Kind::kRegex:
      return a.regex->source() == b.regex->source();
  }
  return false;
}

// Ruby's `to_s` of the left operand of =~.
std::string_view AsText(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kNull:
      return "";
    case Value::Kind::kBool:
      return v.boolean ? "true" : "false";
    case Value::Kind::kString:
      return v.string;
    case Value::Kind::kRegex:
      return v.regex->source();
  }
  return "";
}

// GitLab's =~: a nil or false right side never matches. A regexp matches if
// it matches anywhere in the text. A string that reads as /pattern/flags (a
// regex held in a variable) is used as that regexp; any other string,
// including one holding an invalid regex, behaves as Ruby's String#scan with
// a string argument: it "matches" when the left text occurs inside it.
bool Matches(const Value& text_value, const Value& pattern) {
  std::string_view text = AsText(text_value);
  switch (pattern.kind) {
    case Value::Kind::kNull:
    case Value::Kind::kBool:
      return false;
    case Value::Kind::kRegex:
      return pattern.regex->PartialMatch(text);
    case Value::Kind::kString: {
      std::string unused;
      auto regex = RubyRegexp::Parse(pattern.string, &unused);
      if (regex != nullptr) return regex->PartialMatch(text);
      return pattern.string.find(text) != std::string_view::npos;
    }
  }
  return false;
}

// GitLab's !~ is the negation of =~, including for a nil or false right side.
bool NotMatches(const Value& text, const Value& pattern) { return !Matches(text, pattern); }

Value Bool(bool b) {
  Value v;
  v.kind = Value::Kind::kBool;
  v.boolean = b;
  return v;
}

class Evaluator {
 public:
  Evaluator(const Ast& ast, const VariableList& vars) : ast_(ast), vars_(vars) {}

  Value Eval(int index) const {
    const Ast::Node& node = ast_.nodes[index];
    Value v;
    switch (node.kind) {
      case TokenKind::kVariable: {
        const std::string* value = vars_.Get(node.text);
        if (value != nullptr) {
          v.kind = Value::Kind::kString;
          v.string = *value;
        }
        return v;
      }
      case TokenKind::kString:
        v.kind = Value::Kind::kString;
        v.string = node.text;
        return v;
      case TokenKind::kRegex:
        v.kind = Value::Kind::kRegex;
        v.regex = node.regex.get();
        return v;
      case TokenKind::kNull:
        return v;
      case TokenKind::kTrue:
        return Bool(true);
      case TokenKind::kFalse:
        return Bool(false);
      case TokenKind::kEquals:
        return Bool(Equal(Eval(node.left), Eval(node.right)));
      case TokenKind::kNotEquals:
        return Bool(!Equal(Eval(node.left), Eval(node.right)));
      case TokenKind::kMatches:
        return Bool(Matches(Eval(node.left), Eval(node.right)));
      case TokenKind::kNotMatches:
        return Bool(NotMatches(Eval(node.left), Eval(node.right)));
      case TokenKind::kAnd: {
        Value left = Eval(node.left);
        return left.Truthy() ? Eval(node.right) : left;
      }
      case TokenKind::kOr: {
        Value left = Eval(node.left);
        return left.Truthy() ? left : Eval(node.right);
      }
      default:  // Parentheses and the end marker never reach the tree.
        return v;
    }
  }

 private:
  const Ast& ast_;
  const VariableList& vars_;
};

// Rails' String#blank?: empty or only whitespace ([[:space:]], which in a
// UTF-8 string includes the Unicode spaces).
bool IsBlank(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (IsSpace(s[i])) {
      ++i;
      continue;
    }
    // Decode one UTF-8 sequence of two or three bytes.
    uint32_t cp = 0;
    size_t len = 0;
    if ((c & 0xE0) == 0xC0 && i + 1 < s.size()) {
      cp = ((c & 0x1F) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3F);
      len = 2;
    } else if ((c & 0xF0) == 0xE0 && i + 2 < s.size()) {
      cp = ((c & 0x0F) << 12) | ((static_cast<unsigned char>(s[i + 1]) & 0x3F) << 6) |
           (static_cast<unsigned char>(s[i + 2]) & 0x3F);
      len = 3;
    } else {
      return false;
    }
    bool space = cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
                 cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
    if (!space) return false;
    i += len;
  }
  return true;
}

// Rails' `present?`: nil, false and blank strings (empty or whitespace only)
// are not present.
bool Present(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kNull:
      return false;
    case Value::Kind::kBool:
      return v.boolean;
    case Value::Kind::kString:
      return !IsBlank(v.string);
    case Value::Kind::kRegex:
      return true;
  }
  return false;
}

}  // namespace

Expression::Expression() = default;
Expression::Expression(Expression&&) noexcept = default;
Expression& Expression::operator=(Expression&&) noexcept = default;
Expression::~Expression() = default;

StatusOr<Expression> Expression::Parse(std::string_view text) {
  std::vector<Token> tokens;
  Status status = Lexer(text).Run(&tokens);
  if (!status.ok()) return status;
  auto ast = std::make_unique<Ast>();
  status = Parser(tokens, ast.get()).Run();
  if (!status.ok()) return status;
  Expression expression;
  expression.text_ = std::string(text);
  expression.ast_ = std::move(ast);
  return expression;
}

bool Expression::Evaluate(const VariableList& vars) const {
  if (ast_ == nullptr || ast_->root < 0) return false;
  return Present(Evaluator(*ast_, vars).Eval(ast_->root));
}

}  // namespace slipway

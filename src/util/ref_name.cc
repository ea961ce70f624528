#include "util/ref_name.h"

namespace slipway {
namespace {

// The rule a character breaks anywhere in a ref, or nullptr.
const char* ForbiddenCharacter(unsigned char c) {
  if (c < 0x20 || c == 0x7f) return "contains a control character";
  switch (c) {
    case ' ':
      return "contains a space";
    case '~':
      return "contains '~'";
    case '^':
      return "contains '^'";
    case ':':
      return "contains ':'";
    case '?':
      return "contains '?'";
    case '*':
      return "contains '*'";
    case '[':
      return "contains '['";
    case '\\':
      return "contains '\\'";
    default:
      return nullptr;
  }
}

// The first rule ref breaks, or nullptr when git accepts it.
const char* BrokenRule(std::string_view ref) {
  if (ref.empty()) return "is empty";
  if (ref == "@") return "is '@'";
  for (unsigned char c : ref) {
    if (const char* rule = ForbiddenCharacter(c)) return rule;
  }
  if (ref.find("..") != std::string_view::npos) return "contains '..'";
  if (ref.find("@{") != std::string_view::npos) return "contains '@{'";
  if (ref.front() == '/') return "starts with '/'";
  if (ref.back() == '/') return "ends with '/'";
  if (ref.find("//") != std::string_view::npos) return "contains '//'";
  if (ref.back() == '.') return "ends with '.'";
  if (ref.find('/') == std::string_view::npos) return "has no '/'";
  size_t start = 0;
  while (start <= ref.size()) {
    size_t slash = ref.find('/', start);
    std::string_view component =
        ref.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (component.starts_with('.')) return "has a component that starts with '.'";
    if (component.ends_with(".lock")) return "has a component that ends with '.lock'";
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return nullptr;
}

}  // namespace

Status CheckRefFormat(std::string_view ref) {
  if (const char* rule = BrokenRule(ref)) {
    return Status::Error("invalid ref '" + std::string(ref) + "': " + rule);
  }
  return Status::Ok();
}

Status CheckBranchOrTagName(std::string_view name, bool tag) {
  const char* rule = nullptr;
  if (name.empty()) {
    rule = "is empty";
  } else if (name.front() == '-') {
    rule = "starts with '-'";
  } else if (name == "HEAD" && !tag) {
    rule = "is 'HEAD'";
  } else {
    std::string full = std::string(tag ? "refs/tags/" : "refs/heads/") + std::string(name);
    rule = BrokenRule(full);
  }
  if (rule == nullptr) return Status::Ok();
  return Status::Error(std::string("invalid ") + (tag ? "tag" : "branch") + " name '" +
                       std::string(name) + "': " + rule);
}

ShortRef SplitRef(std::string_view ref) {
  constexpr std::string_view kTags = "refs/tags/";
  constexpr std::string_view kHeads = "refs/heads/";
  if (ref.starts_with(kTags)) return {std::string(ref.substr(kTags.size())), true};
  if (ref.starts_with(kHeads)) return {std::string(ref.substr(kHeads.size())), false};
  return {std::string(ref), false};
}

bool IsFullCommitId(std::string_view s) {
  if (s.size() != 40) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace slipway

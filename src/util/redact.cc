#include "util/redact.h"

namespace slipway {
namespace {

constexpr std::string_view kMask = "*****";

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// RFC 3986: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
bool IsSchemeChar(char c) {
  return IsAlpha(c) || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
}

bool EndsAuthority(char c) {
  return c == '/' || c == '?' || c == '#' || c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
         c == '"' || c == '\'' || c == '`' || c == '<' || c == '>';
}

}  // namespace

std::string RedactUrlCredentials(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t copied = 0;  // text[0, copied) is in out.
  size_t sep = text.find("://");
  while (sep != std::string_view::npos) {
    size_t start = sep + 3;
    size_t end = start;  // The authority is text[start, end).
    while (end < text.size() && !EndsAuthority(text[end])) ++end;
    size_t scheme = sep;
    while (scheme > copied && IsSchemeChar(text[scheme - 1])) --scheme;
    while (scheme < sep && !IsAlpha(text[scheme])) ++scheme;  // It starts with a letter.
    size_t at = text.substr(start, end - start).rfind('@');
    if (scheme < sep && at != std::string_view::npos) {
      out.append(text.substr(copied, start - copied));
      out.append(kMask);
      if (text.substr(start, at).find(':') != std::string_view::npos) {
        out += ':';
        out.append(kMask);
      }
      copied = start + at;  // The '@' and what follows it are kept.
    }
    sep = text.find("://", end);
  }
  out.append(text.substr(copied));
  return out;
}

}  // namespace slipway

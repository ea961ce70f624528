#include "config/component_version.h"

#include <array>
#include <charconv>

namespace slipway {
namespace {

// "12" -> 12; nullopt for anything but digits (no sign, no leading zeros
// beyond "0").
std::optional<long> Number(const std::string& s) {
  if (s.empty() || s.size() > 9 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  long value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t dot = s.find('.', start);
    parts.push_back(s.substr(start, dot - start));
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}

// MAJOR.MINOR.PATCH of a released version (no pre-release, no build part).
std::optional<std::array<long, 3>> Released(const std::string& tag) {
  std::vector<std::string> parts = Split(tag);
  if (parts.size() != 3) return std::nullopt;
  std::array<long, 3> out;
  for (int i = 0; i < 3; ++i) {
    std::optional<long> n = Number(parts[i]);
    if (!n) return std::nullopt;
    out[i] = *n;
  }
  return out;
}

}  // namespace

bool NeedsTagList(const std::string& version) {
  if (version == "~latest") return true;
  std::vector<std::string> parts = Split(version);
  if (parts.size() > 2) return false;
  for (const std::string& part : parts) {
    if (part.empty() || part.find_first_not_of("0123456789") != std::string::npos) return false;
  }
  return true;
}

std::optional<std::string> ResolveComponentVersion(const std::vector<std::string>& tags,
                                                   const std::string& version) {
  std::vector<long> prefix;
  if (version != "~latest") {
    for (const std::string& part : Split(version)) {
      std::optional<long> n = Number(part);
      if (!n) return std::nullopt;
      prefix.push_back(*n);
    }
  }
  std::optional<std::array<long, 3>> best;
  std::optional<std::string> best_tag;
  for (const std::string& tag : tags) {
    std::optional<std::array<long, 3>> v = Released(tag);
    if (!v) continue;
    bool matches = true;
    for (size_t i = 0; i < prefix.size(); ++i) matches = matches && (*v)[i] == prefix[i];
    if (matches && (!best || *v > *best)) {
      best = v;
      best_tag = tag;
    }
  }
  return best_tag;
}

}  // namespace slipway

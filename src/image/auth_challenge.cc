#include "image/auth_challenge.h"

#include <cctype>

namespace slipway {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string AuthChallenge::Param(const std::string& key) const {
  for (const auto& [k, v] : params) {
    if (k == key) return v;
  }
  return "";
}

AuthChallenge ParseAuthChallenge(std::string_view header) {
  AuthChallenge challenge;
  size_t i = 0;
  auto skip_space = [&] {
    while (i < header.size() && (header[i] == ' ' || header[i] == '\t')) ++i;
  };
  skip_space();
  size_t start = i;
  while (i < header.size() && header[i] != ' ') ++i;
  challenge.scheme = Lower(std::string(header.substr(start, i - start)));
  while (i < header.size()) {
    skip_space();
    start = i;
    while (i < header.size() && header[i] != '=' && header[i] != ',') ++i;
    std::string key = Lower(std::string(header.substr(start, i - start)));
    std::string value;
    if (i < header.size() && header[i] == '=') {
      ++i;
      if (i < header.size() && header[i] == '"') {
        for (++i; i < header.size() && header[i] != '"'; ++i) {
          if (header[i] == '\\' && i + 1 < header.size()) ++i;
          value += header[i];
        }
        ++i;  // The closing quote.
      } else {
        start = i;
        while (i < header.size() && header[i] != ',') ++i;
        value = std::string(header.substr(start, i - start));
      }
    }
    while (i < header.size() && header[i] != ',') ++i;
    ++i;
    if (!key.empty()) challenge.params.emplace_back(key, value);
  }
  return challenge;
}

}  // namespace slipway

#include "pipeline/environment_tier.h"

#include <cctype>
#include <initializer_list>

namespace slipway {

std::string EnvironmentTier(std::string_view name, std::string_view declared_tier) {
  if (!declared_tier.empty()) return std::string(declared_tier);
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto any = [&lower](std::initializer_list<std::string_view> words) {
    for (std::string_view w : words) {
      if (lower.find(w) != std::string::npos) return true;
    }
    return false;
  };
  if (any({"dev", "review", "trunk"})) return "development";
  if (any({"test", "tst", "int", "acpt", "accept", "qa", "qc", "control", "quality"})) {
    return "testing";
  }
  if (any({"stg", "stag", "mdl", "model", "pre", "demo", "non"})) return "staging";
  if (any({"prd", "prod", "live"})) return "production";
  return "other";
}

bool IsEnvironmentTier(std::string_view tier) {
  return tier == "production" || tier == "staging" || tier == "testing" || tier == "development" ||
         tier == "other";
}

}  // namespace slipway

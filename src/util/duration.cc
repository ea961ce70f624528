#include "util/duration.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

namespace slipway {
namespace {

// Larger values are rejected rather than overflowing int64_t: about 31.7
// million years, far beyond any limit GitLab applies.
constexpr double kMaxSeconds = 1e15;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string Lower(std::string_view text) {
  std::string lower;
  for (char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

Status Invalid(std::string_view text, const std::string& why) {
  return Status::Error(Quote(text) + " is not a valid duration" + (why.empty() ? "" : ": " + why));
}

// Seconds per canonical unit; 0 for anything else (GitLab then adds nothing).
double UnitSeconds(std::string_view unit) {
  if (unit == "seconds") return 1;
  if (unit == "minutes") return 60;
  if (unit == "hours") return 3600;
  if (unit == "days") return 24 * 3600;
  if (unit == "weeks") return 7 * 24 * 3600;  // 30 days a month / 4 weeks, truncated.
  if (unit == "months") return 30 * 24 * 3600;
  if (unit == "years") return 31557600;
  return 0;
}

// The canonical unit for a word, or "" when it is not a unit word.
std::string_view CanonicalUnit(std::string_view word) {
  static constexpr std::pair<std::string_view, std::string_view> kUnits[] = {
      {"seconds", "seconds"}, {"second", "seconds"},  {"secs", "seconds"},   {"sec", "seconds"},
      {"s", "seconds"},       {"minutes", "minutes"}, {"minute", "minutes"}, {"mins", "minutes"},
      {"min", "minutes"},     {"m", "minutes"},       {"hours", "hours"},    {"hour", "hours"},
      {"hrs", "hours"},       {"hr", "hours"},        {"h", "hours"},        {"days", "days"},
      {"day", "days"},        {"dy", "days"},         {"d", "days"},         {"weeks", "weeks"},
      {"week", "weeks"},      {"wks", "weeks"},       {"wk", "weeks"},       {"w", "weeks"},
      {"months", "months"},   {"mo", "months"},       {"mos", "months"},     {"month", "months"},
      {"years", "years"},     {"year", "years"},      {"yrs", "years"},      {"yr", "years"},
      {"y", "years"}};
  for (const auto& [name, unit] : kUnits) {
    if (word == name) return unit;
  }
  return "";
}

// "h:m:s"-style input (ChronicDuration's time matcher, spaces ignored):
// digits ':' digits, up to four more ':' digits, optional ".digits".
bool IsChrono(const std::string& s) {
  size_t i = 0;
  int groups = 0;
  while (true) {
    size_t start = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (i == start) return false;
    ++groups;
    if (i < s.size() && s[i] == ':') {
      ++i;
      continue;
    }
    break;
  }
  if (groups < 2 || groups > 6) return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && IsDigit(s[i])) ++i;
  }
  return i == s.size();
}

// Rewrites "1:02:03" as "1 hours 02 minutes 03 seconds".
std::string ChronoToWords(const std::string& s) {
  static constexpr std::string_view kUnits[] = {"seconds", "minutes", "hours",
                                                "days",    "months",  "years"};
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t colon = s.find(':', start);
    parts.push_back(s.substr(start, colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!out.empty()) out += ' ';
    out += parts[i] + " " + std::string(kUnits[parts.size() - 1 - i]);
  }
  return out;
}

// Length of ChronicDuration's number /[0-9]*\.?[0-9]+/ at s[i], or 0.
size_t NumberLength(std::string_view s, size_t i) {
  size_t j = i;
  while (j < s.size() && IsDigit(s[j])) ++j;
  if (j < s.size() && s[j] == '.' && j + 1 < s.size() && IsDigit(s[j + 1])) {
    ++j;
    while (j < s.size() && IsDigit(s[j])) ++j;
    return j - i;
  }
  return j - i;
}

}  // namespace

StatusOr<int64_t> ParseDuration(std::string_view text) {
  std::string lower = Lower(text);
  std::string compact;
  for (char c : lower) {
    if (c != ' ') compact += c;
  }
  if (IsChrono(compact)) lower = ChronoToWords(compact);

  // Split into words, with every number a word of its own ("1h30m" is
  // "1 h 30 m").
  std::vector<std::string> words;
  std::string current;
  auto flush = [&] {
    if (!current.empty()) words.push_back(current);
    current.clear();
  };
  for (size_t i = 0; i < lower.size();) {
    size_t n = NumberLength(lower, i);
    if (n > 0) {
      flush();
      words.push_back(lower.substr(i, n));
      i += n;
    } else if (std::isspace(static_cast<unsigned char>(lower[i]))) {
      flush();
      ++i;
    } else {
      current += lower[i++];
    }
  }
  flush();

  // Keep numbers and units; drop joining words; reject anything else.
  std::vector<std::string> kept;
  for (const std::string& word : words) {
    if (IsDigit(word.back())) {
      kept.push_back(word);
      continue;
    }
    std::string_view stripped = word;
    if (!stripped.empty() && stripped.front() == ',') stripped.remove_prefix(1);
    if (!stripped.empty() && stripped.back() == ',') stripped.remove_suffix(1);
    std::string_view unit = CanonicalUnit(stripped);
    if (!unit.empty()) {
      kept.emplace_back(unit);
    } else if (stripped != "and" && stripped != "with" && stripped != "plus") {
      return Invalid(text, "unknown word " + Quote(word));
    }
  }
  if (!kept.empty() && !IsDigit(kept.front().back())) kept.insert(kept.begin(), "1");

  // Each number is multiplied by the unit right after it (seconds when it is
  // last; nothing when another number follows, as in GitLab).
  double seconds = 0;
  for (size_t i = 0; i < kept.size(); ++i) {
    if (!IsDigit(kept[i].back())) continue;
    double number = std::strtod(kept[i].c_str(), nullptr);
    std::string_view unit = i + 1 < kept.size() ? std::string_view(kept[i + 1]) : "seconds";
    seconds += number * UnitSeconds(unit);
  }
  if (!std::isfinite(seconds) || seconds > kMaxSeconds) return Invalid(text, "too long");
  if (seconds <= 0) return Invalid(text, "");
  return static_cast<int64_t>(seconds);
}

StatusOr<std::optional<int64_t>> ParseExpireIn(std::string_view text) {
  if (Lower(text) == "never") return std::optional<int64_t>();
  StatusOr<int64_t> seconds = ParseDuration(text);
  if (!seconds.ok()) return seconds.status();
  return std::optional<int64_t>(*seconds);
}

}  // namespace slipway

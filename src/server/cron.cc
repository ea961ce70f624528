#include "server/cron.h"

#include <stdlib.h>
#include <time.h>

#include <array>
#include <cctype>
#include <filesystem>
#include <mutex>
#include <optional>
#include <vector>

namespace slipway {
namespace {

struct FieldSpec {
  const char* name;
  int min;
  int max;
  const char* const* names;  // Names for min, min+1 ..., or null.
  int name_count;
};

constexpr const char* kMonthNames[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr const char* kDayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

constexpr FieldSpec kFields[] = {
    {"minute", 0, 59, nullptr, 0},       {"hour", 0, 23, nullptr, 0},
    {"day of month", 1, 31, nullptr, 0}, {"month", 1, 12, kMonthNames, 12},
    {"day of week", 0, 7, kDayNames, 7},
};

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t end = s.find(sep, start);
    parts.push_back(s.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

std::optional<int> ParseValue(std::string_view text, const FieldSpec& field) {
  if (text.empty()) return std::nullopt;
  if (std::isdigit(static_cast<unsigned char>(text[0]))) {
    int v = 0;
    for (char c : text) {
      if (!std::isdigit(static_cast<unsigned char>(c)) || v > 1000) return std::nullopt;
      v = v * 10 + (c - '0');
    }
    return v;
  }
  for (int i = 0; i < field.name_count; ++i) {
    std::string_view name = field.names[i];
    if (text.size() != name.size()) continue;
    bool same = true;
    for (size_t k = 0; k < text.size(); ++k) {
      same &= std::tolower(static_cast<unsigned char>(text[k])) == name[k];
    }
    if (same) return field.min + i;
  }
  return std::nullopt;
}

// Sets the bits of one field; values are field.min .. field.max.
Status ParseField(std::string_view text, const FieldSpec& field, std::vector<bool>* bits) {
  auto error = [&](const std::string& what) {
    return Status::Error(std::string(field.name) + ": " + what);
  };
  if (text.empty()) return error("empty");
  for (std::string_view item : Split(text, ',')) {
    if (item.empty()) return error("empty list item in '" + std::string(text) + "'");
    std::vector<std::string_view> step_parts = Split(item, '/');
    if (step_parts.size() > 2) return error("'" + std::string(item) + "' has two steps");
    int step = 1;
    if (step_parts.size() == 2) {
      std::optional<int> s =
          step_parts[1].empty() || !std::isdigit(static_cast<unsigned char>(step_parts[1][0]))
              ? std::nullopt
              : ParseValue(step_parts[1], FieldSpec{field.name, 0, 0, nullptr, 0});
      if (!s || *s == 0)
        return error("step '" + std::string(step_parts[1]) + "' is not a positive number");
      step = *s;
    }
    std::string_view range = step_parts[0];
    int from = field.min;
    int to = field.max;
    if (range != "*") {
      std::vector<std::string_view> ends = Split(range, '-');
      if (ends.size() > 2) return error("'" + std::string(range) + "' is not a range");
      std::optional<int> a = ParseValue(ends[0], field);
      if (!a) return error("'" + std::string(ends[0]) + "' is not a number or name");
      from = *a;
      if (ends.size() == 2) {
        std::optional<int> b = ParseValue(ends[1], field);
        if (!b) return error("'" + std::string(ends[1]) + "' is not a number or name");
        to = *b;
      } else if (step_parts.size() == 1) {
        to = from;  // A single value; `a/n` runs to the field's end.
      }
      if (from < field.min || from > field.max || to < field.min || to > field.max) {
        return error("'" + std::string(range) + "' is outside " + std::to_string(field.min) + "-" +
                     std::to_string(field.max));
      }
      if (from > to) return error("range '" + std::string(range) + "' runs backwards");
    }
    for (int v = from; v <= to; v += step) (*bits)[v] = true;
  }
  return Status::Ok();
}

std::string_view Macro(std::string_view text) {
  if (text == "@yearly" || text == "@annually") return "0 0 1 1 *";
  if (text == "@monthly") return "0 0 1 * *";
  if (text == "@weekly") return "0 0 * * 0";
  if (text == "@daily" || text == "@midnight") return "0 0 * * *";
  if (text == "@hourly") return "0 * * * *";
  return text;
}

// TZ is process-wide: every use of it here holds this lock, and the previous
// value is restored afterwards. With threads that read the environment
// (git.cc builds child environments from environ), TZ must only ever be
// replaced: replacing a variable that exists swaps one pointer in environ
// (glibc keeps the old string), while adding or removing one reallocates the
// array under those threads. PinTimeZoneVariable, called before such threads
// start, sets an unset TZ to what unset means (the system zone), so that
// ScopedTimeZone then only replaces it.
std::mutex tz_mu;

class ScopedTimeZone {
 public:
  explicit ScopedTimeZone(const std::string& zone) : lock_(tz_mu) {
    const char* old = getenv("TZ");
    if (old != nullptr) old_ = old;
    setenv("TZ", (":" + zone).c_str(), 1);
    tzset();
  }
  ~ScopedTimeZone() {
    if (old_) {
      setenv("TZ", old_->c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }

 private:
  std::lock_guard<std::mutex> lock_;
  std::optional<std::string> old_;
};

bool DayMatches(const CronSpec& spec, int mday, int mon, int wday) {
  if (!spec.months[mon]) return false;
  bool dom = spec.days_of_month[mday];
  bool dow = spec.days_of_week[wday];
  if (spec.dom_restricted && spec.dow_restricted) return dom || dow;
  return dom && dow;
}

// The first instant whose local time is exactly y-m-d h:m (tm fields), or
// nullopt when that local time does not exist (DST gap).
std::optional<time_t> FirstOccurrence(int year, int mon0, int mday, int hour, int minute) {
  std::optional<time_t> best;
  for (int isdst : {0, 1}) {
    std::tm tm{};
    tm.tm_year = year;
    tm.tm_mon = mon0;
    tm.tm_mday = mday;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_isdst = isdst;
    time_t t = mktime(&tm);
    if (t == static_cast<time_t>(-1)) continue;
    std::tm back{};
    localtime_r(&t, &back);
    if (back.tm_year != year || back.tm_mon != mon0 || back.tm_mday != mday ||
        back.tm_hour != hour || back.tm_min != minute) {
      continue;
    }
    if (!best || t < *best) best = t;
  }
  return best;
}

}  // namespace

StatusOr<CronSpec> ParseCron(std::string_view text) {
  std::string_view expanded = Macro(text);
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < expanded.size()) {
    while (i < expanded.size() && std::isspace(static_cast<unsigned char>(expanded[i]))) ++i;
    size_t start = i;
    while (i < expanded.size() && !std::isspace(static_cast<unsigned char>(expanded[i]))) ++i;
    if (i > start) fields.push_back(expanded.substr(start, i - start));
  }
  std::string prefix = "cron '" + std::string(text) + "': ";
  if (fields.size() != 5) {
    return Status::Error(prefix +
                         "expected 5 fields (minute hour day-of-month month day-of-week), got " +
                         std::to_string(fields.size()));
  }
  std::array<std::vector<bool>, 5> bits;
  for (size_t f = 0; f < 5; ++f) {
    bits[f].assign(kFields[f].max + 1, false);
    Status s = ParseField(fields[f], kFields[f], &bits[f]);
    if (!s.ok()) return Status::Error(prefix + s.message());
  }
  CronSpec spec;
  for (int v = 0; v < 60; ++v) spec.minutes[v] = bits[0][v];
  for (int v = 0; v < 24; ++v) spec.hours[v] = bits[1][v];
  for (int v = 1; v <= 31; ++v) spec.days_of_month[v] = bits[2][v];
  for (int v = 1; v <= 12; ++v) spec.months[v] = bits[3][v];
  for (int v = 0; v <= 7; ++v) {
    if (bits[4][v]) spec.days_of_week[v % 7] = true;
  }
  spec.dom_restricted = fields[2][0] != '*';
  spec.dow_restricted = fields[4][0] != '*';
  return spec;
}

bool ValidTimeZone(const std::string& timezone) {
  if (timezone.empty() || timezone[0] == '/' || timezone.find("..") != std::string::npos) {
    return false;
  }
  for (char c : timezone) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' ||
          c == '+')) {
      return false;
    }
  }
  std::error_code ec;
  return std::filesystem::is_regular_file("/usr/share/zoneinfo/" + timezone, ec);
}

StatusOr<int64_t> NextRun(std::string_view cron, const std::string& timezone, int64_t after_ms) {
  StatusOr<CronSpec> spec = ParseCron(cron);
  if (!spec.ok()) return spec.status();
  if (!ValidTimeZone(timezone)) return Status::Error("unknown time zone '" + timezone + "'");
  ScopedTimeZone zone(timezone);
  time_t after = static_cast<time_t>(after_ms >= 0 ? after_ms / 1000 : (after_ms - 999) / 1000);
  std::tm start{};
  localtime_r(&after, &start);
  constexpr int kDays = 5 * 366 + 1;
  for (int d = 0; d < kDays; ++d) {
    // Noon of the d-th local day from the start: mktime normalises the date.
    std::tm day{};
    day.tm_year = start.tm_year;
    day.tm_mon = start.tm_mon;
    day.tm_mday = start.tm_mday + d;
    day.tm_hour = 12;
    day.tm_isdst = -1;
    if (mktime(&day) == static_cast<time_t>(-1)) continue;
    if (!DayMatches(*spec, day.tm_mday, day.tm_mon + 1, day.tm_wday)) continue;
    for (int h = 0; h < 24; ++h) {
      if (!spec->hours[h]) continue;
      for (int m = 0; m < 60; ++m) {
        if (!spec->minutes[m]) continue;
        std::optional<time_t> t = FirstOccurrence(day.tm_year, day.tm_mon, day.tm_mday, h, m);
        if (t && static_cast<int64_t>(*t) * 1000 > after_ms) return static_cast<int64_t>(*t) * 1000;
      }
    }
  }
  return Status::Error("cron '" + std::string(cron) + "' matches no time in the next 5 years");
}

void PinTimeZoneVariable() {
  std::lock_guard<std::mutex> lock(tz_mu);
  if (getenv("TZ") == nullptr) setenv("TZ", ":/etc/localtime", 1);
}

}  // namespace slipway

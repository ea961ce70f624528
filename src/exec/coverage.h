// coverage: a job's code coverage from its log, as GitLab finds it
// (Gitlab::Ci::Trace::Stream#extract_coverage): of the log's lines, the last
// one in which the job's regexp matches and its match holds a number; the
// match is Ruby's line.scan(regexp).flatten.last, and the coverage the first
// number (digits, optionally a decimal part) in it.
#ifndef SLIPWAY_EXEC_COVERAGE_H_
#define SLIPWAY_EXEC_COVERAGE_H_

#include <optional>
#include <string>
#include <string_view>

#include "config/ruby_regexp.h"

namespace slipway {

// From log text (lines split at '\n', a trailing '\r' dropped): the
// coverage as written ("98.5"), or none.
std::optional<std::string> CoverageInLog(std::string_view log, const RubyRegexp& regexp);

// The same, reading the log file at path (a line at a time, so a large log
// costs no more memory than its longest line); none when it cannot be read.
std::optional<std::string> CoverageInLogFile(const std::string& path, const RubyRegexp& regexp);

}  // namespace slipway

#endif  // SLIPWAY_EXEC_COVERAGE_H_

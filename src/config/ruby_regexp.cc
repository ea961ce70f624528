#include "config/ruby_regexp.h"

#include <re2/re2.h>

#include <utility>
#include <vector>

namespace slipway {

RubyRegexp::RubyRegexp(std::string source, std::unique_ptr<re2::RE2> re2)
    : source_(std::move(source)), re2_(std::move(re2)) {}

RubyRegexp::~RubyRegexp() = default;

std::shared_ptr<const RubyRegexp> RubyRegexp::Parse(std::string_view text, std::string* error) {
  std::string unescaped;
  unescaped.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == '/') {
      unescaped.push_back('/');
      ++i;
    } else {
      unescaped.push_back(text[i]);
    }
  }
  // Ruby: %r{^/(?<regexp>.*)/(?<flags>[ismU]*)$}. The greedy .* ends the
  // pattern at the last slash, and . does not cross a line break.
  size_t last = unescaped.rfind('/');
  if (unescaped.empty() || unescaped[0] != '/' || last == 0 || last == std::string::npos) {
    *error = "not of the form /pattern/flags";
    return nullptr;
  }
  std::string_view flags = std::string_view(unescaped).substr(last + 1);
  if (flags.find_first_not_of("ismU") != std::string_view::npos) {
    *error = "unknown flag in '" + std::string(flags) + "' (GitLab accepts i, s, m and U)";
    return nullptr;
  }
  std::string pattern = unescaped.substr(1, last - 1);
  if (pattern.find('\n') != std::string::npos) {
    *error = "the pattern spans lines";
    return nullptr;
  }
  std::string source = flags.empty() ? pattern : "(?" + std::string(flags) + ")" + pattern;
  RE2::Options options;
  options.set_log_errors(false);
  auto re2 = std::make_unique<re2::RE2>(source, options);
  if (!re2->ok()) {
    *error = re2->error();
    return nullptr;
  }
  return std::shared_ptr<const RubyRegexp>(new RubyRegexp(std::move(source), std::move(re2)));
}

bool RubyRegexp::PartialMatch(std::string_view text) const {
  return re2::RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *re2_);
}

std::optional<std::string> RubyRegexp::LastMatch(std::string_view text) const {
  int groups = re2_->NumberOfCapturingGroups();
  std::vector<re2::StringPiece> found(groups + 1);
  std::optional<std::string> last;
  size_t at = 0;
  while (at <= text.size() &&
         re2_->Match(re2::StringPiece(text.data(), text.size()), at, text.size(),
                     re2::RE2::UNANCHORED, found.data(), groups + 1)) {
    const re2::StringPiece& shown = found[groups];
    last = std::string(shown.data() == nullptr ? "" : std::string(shown.data(), shown.size()));
    size_t end = static_cast<size_t>(found[0].data() - text.data()) + found[0].size();
    at = found[0].empty() ? end + 1 : end;  // An empty match moves on by one.
  }
  return last;
}

}  // namespace slipway

// Git ref names, checked as `git check-ref-format` checks them, so that a
// ref from a webhook, the API or a schedule is a name git would create and
// can never be read by git as an option or a revision expression.
#ifndef SLIPWAY_UTIL_REF_NAME_H_
#define SLIPWAY_UTIL_REF_NAME_H_

#include <string>
#include <string_view>

#include "util/status.h"

namespace slipway {

// Every rule of git-check-ref-format(1) without options, on a full ref name
// ("refs/heads/main"): at least one '/'; no component that begins with '.'
// or ends with ".lock"; no "..", "@{", "//", control character, space,
// '~', '^', ':', '?', '*', '[' or '\'; no leading or trailing '/', no
// trailing '.'; not "@". The error names the rule broken, e.g. "contains
// '..'".
Status CheckRefFormat(std::string_view ref);

// A branch or tag by its short name, as pipelines carry it ("main",
// "v1.0"): "refs/heads/<name>" (or "refs/tags/<name>") passes CheckRefFormat
// and the name does not start with '-' (what `git check-ref-format --branch`
// and `git tag` add); a branch may not be called "HEAD" either. Errors read
// "invalid branch name '<name>': <rule>" (or "tag name").
Status CheckBranchOrTagName(std::string_view name, bool tag);

// A ref as schedules name it: "refs/tags/<name>" is a tag, "refs/heads/<name>"
// and a bare name are branches. Only splits; check the name separately.
struct ShortRef {
  std::string name;
  bool tag = false;
};
ShortRef SplitRef(std::string_view ref);

// Whether s is a full commit id as git prints it: 40 lower-case hex digits.
bool IsFullCommitId(std::string_view s);

}  // namespace slipway

#endif  // SLIPWAY_UTIL_REF_NAME_H_

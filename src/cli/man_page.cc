#include "cli/man_page.h"

namespace slipway {
namespace {

// Text made safe for roff: backslashes escaped, and a line that would start
// with a control character ('.' or '\'') protected.
std::string Roff(const std::string& text) {
  std::string out;
  bool line_start = true;
  for (char c : text) {
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    if (c == '\\') {
      out += "\\e";
    } else {
      out += c;
    }
    line_start = c == '\n';
  }
  return out;
}

// An option name or a command, where '-' must stay a hyphen-minus.
std::string Literal(const std::string& text) {
  std::string out;
  for (char c : Roff(text)) {
    if (c == '-') out += '\\';
    out += c;
  }
  return out;
}

// Ends a sentence taken from a description.
std::string Sentence(std::string text) {
  if (!text.empty() && text.back() != '.' && text.back() != ')') text += '.';
  return text;
}

void WriteOption(const OptionDoc& opt, std::string* out) {
  *out += ".TP\n";
  if (opt.flags.empty()) {
    *out += "\\fI" + Roff(opt.name) + "\\fR" + (opt.repeatable ? "..." : "");
  } else {
    for (size_t i = 0; i < opt.flags.size(); ++i) {
      *out += (i == 0 ? "\\fB" : ", \\fB") + Literal(opt.flags[i]) + "\\fR";
    }
    if (!opt.value.empty()) *out += " \\fI" + Roff(opt.value) + "\\fR";
  }
  *out += "\n" + Roff(Sentence(opt.description));
  if (!opt.choices.empty()) {
    std::string list;
    for (const std::string& c : opt.choices) list += (list.empty() ? "" : ", ") + c;
    *out += " One of: " + Roff(list) + ".";
  }
  if (opt.required) *out += " Required.";
  if (opt.repeatable && !opt.flags.empty() &&
      opt.description.find("repeatable") == std::string::npos) {
    *out += " Repeatable.";
  }
  if (!opt.default_value.empty()) *out += " Default: \\fI" + Roff(opt.default_value) + "\\fR";
  *out += "\n";
}

constexpr const char* kDescription =
    R"(slipway reads the GitLab CI pipelines a repository already has
(\fB.gitlab\-ci.yml\fR with includes, \fBextends\fR, anchors, \fB!reference\fR, \fBrules\fR,
\fBneeds\fR, \fBparallel:matrix\fR ...), reports what is wrong with them as
\fIfile\fR:\fIline\fR:\fIcol\fR, shows the jobs GitLab would create for the current commit, and
runs them on this machine as a DAG, each job in a clean copy of the project, with artifacts and
caches.
\fBslipway serve\fR is the same engine as a CI server: pipelines from git pushes (webhooks), the
API or schedules, history in SQLite or PostgreSQL, a GitLab\-compatible REST API and a web
dashboard.
.PP
Run \fBslipway help\fR \fIcommand\fR for a command's usage.
)";

constexpr const char* kTrailer = R"(.SH ENVIRONMENT
.TP
.B NO_COLOR
When set and not empty, \fBslipway run\fR does not colour its output unless given
\fB\-\-color=always\fR (https://no\-color.org).
.TP
.B TERM
\fBdumb\fR turns off colour (with \fB\-\-color=auto\fR) and the status line.
.TP
.BR LANG ", " LC_CTYPE ", " LC_ALL
A UTF\-8 locale lets the status line mark what it leaves out with an ellipsis character
instead of three dots.
.SH EXIT STATUS
.TP
.B 0
Success (warnings included).
.TP
.B 1
The pipeline failed, or \fBlint\fR, \fBlist\fR or \fBconfig\fR found errors; for the server
commands, a database error.
.TP
.B 2
A usage error or an invalid pipeline for \fBrun\fR.
.TP
.B 130
\fBrun\fR was interrupted (SIGINT or SIGTERM) and its jobs canceled.
.SH FILES
.TP
.I .slipway/
In the project: \fBruns/\fR (each run's report, summary and job logs), \fBbuilds/\fR (job
workspaces), \fBcache/\fR.
.TP
.I ./slipway\-data/
The server's default data directory (\fB\-\-data\fR): its SQLite database, repository mirrors,
run directories and caches.
.SH SEE ALSO
.BR git (1)
)";

}  // namespace

std::string ManPage(const std::vector<CommandDoc>& commands, const std::string& version) {
  std::string out =
      ".\\\" Made by `slipway __man` from slipway's command definitions: do not edit.\n"
      ".TH SLIPWAY 1 \"\" \"slipway " +
      Roff(version) + "\" \"User Commands\"\n.SH NAME\n";
  std::string summary = commands.empty() ? "" : commands.front().description;
  if (summary.starts_with("slipway: ")) summary = summary.substr(9);
  out += "slipway \\- " + Roff(summary) + "\n.SH SYNOPSIS\n.nf\n";
  for (const CommandDoc& c : commands) {
    if (c.path.empty() || !c.subcommands.empty()) continue;
    out +=
        "\\fB" + Literal(c.Title()) + "\\fR" + Roff(c.Synopsis().substr(c.Title().size())) + "\n";
  }
  out += "\\fBslipway \\-\\-version\\fR\n.fi\n.SH DESCRIPTION\n";
  out += kDescription;
  out += ".SH COMMANDS\n";
  for (const CommandDoc& c : commands) {
    if (c.path.empty()) continue;
    out += ".SS \"" + Literal(c.Title()) + "\"\n" + Roff(Sentence(c.description)) + "\n";
    out += ".PP\nUsage: \\fB" + Literal(c.Title()) + "\\fR" +
           Roff(c.Synopsis().substr(c.Title().size())) + "\n";
    if (!c.subcommands.empty()) {
      std::string list;
      for (const std::string& s : c.subcommands) list += (list.empty() ? "" : ", ") + s;
      out += ".PP\nSubcommands: " + Roff(list) + ".\n";
    }
    for (const OptionDoc& p : c.positionals) WriteOption(p, &out);
    for (const OptionDoc& o : c.options) WriteOption(o, &out);
  }
  out +=
      ".SH OPTIONS\n.TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\n"
      "After any command: print its usage and exit.\n";
  for (const OptionDoc& o : commands.empty() ? std::vector<OptionDoc>{} : commands[0].options) {
    WriteOption(o, &out);
  }
  out += kTrailer;
  return out;
}

}  // namespace slipway

#include "cli/completions.h"

#include <algorithm>

namespace slipway {
namespace {

// 'text' for bash and zsh.
std::string PosixQuote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\"'\"'") : std::string(1, c);
  return out + "'";
}

// 'text' for fish, where \ and ' are escaped inside single quotes.
std::string FishQuote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string JoinPath(const std::vector<std::string>& path) {
  std::string out;
  for (const std::string& p : path) out += (out.empty() ? "" : " ") + p;
  return out;
}

std::string JoinWords(const std::vector<std::string>& words) { return JoinPath(words); }

// The first line of a description, for the one-line lists shells show.
std::string Brief(const std::string& description) {
  return description.substr(0, description.find('\n'));
}

// What may follow command: its subcommands; for `help`, the commands it
// explains.
std::vector<const CommandDoc*> Children(const CommandDoc& command,
                                        const std::vector<CommandDoc>& commands) {
  const std::vector<std::string>& parent =
      command.path == std::vector<std::string>{"help"} ? commands.front().path : command.path;
  std::vector<const CommandDoc*> children;
  for (const CommandDoc& d : commands) {
    if (d.path.size() == parent.size() + 1 &&
        std::equal(parent.begin(), parent.end(), d.path.begin())) {
      children.push_back(&d);
    }
  }
  return children;
}

// Case patterns ("project/add") of every step from a command to a
// subcommand: how the scripts follow the words typed so far.
std::vector<std::string> Steps(const std::vector<CommandDoc>& commands) {
  std::vector<std::string> steps;
  for (const CommandDoc& c : commands) {
    for (const std::string& s : c.subcommands) steps.push_back(JoinPath(c.path) + "/" + s);
  }
  return steps;
}

// "run/-C" … for every option of every command that takes a value, as
// patterns quoted for a posix shell's case, split by whether it lists its
// choices.
struct ValueOptions {
  std::vector<std::pair<std::string, std::vector<std::string>>> with_choices;
  std::vector<std::string> free;  // Any value: completed as file names.
};
ValueOptions ValueTakers(const std::vector<CommandDoc>& commands) {
  ValueOptions v;
  for (const CommandDoc& c : commands) {
    for (const OptionDoc& o : c.options) {
      if (o.value.empty()) continue;
      for (const std::string& flag : o.flags) {
        std::string key = JoinPath(c.path) + "/" + flag;
        if (o.choices.empty()) {
          v.free.push_back(key);
        } else {
          v.with_choices.emplace_back(key, o.choices);
        }
      }
    }
  }
  return v;
}

std::string CasePattern(const std::vector<std::string>& keys) {
  std::string out;
  for (const std::string& k : keys) out += (out.empty() ? "" : "|") + PosixQuote(k);
  return out;
}

constexpr const char* kHeader =
    " completion for slipway. Made by `slipway __completions` from slipway's command\n"
    "# definitions: do not edit.\n";

std::string Bash(const std::vector<CommandDoc>& commands) {
  std::string out = "# bash" + std::string(kHeader);
  out +=
      "_slipway() {\n"
      "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
      "  local cmd='' word i\n"
      "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
      "    word=${COMP_WORDS[i]}\n"
      "    case \"$cmd/$word\" in\n"
      "      " +
      CasePattern(Steps(commands)) +
      ") cmd=${cmd:+$cmd }$word ;;\n"
      "    esac\n"
      "  done\n"
      "  case \"$cmd/$prev\" in\n";
  ValueOptions values = ValueTakers(commands);
  for (const auto& [key, choices] : values.with_choices) {
    out += "    " + PosixQuote(key) + ") COMPREPLY=($(compgen -W " +
           PosixQuote(JoinWords(choices)) + " -- \"$cur\")); return ;;\n";
  }
  if (!values.free.empty()) {
    out += "    " + CasePattern(values.free) + ") return ;;  # File names.\n";
  }
  out +=
      "  esac\n"
      "  local words=''\n"
      "  case \"$cmd\" in\n";
  for (const CommandDoc& c : commands) {
    std::vector<std::string> words;
    for (const CommandDoc* child : Children(c, commands)) words.push_back(child->path.back());
    words.push_back("--help");
    for (const OptionDoc& o : c.options) words.insert(words.end(), o.flags.begin(), o.flags.end());
    out +=
        "    " + PosixQuote(JoinPath(c.path)) + ") words=" + PosixQuote(JoinWords(words)) + " ;;\n";
  }
  out +=
      "  esac\n"
      "  # Subcommands and options; nothing matching: file names (-o default).\n"
      "  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
      "}\n"
      "complete -o default -F _slipway slipway\n";
  return out;
}

// "name:description" for zsh's _describe, with ':' in the name escaped.
std::string ZshItem(const std::string& name, const std::string& description) {
  std::string escaped;
  for (char c : name) escaped += c == ':' ? std::string("\\:") : std::string(1, c);
  return PosixQuote(escaped + ":" + Brief(description));
}

std::string Zsh(const std::vector<CommandDoc>& commands) {
  std::string out = "#compdef slipway\n# zsh" + std::string(kHeader);
  out +=
      "_slipway() {\n"
      "  local cmd='' word i prev=${words[CURRENT-1]}\n"
      "  for ((i = 2; i < CURRENT; i++)); do\n"
      "    word=${words[i]}\n"
      "    case \"$cmd/$word\" in\n"
      "      (" +
      CasePattern(Steps(commands)) +
      ") cmd=${cmd:+$cmd }$word ;;\n"
      "    esac\n"
      "  done\n"
      "  case \"$cmd/$prev\" in\n";
  ValueOptions values = ValueTakers(commands);
  for (const auto& [key, choices] : values.with_choices) {
    out += "    (" + PosixQuote(key) + ") compadd -- " + JoinWords(choices) + "; return ;;\n";
  }
  if (!values.free.empty()) out += "    (" + CasePattern(values.free) + ") _files; return ;;\n";
  out +=
      "  esac\n"
      "  local -a subcommands options\n"
      "  case \"$cmd\" in\n";
  for (const CommandDoc& c : commands) {
    out += "    (" + PosixQuote(JoinPath(c.path)) + ")\n      subcommands=(";
    std::string items;
    for (const CommandDoc* child : Children(c, commands)) {
      items += (items.empty() ? "" : " ") + ZshItem(child->path.back(), child->description);
    }
    out += items;
    out += ")\n      options=(" + ZshItem("--help", "Print the usage and exit");
    for (const OptionDoc& o : c.options) {
      for (const std::string& flag : o.flags) out += " " + ZshItem(flag, o.description);
    }
    out += ") ;;\n";
  }
  out +=
      "  esac\n"
      "  if [[ ${words[CURRENT]} == -* ]]; then\n"
      "    _describe -t options option options\n"
      "  elif (( ${#subcommands} )); then\n"
      "    _describe -t commands command subcommands\n"
      "  else\n"
      "    _files\n"
      "  fi\n"
      "}\n"
      "_slipway \"$@\"\n";
  return out;
}

std::string Fish(const std::vector<CommandDoc>& commands) {
  std::string out = "# fish" + std::string(kHeader);
  out +=
      "function __slipway_command\n"
      "    set -l cmd slipway\n"
      "    for word in (commandline -opc)[2..-1]\n"
      "        switch \"$cmd/$word\"\n"
      "            case";
  // "slipway project/add": the function keeps "slipway" in front so that
  // what it prints is never empty.
  for (const CommandDoc& c : commands) {
    for (const std::string& s : c.subcommands) out += " " + FishQuote(c.Title() + "/" + s);
  }
  out +=
      "\n                set cmd \"$cmd $word\"\n"
      "        end\n"
      "    end\n"
      "    echo $cmd\n"
      "end\n";
  for (const CommandDoc& c : commands) {
    std::string title = c.Title();
    std::string when = " -n " + FishQuote("test (__slipway_command) = " + FishQuote(title));
    std::vector<const CommandDoc*> children = Children(c, commands);
    if (!children.empty()) out += "complete -c slipway" + when + " -f\n";
    for (const CommandDoc* child : children) {
      out += "complete -c slipway" + when + " -a " + FishQuote(child->path.back()) + " -d " +
             FishQuote(Brief(child->description)) + "\n";
    }
    out += "complete -c slipway" + when + " -s h -l help -d " +
           FishQuote("Print the usage and exit") + "\n";
    for (const OptionDoc& o : c.options) {
      out += "complete -c slipway" + when;
      for (const std::string& flag : o.flags) {
        out += flag.starts_with("--") ? " -l " + flag.substr(2) : " -s " + flag.substr(1);
      }
      if (!o.choices.empty()) {
        out += " -x -a " + FishQuote(JoinWords(o.choices));
      } else if (!o.value.empty()) {
        out += " -r";
      }
      out += " -d " + FishQuote(Brief(o.description)) + "\n";
    }
  }
  return out;
}

}  // namespace

StatusOr<std::string> CompletionScript(const std::string& shell,
                                       const std::vector<CommandDoc>& commands) {
  if (shell == "bash") return Bash(commands);
  if (shell == "zsh") return Zsh(commands);
  if (shell == "fish") return Fish(commands);
  return Status::Error("no completions for shell '" + shell + "': bash, zsh or fish");
}

}  // namespace slipway

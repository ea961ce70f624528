#!/usr/bin/env bash
# `cmake --install BUILD --prefix TMP`: a stripped binary that runs; a man page
# and bash, zsh and fish completions that cover every command and option the
# binary's own `slipway help` lists (they are generated from the same
# definitions, so they must); and completions that complete in each shell.
# zsh and fish are driven when installed (scripts/install-deps.sh installs
# them); bash always.
set -euo pipefail
build=${1:?usage: install_test.sh BUILD_DIR}
prefix=$(mktemp -d /tmp/slipway-install.XXXXXX)
trap 'rm -rf "$prefix"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" >/dev/null
bin=$prefix/bin/slipway
share=$prefix/share
[ -x "$bin" ] || fail "no $bin"
"$bin" --version | grep -q '^slipway [0-9]' || fail "$bin --version"
sections=$(readelf -S -W "$bin")
grep -q '\.debug_info' <<<"$sections" && fail "$bin keeps its debug information"
grep -q '\.symtab' <<<"$sections" && fail "$bin keeps its symbol table"
echo "installed binary: $(stat -c %s "$bin") bytes (build tree: $(stat -c %s "$build/slipway"))"

man_page=$share/man/man1/slipway.1
warnings=$(groff -man -ww -z "$man_page" 2>&1)
[ -z "$warnings" ] || fail "groff warns about $man_page: $warnings"
man_text=$(groff -man -Tascii -P -cbou -rLL=300n "$man_page")
bash_script=$share/bash-completion/completions/slipway
zsh_script=$share/zsh/site-functions/_slipway
fish_script=$share/fish/vendor_completions.d/slipway.fish
for f in "$bash_script" "$zsh_script" "$fish_script"; do [ -s "$f" ] || fail "no $f"; done

# Every command `slipway help` shows, and each of its options, is in the man
# page and in every completion script.
check_command() {
  local usage line opt sub
  usage=$("$bin" help "$@")
  grep -qF -- "slipway $*" <<<"$man_text" || fail "man page lacks 'slipway $*'"
  for opt in $(grep -oE '^  (-[A-Za-z],)?--[a-z-]+' <<<"$usage" | sed 's/.*,//; s/^ *//'); do
    [ "$opt" = --help ] && continue
    grep -qF -- "$opt" <<<"$man_text" || fail "man page lacks $opt of 'slipway $*'"
    for f in "$bash_script" "$zsh_script" "$fish_script"; do
      grep -qF -- "${opt#--}" "$f" || fail "$f lacks $opt of 'slipway $*'"
    done
  done
  # Subcommands: the lines after "Subcommands:".
  for sub in $(sed -n '/^Subcommands:/,/^$/p' <<<"$usage" | grep -oE '^  [a-z][a-z-]*'); do
    check_command "$@" "$sub"
  done
}
for top in $(sed -n '/^Subcommands:/,/^$/p' <<<"$("$bin" help)" | grep -oE '^  [a-z][a-z-]*'); do
  check_command "$top"
done

expect() {  # expect WHAT GOT WANT
  [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

bash_complete() {
  bash --norc --noprofile -c \
    'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _slipway; echo "${COMPREPLY[*]}"' \
    _ "$bash_script" "$@"
}
expect "bash: slipway pro" "$(bash_complete slipway pro)" "project"
expect "bash: slipway project" "$(bash_complete slipway project '')" "add list set remove --help"
expect "bash: slipway run --col" "$(bash_complete slipway run --col)" "--color"
expect "bash: slipway run --color" "$(bash_complete slipway run --color '')" "auto always never"
expect "bash: slipway token create --role" "$(bash_complete slipway token create --role r)" "read run runner"
expect "bash: slipway project add --data (file names)" \
  "$(bash_complete slipway project add --data '')" ""
expect "bash: slipway help s" "$(bash_complete slipway help s)" "show serve schedule"

if command -v zsh >/dev/null; then
  # The completion system itself needs a terminal; its functions are
  # replaced by ones that print what they were given.
  zsh_complete() {
    zsh -f -c '
      _describe() { print -r -- "${(@P)${@[-1]}}" }
      compadd() { shift; print -r -- "$*" }
      _files() { print -r -- "(files)" }
      script=$1; shift
      source $script >/dev/null
      words=("$@"); CURRENT=$#
      _slipway' _ "$zsh_script" "$@"
  }
  expect "zsh: slipway project" "$(zsh_complete slipway project '')" \
    "add:Register a git repository; prints its id list:List the registered projects set:Change a project's settings remove:Delete a project with its pipelines, logs, artifacts, caches and mirror"
  expect "zsh: slipway run --color" "$(zsh_complete slipway run --color '')" "auto always never"
  expect "zsh: slipway project add --data" "$(zsh_complete slipway project add --data '')" "(files)"
  expect "zsh: slipway runs -" "$(zsh_complete slipway runs -)" \
    "--help:Print the usage and exit -C:Project directory --directory:Project directory"
else
  echo "zsh is not installed: its completion was not driven"
fi

if command -v fish >/dev/null; then
  fish_complete() { fish --no-config -c "source $fish_script; complete -C '$1'" | cut -f1 | sort | tr '\n' ' '; }
  expect "fish: slipway pro" "$(fish_complete 'slipway pro')" "project "
  expect "fish: slipway project " "$(fish_complete 'slipway project ')" "add list remove set "
  expect "fish: slipway run --color " "$(fish_complete 'slipway run --color ')" "always auto never "
  expect "fish: slipway project add --no" "$(fish_complete 'slipway project add --no')" "--no-check "
else
  echo "fish is not installed: its completion was not driven"
fi
echo "PASS"

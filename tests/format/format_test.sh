#!/usr/bin/env bash
# Fails when a C++ source under src/, tests/, bench/ or examples/ is not laid out as
# .clang-format says, and names each such file with the command that fixes it.
# Usage: format_test.sh CLANG_FORMAT SOURCE_DIR
set -euo pipefail
clang_format=$1
cd "$2"
mapfile -t files < <(git ls-files -- 'src/*.cc' 'src/*.h' 'tests/*.cc' 'tests/*.h' \
  'bench/*.cc' 'bench/*.h' 'examples/*.cc' 'examples/*.h' 2>/dev/null ||
  find src tests bench examples \( -name '*.cc' -o -name '*.h' \) -print)
if [ ${#files[@]} -eq 0 ]; then
  echo "format_test: no C++ sources found under $PWD" >&2
  exit 1
fi
if ! out=$("$clang_format" --dry-run -Werror "${files[@]}" 2>&1); then
  mapfile -t bad < <(printf '%s\n' "$out" | sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: error.*/\1/p' | sort -u)
  printf 'not formatted: %s\n' "${bad[@]}" >&2
  echo "fix with: $clang_format -i ${bad[*]}" >&2
  exit 1
fi
echo "format_test: ${#files[@]} files follow .clang-format"

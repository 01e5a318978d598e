#!/usr/bin/env bash
# clang-format over the project's C sources: every tracked *.c / *.h under src/ include/
# tools/ tests/ bench/, minus EXCLUDE below, with the style of .clang-format.
#   scripts/format.sh            format them in place (make format)
#   scripts/format.sh --check    change nothing; list the files that deviate and exit 1 if
#                                any does (the ctest format_check; make format-check)
#   scripts/format.sh --list     print the file list
# The style output differs between clang-format releases; the project's is the one of
# Debian 12 (clang-format 14). Another major version: --check skips (exit 77) rather than
# report a drift that is only the tool's; formatting warns and goes on.
# CLANG_FORMAT=/path/to/clang-format overrides the binary (default: clang-format-14, else
# clang-format).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

WANT_MAJOR=14
DIRS=(src include tools tests bench)
# Generated or third-party sources that keep their own layout (shell patterns on the path
# from the repository root). None today: generated headers are written to the build tree.
EXCLUDE=()

mode=format
case "${1:-}" in
"") ;;
--check) mode=check ;;
--list) mode=list ;;
*) echo "usage: $0 [--check|--list]" >&2; exit 2 ;;
esac

files=()
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  pats=()
  for d in "${DIRS[@]}"; do pats+=("$d/*.c" "$d/*.h"); done
  while IFS= read -r f; do files+=("$f"); done < <(git ls-files -- "${pats[@]}")
else # a source tarball: every file, as git would list them
  while IFS= read -r f; do files+=("${f#./}"); done < <(find "${DIRS[@]}" -type f \( -name '*.c' -o -name '*.h' \) 2>/dev/null | sort)
fi
kept=()
for f in "${files[@]}"; do
  skip=0
  for x in "${EXCLUDE[@]+"${EXCLUDE[@]}"}"; do
    # shellcheck disable=SC2053 # the pattern is meant to match
    [[ $f == $x ]] && skip=1
  done
  [ -f "$f" ] && [ $skip = 0 ] && kept+=("$f")
done

if [ "$mode" = list ]; then
  printf '%s\n' "${kept[@]}"
  exit 0
fi

cf=${CLANG_FORMAT:-}
if [ -z "$cf" ]; then
  for c in clang-format-$WANT_MAJOR clang-format; do
    if command -v "$c" >/dev/null 2>&1; then cf=$c; break; fi
  done
fi
if [ -z "$cf" ]; then
  echo "clang-format not found (Debian: apt-get install clang-format; make deps)" >&2
  [ "$mode" = check ] && exit 77
  exit 1
fi
major=$("$cf" --version | sed -n 's/.*version \([0-9][0-9]*\).*/\1/p' | head -n1)
if [ "$major" != "$WANT_MAJOR" ]; then
  echo "$cf is version ${major:-unknown}, the project's style is clang-format $WANT_MAJOR's" >&2
  [ "$mode" = check ] && { echo "format check skipped" >&2; exit 77; }
fi

if [ "$mode" = format ]; then
  "$cf" -i --style=file "${kept[@]}"
  echo "formatted ${#kept[@]} files with $cf"
  exit 0
fi

# One run over every file; each deviation is reported as "path:line:col: error: ...".
bad=()
out=$("$cf" --dry-run -Werror --style=file "${kept[@]}" 2>&1) && rc=0 || rc=$?
while IFS= read -r f; do [ -n "$f" ] && bad+=("$f"); done \
  < <(printf '%s\n' "$out" | sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: error: .*/\1/p' | sort -u)
if [ "$rc" -ne 0 ] && [ ${#bad[@]} -eq 0 ]; then
  printf '%s\n' "$out" | head -n 20 || true
  echo "format check: $cf failed (status $rc)"
  exit 1
fi
if [ ${#bad[@]} -eq 0 ]; then
  echo "format check: ${#kept[@]} files match .clang-format ($cf)"
  exit 0
fi
echo "format check: ${#bad[@]} of ${#kept[@]} files deviate from .clang-format (run make format):"
printf '  %s\n' "${bad[@]}"
# the first deviations, so the log says what is wrong
printf '%s\n' "$out" | head -n 20 || true
exit 1

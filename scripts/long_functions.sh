#!/usr/bin/env bash
# List the C functions longer than a limit, longest first: "LINES path:LINE name".
#   scripts/long_functions.sh [-n LINES] [--check] [PATH...]
#     -n LINES   the limit (default 120: issue 12 asks for no function over 120 lines)
#     --check    exit 1 when any function is over the limit (default: always exit 0)
#     PATH       files or directories (default: src tools); tracked *.c files below them
# A function runs from the first line of its signature to its closing brace. The project's
# brace style (.clang-format, BreakBeforeBraces: Linux) puts a function's "{" and "}" alone
# at column 0 and nothing else there, which is what this relies on: no compiler needed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

limit=120
check=0
paths=()
while [ $# -gt 0 ]; do
  case "$1" in
  -n) limit=${2:?-n needs a number}; shift 2 ;;
  --check) check=1; shift ;;
  -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  -*) echo "usage: $0 [-n LINES] [--check] [PATH...]" >&2; exit 2 ;;
  *) paths+=("$1"); shift ;;
  esac
done
case $limit in '' | *[!0-9]*) echo "$0: -n needs a number" >&2; exit 2 ;; esac
[ ${#paths[@]} -gt 0 ] || paths=(src tools)

files=()
for p in "${paths[@]}"; do
  if [ -f "$p" ]; then
    files+=("$p")
  elif git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    while IFS= read -r f; do files+=("$f"); done < <(git ls-files -- "$p/*.c")
  else
    while IFS= read -r f; do files+=("$f"); done < <(find "$p" -name '*.c' | sort)
  fi
done
[ ${#files[@]} -gt 0 ] || { echo "no C files under ${paths[*]}" >&2; exit 2; }

out=$(awk -v limit="$limit" '
FNR == 1 { infn = 0; sig = 0; name = "" }
# a signature starts at column 0 with an identifier and has a "(" (not a label "out:")
!infn && /^[A-Za-z_]/ && !/^[A-Za-z_][A-Za-z_0-9]*:/ {
  if (sig == 0 || prev_blank_or_end) { sig = FNR; name = "" }
  if (name == "" && match($0, /[A-Za-z_][A-Za-z_0-9]*[ \t]*\(/)) {
    name = substr($0, RSTART, RLENGTH); sub(/[ \t]*\($/, "", name)
  }
}
!infn && /^[ \t]*$/ { sig = 0; name = "" }
!infn && /^(}|#|\/\*| \*)/ { sig = 0; name = "" }
{ prev_blank_or_end = ($0 ~ /;[ \t]*$/) }
!infn && /^\{[ \t]*$/ && sig { infn = 1; next }
infn && /^}/ {
  infn = 0
  n = FNR - sig + 1
  if (n > limit) printf "%d %s:%d %s\n", n, FILENAME, sig, name
  sig = 0; name = ""
}
' "${files[@]}" | sort -k1,1nr -k2,2)

if [ -n "$out" ]; then
  printf '%s\n' "$out"
  echo "$(printf '%s\n' "$out" | wc -l) functions over $limit lines in ${#files[@]} files" >&2
  [ $check = 1 ] && exit 1
else
  echo "no function over $limit lines in ${#files[@]} files" >&2
fi
exit 0

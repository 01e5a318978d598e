#!/usr/bin/env bash
# A fuzzing campaign of one harness, on one core: runs BUILD/fuzz/fuzz_NAME for RUNS
# executions (or SECONDS with -t) from a scratch copy of its seed corpus, niced, one
# process, no -jobs/-workers; prints libFuzzer's final figures. With -m, the inputs that
# add coverage are merged into tests/fuzz/corpus/NAME (libFuzzer -merge=1: only new
# features, so the replayed corpus stays small).
# Usage: tests/fuzz/campaign.sh [-m] [-t SECONDS] BUILD NAME [RUNS]
#   e.g. tests/fuzz/campaign.sh -m build-fuzz cloud_json 10000000
set -euo pipefail
merge=0 secs=
while getopts "mt:" o; do
  case $o in
  m) merge=1 ;;
  t) secs=$OPTARG ;;
  *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
build=${1:?build dir}; name=${2:?harness name without fuzz_}; runs=${3:-10000000}
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$build/fuzz/fuzz_$name
[ -x "$bin" ] || { echo "no $bin (make fuzz-build)"; exit 1; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
cp -r "$root/tests/fuzz/corpus/$name/." "$work/corpus/" 2>/dev/null || true
args=(-print_final_stats=1 -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$build/fuzz/fuzz_$name-")
[ -f "$root/tests/fuzz/$name.dict" ] && args+=(-dict="$root/tests/fuzz/$name.dict")
if [ -n "$secs" ]; then args+=(-max_total_time="$secs"); else args+=(-runs="$runs"); fi
status=0
nice -n 10 "$bin" "${args[@]}" "$work/corpus" 2>"$work/log" || status=$?
grep -E "^#[0-9]+ +DONE|^stat::|^Done|ERROR|SUMMARY" "$work/log" || true
echo "corpus after the run: $(ls "$work/corpus" | wc -l) inputs"
if [ $status -ne 0 ]; then
  tail -60 "$work/log"; exit $status
fi
if [ $merge = 1 ]; then
  nice -n 10 "$bin" -merge=1 "$root/tests/fuzz/corpus/$name" "$work/corpus" 2>&1 | grep -E "MERGE-OUTER: [0-9]+ new files" || true
  echo "tests/fuzz/corpus/$name: $(ls "$root/tests/fuzz/corpus/$name" | wc -l) inputs"
fi

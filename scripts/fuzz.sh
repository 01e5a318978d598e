#!/usr/bin/env bash
# Run every libFuzzer harness in BUILD/fuzz for SECONDS each, starting from its seed
# corpus (tests/fuzz/corpus/<name>) and its dictionary (tests/fuzz/<name>.dict) if any; new
# inputs go to a scratch copy, not the repo. One harness at a time, one process each (no
# -jobs/-workers: the machine is shared). A crash, leak, UB report or a unit slower than
# 10 s fails the run; the reproducer is left in BUILD_DIR/fuzz/<harness>-crash-*.
# Usage: scripts/fuzz.sh BUILD_DIR SECONDS   (CI: 7 harnesses x 15 s)
set -euo pipefail
build=${1:?build dir}
secs=${2:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
shopt -s nullglob
harnesses=("$build"/fuzz/fuzz_*)
if [ ${#harnesses[@]} -eq 0 ]; then
  echo "no fuzz harnesses built in $build/fuzz"; exit 1
fi
status=0
for h in "${harnesses[@]}"; do
  name=$(basename "$h"); corpus_name=${name#fuzz_}
  work=$(mktemp -d)
  if [ -d "$root/tests/fuzz/corpus/$corpus_name" ]; then
    cp -r "$root/tests/fuzz/corpus/$corpus_name/." "$work/"
  fi
  dict=()
  if [ -f "$root/tests/fuzz/$corpus_name.dict" ]; then
    dict=(-dict="$root/tests/fuzz/$corpus_name.dict")
  fi
  echo "== $name for ${secs}s"
  if ! "$h" "${dict[@]}" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
       -artifact_prefix="$build/fuzz/$name-" "$work" 2>"$build/fuzz/$name.log"; then
    echo "FAILED: $name (see $build/fuzz/$name.log)"; tail -40 "$build/fuzz/$name.log"; status=1
  fi
  grep -E "stat::number_of_executed_units|stat::average_exec_per_sec" "$build/fuzz/$name.log" || true
  rm -rf "$work"
done
exit $status

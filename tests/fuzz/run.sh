#!/bin/bash
# Run one fuzz target for a bounded time:
#   tests/fuzz/run.sh FUZZER TARGET_DIR WORK_DIR SECONDS [libFuzzer options]
# Every input in TARGET_DIR/crashes (inputs that once failed) runs once
# first, as a regression; then the fuzzer runs for SECONDS from
# TARGET_DIR/seeds, keeping the new inputs it finds in WORK_DIR/corpus.
# A crash, leak, sanitizer report or disagreement fails the run, and the
# input is left in WORK_DIR/crashes: copy it into TARGET_DIR/crashes with
# the fix of its cause. FUZZ_SECONDS overrides SECONDS (a longer run).
# The mutations follow FUZZ_SEED (1 unless given): a run of the suite finds
# what the same run finds anywhere, so a failure belongs to the change that
# brought it and replays; FUZZ_SEED=0 draws a new seed (exploring).
set -uo pipefail
fuzzer=$1 target=$2 work=$3 seconds=${FUZZ_SECONDS:-$4}
seed=${FUZZ_SEED:-1}
shift 4
mkdir -p "$work/corpus" "$work/crashes"
# Reports abort at once; leaks are checked after every input.
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
# libFuzzer's own failure code is 77, which ctest takes for a skip (a target
# that cannot run here exits 77 before fuzzing): failures exit 1.
fail=(-error_exitcode=1 -timeout_exitcode=1)

regressions=()
if [ -d "$target/crashes" ]; then
	mapfile -t regressions < <(find "$target/crashes" -type f ! -name '*.md' | sort)
fi
if ((${#regressions[@]})); then
	echo "# $(basename "$fuzzer"): ${#regressions[@]} saved input(s) of $target/crashes"
	"$fuzzer" "${fail[@]}" "$@" "${regressions[@]}" || exit $?
fi
echo "# $(basename "$fuzzer"): ${seconds}s from $target/seeds"
exec "$fuzzer" "${fail[@]}" "$@" -seed="$seed" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 \
	-print_final_stats=1 -artifact_prefix="$work/crashes/" "$work/corpus" "$target/seeds"

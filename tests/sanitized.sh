#!/bin/bash
# Run one suite against the sanitizer build (cmake -DCUBENET_SANITIZE=ON)
# and fail on any AddressSanitizer, LeakSanitizer or UBSan report from any
# of our binaries the suite starts, even when the suite itself passed.
#   tests/sanitized.sh REPORT_DIR COMMAND [ARGS...]
set -uo pipefail
dir=$1
shift
rm -rf "$dir"
mkdir -p "$dir"
# Reports go to files, so that a binary whose stderr a runtime swallows (the
# CNI plugin under podman) still leaves its report where we look.
export ASAN_OPTIONS="detect_leaks=1:log_path=$dir/asan:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:log_path=$dir/ubsan"
"$@"
rc=$?
reports=$(find "$dir" -type f -size +0 | sort)
if [ -n "$reports" ]; then
	for r in $reports; do
		echo "=== sanitizer report: $r"
		cat "$r"
	done
	echo "sanitized: $(echo "$reports" | wc -l) report(s)"
	exit 1
fi
exit $rc

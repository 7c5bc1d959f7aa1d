#!/bin/sh
# Runs the whole test suite twice: a release build, then a build under
# AddressSanitizer + UndefinedBehaviorSanitizer; then the index concurrency
# test alone under ThreadSanitizer. Ends with "N passed, N failed" summed
# over all runs. Assumes scripts/setup.sh has installed the packages.
set -u
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)
passed=0
failed=0
run_suite() {
	name=$1
	shift
	echo "=== $name build"
	if ! ./scripts/build.sh "$@"; then
		echo "=== $name: BUILD FAILED"
		failed=$((failed + 1))
		return
	fi
	log=$(mktemp)
	(cd "$1" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		LSAN_OPTIONS=suppressions="$root/tests/lsan.supp" \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j "$jobs") 2>&1 | tee "$log"
	# ctest's summary: "NN% tests passed, F tests failed out of T"
	line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
	if [ -z "$line" ]; then
		failed=$((failed + 1))
	else
		f=$(echo "$line" | sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/')
		t=$(echo "$line" | sed -E 's/.* failed out of ([0-9]+).*/\1/')
		notrun=$(grep -cE '\*\*\*(Not Run|Skipped)' "$log" || true)
		passed=$((passed + t - f - notrun))
		failed=$((failed + f))
	fi
	rm -f "$log"
}
run_suite release build
run_suite "asan+ubsan" build-asan -DHG_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo

# Third stage: the concurrency tests only, under ThreadSanitizer.
tsan_tests="test_index_concurrency test_service_journal"
echo "=== tsan build ($tsan_tests only)"
# shellcheck disable=SC2086
if cmake -S . -B build-tsan -G Ninja -DHG_TSAN=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
	ninja -C build-tsan $tsan_tests; then
	for t in $tsan_tests; do
		if TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 ./build-tsan/tests/$t; then
			passed=$((passed + 1))
		else
			echo "=== tsan: $t FAILED"
			failed=$((failed + 1))
		fi
	done
else
	echo "=== tsan: BUILD FAILED"
	failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

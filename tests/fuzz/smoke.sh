#!/bin/sh
# smoke.sh SECONDS - runs every built libFuzzer target for SECONDS each on
# a scratch copy of its seed corpus. Prints "N passed, N failed".
secs=${1:-20}
passed=0; failed=0
for bin in build-fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	work=$(mktemp -d)
	[ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$work/"
	if "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1 "$work" \
		>"$work.log" 2>&1; then
		execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work.log" | grep -o '[0-9]*$')
		echo "ok   $name ($execs runs in ${secs}s)"
		passed=$((passed + 1))
	else
		echo "FAIL $name"; tail -40 "$work.log"
		failed=$((failed + 1))
	fi
	rm -rf "$work" "$work.log"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

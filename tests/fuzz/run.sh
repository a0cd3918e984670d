#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# run.sh — run the libFuzzer targets built by `make fuzz` for a bounded time.
#
#   tests/fuzz/run.sh [-t SECS] [-j JOBS] [-b BUILD] [TARGET...]
#
# TARGET is a name under tests/fuzz/ without fuzz_ and .c (default: all).
# Each target first replays its seeds and any tests/fuzz/regress/TARGET/
# inputs, then fuzzes for SECS seconds (default 20) with the corpus kept in
# BUILD/corpus/TARGET (BUILD default build/fuzz). JOBS targets run at once
# (default 1). Exits non-zero if any target found a crash, a leak, a
# sanitizer report or a broken property, or could not run at all: a target
# that cannot run is a failure, never a skip.
set -uo pipefail
cd "$(dirname "$0")/../.."

secs=20 jobs=1 build=build/fuzz
while getopts "t:j:b:" o; do
	case $o in
	t) secs=$OPTARG ;;
	j) jobs=$OPTARG ;;
	b) build=$OPTARG ;;
	*) echo "usage: $0 [-t SECS] [-j JOBS] [-b BUILD] [TARGET...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for f in tests/fuzz/fuzz_*.c; do t=${f#tests/fuzz/fuzz_}; targets+=("${t%.c}"); done
fi

# Readable stacks when llvm-symbolizer is there; every report is fatal.
sym=$(command -v llvm-symbolizer || ls /usr/lib/llvm-*/bin/llvm-symbolizer 2>/dev/null | tail -1)
[ -n "$sym" ] && export ASAN_SYMBOLIZER_PATH=$sym
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

max_len() {
	case $1 in
	config) echo 8192 ;;
	lease) echo 4096 ;;
	*) echo 1024 ;;
	esac
}

run_one() {
	local t=$1 bin=$build/fuzz_$1 log=$build/logs/$1.log
	local corpus=$build/corpus/$1 seeds=tests/fuzz/seeds/$1 regress=tests/fuzz/regress/$1
	mkdir -p "$corpus" "$build/logs" "$build/crashes"
	: >"$log"
	if [ ! -x "$bin" ]; then
		echo "FAIL $t: $bin not built" | tee -a "$log"
		return 1
	fi
	[ "$t" = config ] && cp conf/ns.conf "$corpus/sample-ns.conf"
	local dict=() ; [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")

	# Known inputs first: a fixed bug stays fixed even in a 1 s run.
	local known=()
	for f in "$seeds"/* "$regress"/*; do [ -f "$f" ] && known+=("$f"); done
	if [ ${#known[@]} -gt 0 ] && ! "$bin" -runs=1 "${known[@]}" >>"$log" 2>&1; then
		echo "FAIL $t: $(sed -n 's/^Running: //p' "$log" | tail -1) fails"
		grep -a -m1 -E 'ERROR: |runtime error:|property failed|Parse error' "$log" | cut -c1-300 | sed 's/^/     /'
		echo "     log: $log"
		return 1
	fi

	local start=$SECONDS rc=0
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len="$(max_len "$t")" \
		"${dict[@]}" -print_final_stats=1 -artifact_prefix="$build/crashes/$t-" \
		"$corpus" "$seeds" >>"$log" 2>&1 || rc=$?
	local execs eps cov corp
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
	corp=$(grep -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' "$log" | tail -1)
	if [ $rc -ne 0 ]; then
		local art
		art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
		echo "FAIL $t after $((SECONDS - start)) s (exit $rc): ${art:-no artifact}"
		grep -a -m1 -E 'ERROR: |runtime error:|property failed|Parse error|ALARM|out-of-memory' "$log" | cut -c1-300 | sed 's/^/     /'
		echo "     log: $log; reproduce: $bin ${art:-<input>}"
		return 1
	fi
	printf 'ok   %-8s %5s s  %10s execs  %7s exec/s  %s  %s\n' "$t" "$((SECONDS - start))" \
		"${execs:-?}" "${eps:-?}" "${cov:-cov: ?}" "${corp:-}"
}

fail=0 running=0
for t in "${targets[@]}"; do
	if [ "$jobs" -le 1 ]; then
		run_one "$t" || fail=1
		continue
	fi
	run_one "$t" &
	running=$((running + 1))
	if [ $running -ge "$jobs" ]; then
		wait -n || fail=1
		running=$((running - 1))
	fi
done
while [ $running -gt 0 ]; do
	wait -n || fail=1
	running=$((running - 1))
done
exit $fail

#!/usr/bin/env bash
# Runs the fuzz targets one after another (one core), SECONDS each, and reports the ones
# that failed. Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
#
#   fuzz/run.sh SECONDS [TARGET...]      all targets when none is named
#
# Environment: RSS_LIMIT_MB (default 2048), TIMEOUT (seconds one input may take, default
# 10), SANITIZER (default none: the code is safe Rust, and without ASan it runs twice as
# fast; `address` to check the dependencies' unsafe code), CARGO_TARGET_DIR.
#
# New inputs go to fuzz/work/<target>/ (not committed), seeds are read from
# fuzz/corpus/<target>/, fuzz/dict/<target>.dict is the target's dictionary when there is
# one, failing inputs land in fuzz/artifacts/<target>/; a target's log is
# fuzz/work/<target>.log.
set -u

seconds=${1:?usage: fuzz/run.sh SECONDS [TARGET...]}
shift
cd "$(dirname "$0")" || exit 2

options=(--sanitizer "${SANITIZER:-none}")
if [ -n "${CARGO_TARGET_DIR:-}" ]; then
    options+=(--target-dir "$CARGO_TARGET_DIR")
fi

if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

cargo +nightly fuzz build "${options[@]}" || exit 2
# The binaries are run directly: `cargo fuzz run` would rebuild them from whatever the
# sources are by then, in the middle of a campaign.
binaries="${CARGO_TARGET_DIR:-target}/x86_64-unknown-linux-gnu/release"

failed=()
for target in "${targets[@]}"; do
    mkdir -p "work/$target" "artifacts/$target"
    log="work/$target.log"
    dict=()
    if [ -f "dict/$target.dict" ]; then
        dict=(-dict="dict/$target.dict")
    fi
    started=$(date +%s)
    "$binaries/$target" \
        -artifact_prefix="artifacts/$target/" \
        "${dict[@]}" \
        -max_total_time="$seconds" \
        -rss_limit_mb="${RSS_LIMIT_MB:-2048}" \
        -timeout="${TIMEOUT:-10}" \
        -print_final_stats=1 \
        "work/$target" "corpus/$target" >"$log" 2>&1
    status=$?
    elapsed=$(($(date +%s) - started))
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [ $status -eq 0 ]; then
        echo "$target: ok, ${runs:-?} inputs in ${elapsed}s"
    else
        failed+=("$target")
        echo "$target: FAILED after ${elapsed}s (exit $status), see fuzz/$log"
        grep -m1 -E 'panicked at|ERROR: libFuzzer' "$log" | sed 's/^/    /'
        grep -E '^artifact_prefix|Test unit written to' "$log" | sed 's/^/    /'
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "failed: ${failed[*]}"
    exit 1
fi
echo "all ${#targets[@]} targets ran ${seconds}s each without a failure"

#!/usr/bin/env bash
# Builds and runs every cargo-fuzz target of every fuzz crate for N seconds each.
#
#   scripts/fuzz.sh              # every crate, 30 s per target
#   scripts/fuzz.sh 300          # every crate, 300 s per target
#   scripts/fuzz.sh 30 dynamo    # only dynamo/fuzz (several names allowed; `aurora` means all
#                                # four aurora fuzz crates, `aurora/fuzz_pgwire` just that one)
#
# Prints one summary line per target (executions, crashes) and exits non-zero if any target
# crashed, hung, ran out of memory or failed to build. Findings land in
# <crate>/<fuzz dir>/artifacts/<target>/ (gitignored); reproduce one with
# `<binary> <artifact>` or `cargo fuzz run --fuzz-dir <fuzz dir> <target> <artifact>`.
# Not part of .ci/run: it takes minutes to hours.
#
# Environment:
#   FUZZ_TARGET_DIR  shared target dir for all fuzz crates (default: <repo>/target-fuzzbuild),
#                    so their common dependencies compile once.
#   FUZZ_SANITIZER   address (default when the toolchain ships the ASan runtime) or none.
#   FUZZ_RSS_MB      libFuzzer -rss_limit_mb (default 2048).
#   FUZZ_TIMEOUT     libFuzzer per-input -timeout in seconds (default 10).
set -uo pipefail

secs="${1:-30}"
shift || true
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target_dir="${FUZZ_TARGET_DIR:-$root/target-fuzzbuild}"
rss="${FUZZ_RSS_MB:-2048}"
per_input="${FUZZ_TIMEOUT:-10}"

if ! [[ "$secs" =~ ^[0-9]+$ ]]; then
    echo "usage: $0 [SECONDS] [CRATE...]" >&2
    exit 2
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked || exit 2
fi

# cargo-fuzz passes nightly-only rustc flags (-Zsanitizer, -Cpasses=sancov-module). A stable
# toolchain accepts them with RUSTC_BOOTSTRAP=1; on nightly the variable is harmless.
export RUSTC_BOOTSTRAP=1

sysroot="$(rustc --print sysroot)"
if [[ -z "${FUZZ_SANITIZER:-}" ]]; then
    if ls "$sysroot"/lib/rustlib/*/lib/librustc-*_rt.asan.a >/dev/null 2>&1; then
        FUZZ_SANITIZER=address
    else
        FUZZ_SANITIZER=none
    fi
fi
triple="$(rustc -vV | sed -n 's/^host: //p')"
bin_dir="$target_dir/$triple/release"
# The same flags for every crate, so the shared target dir is reused. Debug assertions and
# overflow checks stay on (cargo fuzz's default): an overflow is a finding.
build_flags=(--target-dir "$target_dir" --sanitizer "$FUZZ_SANITIZER" --debug-assertions --codegen-units 16)

# Every cargo-fuzz crate: <crate>/<fuzz dir>/Cargo.toml with `cargo-fuzz = true`.
mapfile -t crates < <(cd "$root" && grep -l '^cargo-fuzz = true' ./*/fuzz*/Cargo.toml \
    | sed -e 's|^\./||' -e 's|/Cargo.toml$||' | sort)

selected=()
for c in "${crates[@]}"; do
    if [[ $# -eq 0 ]]; then
        selected+=("$c")
        continue
    fi
    for want in "$@"; do
        if [[ "$c" == "$want" || "${c%%/*}" == "$want" ]]; then
            selected+=("$c")
            break
        fi
    done
done
if [[ ${#selected[@]} -eq 0 ]]; then
    echo "no fuzz crate matches: $* (have: ${crates[*]})" >&2
    exit 2
fi

failed=0
summary=()
for c in "${selected[@]}"; do
    crate_dir="${c%%/*}"
    fuzz_dir="${c#*/}"
    echo "== building $c (sanitizer $FUZZ_SANITIZER)" >&2
    if ! (cd "$root/$crate_dir" && cargo fuzz build --fuzz-dir "$fuzz_dir" "${build_flags[@]}"); then
        summary+=("$(printf '%-34s BUILD FAILED' "$c")")
        failed=1
        continue
    fi
    mapfile -t targets < <(cd "$root/$crate_dir" && cargo fuzz list --fuzz-dir "$fuzz_dir")
    for t in "${targets[@]}"; do
        dir="$root/$c"
        corpus="$dir/corpus/$t"
        artifacts="$dir/artifacts/$t"
        mkdir -p "$corpus" "$artifacts"
        # Committed seeds (if any) are read as an extra corpus; new inputs go to corpus/.
        seeds=()
        [[ -d "$dir/seeds/$t" ]] && seeds=("$dir/seeds/$t")
        before="$(find "$artifacts" -type f | wc -l)"
        log="$dir/artifacts/$t.log"
        echo "== running $c $t for ${secs}s" >&2
        "$bin_dir/$t" "$corpus" "${seeds[@]}" -artifact_prefix="$artifacts/" \
            -max_total_time="$secs" -rss_limit_mb="$rss" -timeout="$per_input" \
            -print_final_stats=1 >"$log" 2>&1
        rc=$?
        runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
        after="$(find "$artifacts" -type f | wc -l)"
        found=$((after - before))
        status=ok
        if [[ $rc -ne 0 || $found -gt 0 ]]; then
            status="FAILED (exit $rc; see $log and $artifacts/)"
            failed=1
        fi
        summary+=("$(printf '%-34s %-18s runs=%-10s crashes=%-3s %s' "$c" "$t" "${runs:-?}" "$found" "$status")")
    done
done

echo
echo "fuzz summary (${secs}s per target, sanitizer $FUZZ_SANITIZER):"
printf '%s\n' "${summary[@]}"
exit "$failed"

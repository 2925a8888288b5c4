#!/usr/bin/env bash
# Run every fuzz target for SECONDS (default 300) each, one after another, on one core.
# Needs cargo-fuzz (`cargo install cargo-fuzz --version 0.13.1 --locked`); RUSTC_BOOTSTRAP lets
# stable Rust accept the flags cargo-fuzz passes. Crashes land in fuzz/artifacts/TARGET/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
export RUSTC_BOOTSTRAP=1
for t in wav_pipeline manifest_line model_files; do
  # New inputs go to fuzz/work (ignored by git); fuzz/corpus holds the committed seeds.
  mkdir -p fuzz/work/"$t"
  cargo fuzz run -s none "$t" fuzz/work/"$t" fuzz/corpus/"$t" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    2>&1 | tee "fuzz/last-run-$t.log" | grep -E "^(#[0-9]+.*DONE|Done|stat::number_of_executed_units|==|SUMMARY|artifact)" || true
done

#!/usr/bin/env bash
# Measures the rulesim binary against the floor of merely walking the pcap records, on a
# generated capture of about 1.1 GB (~250k flows), and peak memory at two capture sizes.
#   benches/run.sh [WORKDIR]      (default: target/bench-data)
# Each measurement is the best of three runs, so that page-cache warm-up and a noisy
# neighbour count as little as possible; compare the ratio, not the absolute numbers.
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-target/bench-data}"
mkdir -p "$work"

cargo build --release --quiet --bin rulesim --example make-bench-pcap --example walk-pcap
bin=target/release

for mb in 550 1100; do
  [ -s "$work/bench-$mb.pcap" ] || "$bin/examples/make-bench-pcap" "$work/bench-$mb.pcap" "$mb" 2000
done
big="$work/bench-1100.pcap"

best() { sort -g | head -n 1; }

floor_secs=$(for _ in 1 2 3; do
  "$bin/examples/walk-pcap" "$big" | sed -E 's/.* in ([0-9.]+)s.*/\1/'
done | best)

run_secs=$(for _ in 1 2 3; do
  rm -rf "$work/out"
  "$bin/rulesim" -q -r "$big" -l "$work/out"
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["elapsed_secs"])' "$work/out/stats.json"
done | best)

read -r pkts bytes flows rss <<<"$(python3 -c '
import json,sys
s=json.load(open(sys.argv[1]))
print(s["decoder"]["pkts"], s["decoder"]["bytes"], s["flow"]["created"], s["memory"]["peak_rss_kib"])' "$work/out/stats.json")"

rm -rf "$work/out-half"
"$bin/rulesim" -q -r "$work/bench-550.pcap" -l "$work/out-half"
rss_half=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["memory"]["peak_rss_kib"])' "$work/out-half/stats.json")

python3 - "$pkts" "$bytes" "$flows" "$floor_secs" "$run_secs" "$rss" "$rss_half" <<'PY'
import sys
pkts, nbytes, flows = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
floor, run = float(sys.argv[4]), float(sys.argv[5])
rss, rss_half = int(sys.argv[6]), int(sys.argv[7])
print(f"capture: {nbytes/1e6:.0f} MB of packets, {pkts} packets, {flows} flows")
print(f"floor (walk records):      {floor:.3f}s  {nbytes/floor/1e6:8.1f} MB/s  {pkts/floor:12.0f} packets/s")
print(f"rulesim (decode+flow+eve): {run:.3f}s  {nbytes/run/1e6:8.1f} MB/s  {pkts/run:12.0f} packets/s")
print(f"ratio to floor: {floor/run:.1%}")
print(f"peak RSS: {rss/1024:.1f} MiB on 1.1 GB, {rss_half/1024:.1f} MiB on 0.55 GB")
PY

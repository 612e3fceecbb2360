#!/usr/bin/env bash
# rulesim against Suricata 7.0.10, end to end, on the same generated capture and rules.
#   benches/compare.sh [WORKDIR]        (default: target/bench-compare)
# Environment: RUNS (default 3, measured alternately, median reported), MB (capture size,
# default 1000), SURICATA (default ../shared/tools/suricata-offline; it needs root and
# Suricata installed by ../shared/tools/install-suricata.sh), SURICATA_ARGS (extra
# arguments, e.g. "-c /path/suricata.yaml"), THREADS (default 1: both tools on one
# thread, Suricata's `--runmode single`; N > 1: rulesim `--threads N`, Suricata's
# default pcap runmode `autofp`, whose detection threads follow the cores).
#
# The capture is realistic benign traffic made by the project's own generator
# (`make-bench-pcap --mix`: TLS sessions with SNI and full handshakes, HTTP/1.1 pages
# and downloads, DNS; one flow in a hundred names a host of the domain list). Four
# rulesets: none, a 20-rule policy (benches/data/policy-20.rules), the 10,000-domain
# list as an AWS DENYLIST rule group (20,000 rules), and Emerging Threats Open. For each,
# the script checks the alerts agree per flow (5-tuple
# and signature ids) and prints wall time, ratio, rule-load time (a run on a one-packet
# capture), MB/s, packets/s and peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-target/bench-compare}"
runs="${RUNS:-3}"
threads="${THREADS:-1}"
if [ "$threads" = 1 ]; then runmode=single; else runmode=autofp; fi
mb="${MB:-1000}"
suricata="${SURICATA:-../shared/tools/suricata-offline}"
# Suricata's stream memcaps are raised: at their defaults it drops stream data once 500
# downloads are open at a time (`tcp.insert_data_normal_fail`), an effect of its memory
# accounting that rulesim does not reproduce, and the alerts would differ for that alone.
read -r -a suricata_args <<<"${SURICATA_ARGS:-} --set stream.memcap=1gb --set stream.reassembly.memcap=2gb"
shared=../shared/rulesets
mkdir -p "$work"

cargo build --release --quiet --bin rulesim --example make-bench-pcap
bin=target/release

capture="$work/mix-$mb.pcap"
[ -s "$capture" ] || "$bin/examples/make-bench-pcap" "$capture" "$mb" 500 --mix \
  --hosts "$shared/domains/adservers-10k.txt"
tiny="$work/tiny.pcap"
[ -s "$tiny" ] || python3 - "$capture" "$tiny" <<'PY'
import sys
src, dst = open(sys.argv[1], 'rb'), open(sys.argv[2], 'wb')
dst.write(src.read(24))
head = src.read(16)
dst.write(head + src.read(int.from_bytes(head[8:12], 'little')))
PY

group="$work/deny10k.json"
[ -s "$group" ] || python3 - "$shared/domains/adservers-10k.txt" "$group" <<'PY'
import json, sys
names = [l.strip() for l in open(sys.argv[1]) if l.strip()]
json.dump({"RuleGroup": {"RulesSource": {"RulesSourceList": {
    "Targets": names, "TargetTypes": ["TLS_SNI", "HTTP_HOST"], "GeneratedRulesType": "DENYLIST"}},
    "StatefulRuleOptions": {"RuleOrder": "DEFAULT_ACTION_ORDER"}},
  "RuleGroupResponse": {"RuleGroupName": "deny10k", "Type": "STATEFUL", "Capacity": 30000,
    "RuleGroupArn": "arn:aws:network-firewall:us-east-1:123456789012:stateful-rulegroup/deny10k"}},
  open(sys.argv[2], "w"))
PY
# Suricata reads the same group as rules: rulesim prints them.
deny_rules="$work/deny10k.rules"
[ -s "$deny_rules" ] || "$bin/rulesim" rules show --rule-group "$group" >"$deny_rules"
empty="$work/empty.rules"
: >"$empty"

# name | rulesim arguments | Suricata rule file
sets=(
  "none|-S $empty|$empty"
  "policy-20|-S benches/data/policy-20.rules|benches/data/policy-20.rules"
  "deny-10k|--rule-group $group|$deny_rules"
  "et-open|-S $shared/et-open/et-open.rules|$shared/et-open/et-open.rules"
)

# Runs a command; prints "wall_secs peak_rss_kib".
measure() {
  /usr/bin/time -f '%e %M' -o "$work/time.txt" "$@" >/dev/null 2>&1 || true
  tail -n 1 "$work/time.txt"
}

run_rulesim() { # out pcap args...
  local out=$1 pcap=$2; shift 2
  rm -rf "$out"; mkdir -p "$out"
  # shellcheck disable=SC2068
  measure "$bin/rulesim" -q --threads "$threads" -r "$pcap" $@ -l "$out"
}

run_suricata() { # out pcap rules
  local out=$1 pcap=$2 rules=$3
  rm -rf "$out"; mkdir -p "$out"
  measure "$suricata" "${suricata_args[@]}" -k none --runmode "$runmode" -r "$pcap" -S "$rules" -l "$out"
}

results="$work/results.txt"
: >"$results"
for entry in "${sets[@]}"; do
  IFS='|' read -r name rargs srules <<<"$entry"
  for i in $(seq "$runs"); do
    r=$(run_rulesim "$work/out-r-$name" "$capture" "$rargs")
    s=$(run_suricata "$work/out-s-$name" "$capture" "$srules")
    echo "$name run $i rulesim $r suricata $s" >>"$results"
  done
  rl=$(run_rulesim "$work/load-r" "$tiny" "$rargs")
  sl=$(run_suricata "$work/load-s" "$tiny" "$srules")
  echo "$name load rulesim $rl suricata $sl" >>"$results"
  python3 - "$work/out-r-$name/eve.json" "$work/out-s-$name/eve.json" "$name" >>"$results" <<'PY'
import json, sys
from collections import defaultdict
def alerts(path):
    flows = defaultdict(set)
    for line in open(path):
        e = json.loads(line)
        if e.get("event_type") != "alert":
            continue
        a, b = (e["src_ip"], e.get("src_port")), (e["dest_ip"], e.get("dest_port"))
        flows[(e["proto"],) + tuple(sorted([a, b], key=str))].add(e["alert"]["signature_id"])
    return flows
r, s = alerts(sys.argv[1]), alerts(sys.argv[2])
differ = sum(1 for k in set(r) | set(s) if r.get(k) != s.get(k))
print(f"{sys.argv[3]} agree flows_with_alerts {len(set(r) | set(s))} differing {differ}")
PY
done

python3 - "$results" "$capture" "$work/out-r-none/stats.json" <<'PY'
import json, os, statistics, sys
from collections import defaultdict
lines = open(sys.argv[1]).read().split("\n")
size = os.path.getsize(sys.argv[2])
pkts = json.load(open(sys.argv[3]))["decoder"]["pkts"]
runs, load, agree = defaultdict(lambda: ([], [], [], [])), {}, {}
for l in lines:
    f = l.split()
    if len(f) >= 7 and f[1] == "run":
        w = runs[f[0]]
        w[0].append(float(f[4])); w[1].append(int(f[5])); w[2].append(float(f[7])); w[3].append(int(f[8]))
    elif len(f) >= 7 and f[1] == "load":
        load[f[0]] = (float(f[3]), float(f[6]))
    elif len(f) >= 6 and f[1] == "agree":
        agree[f[0]] = (int(f[3]), int(f[5]))
print(f"threads: {os.environ.get('THREADS', '1')}; capture: {size/1e6:.0f} MB, {pkts} packets; median of {len(next(iter(runs.values()))[0])} runs each, alternating")
print(f"{'rules':10} {'rulesim s':>9} {'suricata s':>10} {'speedup':>7} {'load r/s':>11} {'rulesim MB/s':>12} {'pkts/s':>9} {'RSS r/s MiB':>12} {'flows alerted':>13} {'differ':>6}")
for name, (rw, rr, sw, sr) in runs.items():
    r, s = statistics.median(rw), statistics.median(sw)
    lr, ls = load.get(name, (0, 0))
    fa, fd = agree.get(name, (0, 0))
    print(f"{name:10} {r:9.2f} {s:10.2f} {s/r:6.1f}x {lr:5.2f}/{ls:5.2f} {size/r/1e6:12.0f} {pkts/r:9.0f} "
          f"{max(rr)/1024:5.0f}/{max(sr)/1024:5.0f} {fa:13} {fd:6}")
PY

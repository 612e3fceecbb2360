#!/usr/bin/env python3
"""Records whether Suricata accepts each rule of a file, one `suricata -T` run per rule.

    tools/suricata-rule-verdicts.py SURICATA YAML IN.rules > OUT.txt

Lines of IN that are empty or start with `##` are skipped. Each output line is
`ACCEPT<TAB>rule` or `REJECT<TAB>rule`; rulesim's tests compare their own verdicts
with these. Run it with the Suricata the project targets (7.0.10) and its stock yaml,
inside an empty network namespace (tools/suricata-offline in ../shared does that).
"""
import re
import subprocess
import sys
import tempfile
import os


def verdict(suricata, yaml, rule, workdir):
    path = os.path.join(workdir, "one.rules")
    with open(path, "w") as f:
        f.write(rule + "\n")
    p = subprocess.run(
        [suricata, "-T", "-c", yaml, "-S", path, "-l", workdir, "--set", "engine.init-failure-fatal=0", "-v"],
        capture_output=True,
        text=True,
    )
    out = p.stdout + p.stderr
    m = re.search(r"(\d+) rules successfully loaded, (\d+) rules failed", out)
    if m and m.group(1) != "0" and m.group(2) == "0":
        return "ACCEPT"
    return "REJECT"


def main():
    suricata, yaml, rules = sys.argv[1:4]
    with tempfile.TemporaryDirectory() as work:
        for line in open(rules, encoding="utf-8"):
            rule = line.rstrip("\n")
            if not rule.strip() or rule.startswith("##"):
                continue
            print(f"{verdict(suricata, yaml, rule, work)}\t{rule}", flush=True)


if __name__ == "__main__":
    main()

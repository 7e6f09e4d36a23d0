#!/usr/bin/env python3
"""A tiny replication analyzer, to show how `replharness run --analyzer` judges one.

Usage: tiny_analyzer.py CASE_DIR   (prints the verdict JSON of spec/cli.md)

It only knows two things: an RS-RS link failure line ("... has failed", message 181)
means `ds.rs-peer-unreachable` (it guesses the cause from the probes: a timeout is a
firewall drop, anything else unknown), and a case with no failure line is healthy.
So it catches the firewall-drop and healthy scenarios, and misses the rest: it has
no idea about generation ids, flapping, DNS, admin ports or a DS cut from its RS.
"""
import json
import os
import re
import sys

FAILED = re.compile(r'replication server RS\((?P<server>[^)]*)\) to replication server RS\((?P<peer>[^)]*)\).* for domain "(?P<domain>[^"]*)" has failed')


def main(case):
    verdicts, seen = [], set()
    timeouts = False
    probes = os.path.join(case, "probes.jsonl")
    if os.path.exists(probes):
        with open(probes, encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    timeouts |= json.loads(line).get("outcome") == "timeout"
                except ValueError:
                    pass
    servers = os.path.join(case, "servers")
    for name in sorted(os.listdir(servers)) if os.path.isdir(servers) else []:
        path = os.path.join(servers, name, "errors")
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f, 1):
                m = FAILED.search(line)
                if not m or (m["server"], m["peer"], m["domain"]) in seen:
                    continue
                seen.add((m["server"], m["peer"], m["domain"]))
                verdicts.append({
                    "id": "ds.rs-peer-unreachable",
                    "severity": "error",
                    "subject": {"server": m["server"], "peer": m["peer"], "domain": m["domain"]},
                    "cause": "firewall-drop" if timeouts else "unknown",
                    "evidence": [{"file": f"servers/{name}/errors", "line": n, "text": line.rstrip("\n")}],
                    "guidance": [
                        "check the firewall between the two servers",
                        "then: dsrepl initialize --baseDN %s --toServer %s --trustStorePassword:file <file> --no-prompt"
                        % (m["domain"], m["peer"]),
                    ],
                })
    if not verdicts:
        verdicts.append({"id": "ds.healthy", "severity": "ok", "subject": {}, "cause": None, "evidence": [], "guidance": []})
    print(json.dumps({"verdicts": verdicts, "analyzer": "tiny_analyzer.py"}))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: tiny_analyzer.py CASE_DIR")
    main(sys.argv[1])

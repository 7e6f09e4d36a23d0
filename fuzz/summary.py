#!/usr/bin/env python3
"""Writes the fuzzing section of BENCHMARKS.md from results/*.log (run.sh's output)."""
import datetime
import pathlib
import re
import sys

here = pathlib.Path(__file__).resolve().parent
rows = []
for log in sorted((here / "results").glob("*.log")):
    text = log.read_text(errors="replace")
    stat = dict(re.findall(r"^stat::(\w+):\s*(\d+)", text, re.M))
    secs = re.search(r"-max_total_time=(\d+)", text)
    last = re.findall(r"cov: (\d+) ft: (\d+) corp: (\d+)/(\S+)", text)
    crashed = re.search(r"(deadly signal|ERROR: libFuzzer: \w+|panicked at [^\n]*)", text)
    corpus = len(list((here / "corpus" / log.stem).glob("*")))
    rows.append(
        "| `{}` | {} s | {:,} | {:,} | {} | {} | {} | {} MiB | {} |".format(
            log.stem,
            secs.group(1) if secs else "?",
            int(stat.get("number_of_executed_units", 0)),
            int(stat.get("average_exec_per_sec", 0)),
            last[-1][0] if last else "?",
            last[-1][1] if last else "?",
            corpus,
            stat.get("peak_rss_mb", "?"),
            "**" + crashed.group(1) + "**" if crashed else "none",
        )
    )
if not rows:
    sys.exit("no results/*.log: run ./run.sh first")
day = datetime.date.today().isoformat()
section = f"""<!-- fuzz:start -->
## fuzzing (`fuzz/run.sh`, cargo-fuzz, nightly; not in CI)

Run {day} on this machine, two targets at a time on its 2 cores, no sanitizer (`-s none`: no `unsafe` in
the workspace; overflow checks and debug assertions on), an input taking 10 s counted as a hang,
2 GiB as a leak. Coverage is libFuzzer's (edges `cov`, features `ft`) at the end; the corpus is what is
committed under `fuzz/corpus/`, minimised after the run. What each target checks: `fuzz/README.md`.

| target | time | inputs run | per second | cov | ft | corpus | peak RSS | crashes, hangs, leaks |
|---|---|---|---|---|---|---|---|---|
""" + "\n".join(rows) + "\n<!-- fuzz:end -->\n"
bench = here.parent / "BENCHMARKS.md"
old = bench.read_text()
if "<!-- fuzz:start -->" in old:
    old = re.sub(r"<!-- fuzz:start -->.*?<!-- fuzz:end -->\n", lambda _: section, old, flags=re.S)
else:
    old = old.rstrip("\n") + "\n\n" + section
bench.write_text(old)
print(section)

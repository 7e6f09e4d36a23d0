"""Parity: each real case and the emulated scenario of the same fault, diagnosed alike.

Run by run.sh with /usr/bin/python3 (standard library only). Prints the parity table as
Markdown on stdout; exits 0 only when every real case got its expected verdict and cause and
every emulated scenario gave the same.
"""

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path


def read_table(path):
    rows = []
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) != 5:
            sys.exit(f"{path}:{n}: expected 5 tab-separated columns, got {len(cols)}")
        case, fault, verdict, cause, scenario = cols
        rows.append({"case": case, "fault": fault, "verdict": verdict,
                     "cause": None if cause == "-" else cause,
                     "scenario": None if scenario == "-" else scenario})
    return rows


def stall_option(replharness):
    """The diagnose option that sets the 389.stalled lag threshold, if this build has one."""
    out = subprocess.run([replharness, "diagnose", "--help"], capture_output=True, text=True).stdout
    options = re.findall(r"(--[a-z0-9][a-z0-9.-]*)", out)
    if "--389-stall-lag" in options:
        return "--389-stall-lag"
    return next((o for o in options if "stall" in o), None)


def diagnose(replharness, case, extra):
    p = subprocess.run([replharness, "diagnose", "--json", *extra, str(case)],
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        return {"error": f"diagnose exited {p.returncode}: {p.stderr.strip()[:300]}"}
    try:
        doc = json.loads(p.stdout)
    except json.JSONDecodeError as e:
        return {"error": f"diagnose printed invalid JSON: {e}"}
    verdicts = doc.get("verdicts", [])
    unknown = sum((doc.get("input", {}).get("unknown_lines") or {}).values())
    return {"verdicts": verdicts, "unknown_lines": unknown,
            "unknown_files": doc.get("input", {}).get("unknown_lines") or {}}


def summary(result):
    """`id (cause)` of the verdicts, for the table."""
    if "error" in result:
        return result["error"]
    if not result["verdicts"]:
        return "no verdict"
    parts = []
    for v in result["verdicts"]:
        parts.append(f"`{v['id']}`" + (f" ({v['cause']})" if v.get("cause") else ""))
    return ", ".join(parts)


def key(result):
    if "error" in result:
        return None
    return sorted((v["id"], v.get("cause")) for v in result["verdicts"])


def emulated(replharness, library, scenario, work, extra):
    path = Path(library) / scenario
    if not path.is_file():
        return {"error": f"no emulated scenario yet ({scenario} not in scenarios/library)"}
    work.mkdir(parents=True, exist_ok=True)
    keep = Path(tempfile.mkdtemp(prefix=path.stem + ".", dir=work))
    p = subprocess.run([replharness, "run", str(path), "--keep", str(keep)],
                       capture_output=True, text=True, timeout=300)
    kept = [d for d in keep.iterdir() if d.is_dir()]
    if len(kept) != 1:
        return {"error": f"replharness run {scenario} exited {p.returncode} and kept {len(kept)} case folders"}
    r = diagnose(replharness, kept[0], extra)
    r["run_rc"] = p.returncode
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", required=True)
    ap.add_argument("--table", required=True)
    ap.add_argument("--replharness", required=True)
    ap.add_argument("--library", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--stall-lag", type=int, required=True)
    a = ap.parse_args()

    opt = stall_option(a.replharness)
    # The stall case's lag is --stall-lag seconds; half of it is the threshold for that row.
    stall_extra = [opt, f"{max(a.stall_lag // 2, 1)}s"] if opt else []
    rows, ok, notes = [], True, []
    for row in read_table(a.table):
        case = Path(a.cases) / row["case"]
        if not case.is_dir():
            continue
        extra = stall_extra if row["verdict"] == "389.stalled" else []
        real = diagnose(a.replharness, case, extra)
        expected = sorted([(row["verdict"], row["cause"])])
        real_ok = key(real) == expected
        if not real_ok:
            notes.append(f"real `{row['case']}`: expected `{row['verdict']}`"
                         + (f" ({row['cause']})" if row["cause"] else "") + f", got {summary(real)}")
        if real.get("unknown_lines"):
            real_ok = False
            notes.append(f"real `{row['case']}`: lines of unknown shape: {real['unknown_files']}")
        emu = (emulated(a.replharness, a.library, row["scenario"], Path(a.work), extra)
               if row["scenario"] else {"error": "no emulated scenario of this fault in scenarios/library"})
        emu_ok = "error" not in emu
        if emu_ok and emu.get("run_rc") != 0:
            emu_ok = False
            notes.append(f"emulated `{row['scenario']}`: `replharness run` exited {emu.get('run_rc')} "
                         "(the scenario failed its own expectations)")
        if emu.get("unknown_lines"):
            emu_ok = False
            notes.append(f"emulated `{row['scenario']}`: lines of unknown shape: {emu['unknown_files']}")
        same = real_ok and emu_ok and key(emu) == key(real)
        ok = ok and same
        rows.append({**row, "real": summary(real), "emulated": summary(emu), "same": same,
                     "real_verdicts": real.get("verdicts"), "emulated_verdicts": emu.get("verdicts"),
                     "emulated_run_rc": emu.get("run_rc"),
                     "extra": extra})

    print("| fault | real verdict and cause | emulated verdict and cause | same |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r['fault']} (`{r['case']}`) | {r['real']} | {r['emulated']} | {'yes' if r['same'] else 'no'} |")
    if notes:
        print()
        for n in notes:
            print(f"- {n}")
    if not opt:
        print("\n- this replharness has no diagnose option for the 389.stalled lag threshold: the stall row used the default")
    Path(a.json).write_text(json.dumps({"stall_option": opt, "rows": rows}, indent=1) + "\n")
    return 0 if ok and rows else 1


if __name__ == "__main__":
    sys.exit(main())

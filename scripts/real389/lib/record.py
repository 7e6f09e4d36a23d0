"""run.sh --record: keeps a run's results in the repository.

- the case folders become the diagnosis fixtures in diagnosis/tests/fixtures/389-real/;
- the parity table and the healthy case's topology.toml replace their blocks in docs/real389.md;
- the step timings replace this script's section of BENCHMARKS.md.

Each generated block sits between <!-- NAME:start --> and <!-- NAME:end --> markers; what is
outside them is left as it is. Run with /usr/bin/python3 (standard library only).
"""

import argparse
import datetime
import shutil
from pathlib import Path


def replace_block(path, name, body, heading=""):
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    old = path.read_text() if path.exists() else ""
    block = f"{start}\n{body.rstrip()}\n{end}"
    if start in old and end in old:
        new = old[: old.index(start)] + block + old[old.index(end) + len(end):]
    else:
        new = old.rstrip() + ("\n\n" if old else "") + heading + block + "\n"
    path.write_text(new)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--version")
    ap.add_argument("--table-only", action="store_true", help="only the parity table of docs/real389.md")
    a = ap.parse_args()
    root, out = Path(a.root), Path(a.out)
    today = datetime.date.today().isoformat()
    doc = root / "docs/real389.md"
    if a.table_only:
        replace_block(doc, "parity", (out / "parity.md").read_text())
        return
    if not a.version:
        ap.error("--version is needed (unless --table-only)")

    fixtures = root / "diagnosis/tests/fixtures/389-real"
    if fixtures.exists():
        shutil.rmtree(fixtures)
    shutil.copytree(out / "cases", fixtures)
    (fixtures / "README.md").write_text(
        f"Case folders taken from two real 389-DS {a.version} servers (Debian 12 package) by\n"
        f"`scripts/real389/run.sh --record` on {today}: one per fault and one per recovery, in the\n"
        "order the run makes them, so each errors log also holds the faults before it. Not edited\n"
        "by hand (the agreement's encrypted password is left out of agreements.ldif). See\n"
        "docs/real389.md; diagnosis/tests/it/real389.rs asserts each one's verdict.\n")

    replace_block(doc, "parity", (out / "parity.md").read_text())
    topology = (fixtures / "healthy/topology.toml").read_text()
    replace_block(doc, "topology", f"```toml\n{topology}```\n")

    rows = [line.split("\t") for line in (out / "timings.tsv").read_text().splitlines() if line]
    lines = [
        f"Real 389-DS {a.version} supplier and consumer behind fault-proxy, every fault with its "
        f"recovery, on this 2-core machine ({today}, `scripts/real389/run.sh`; backoff 1..3 s, "
        "agreement timeout 5 s):",
        "",
        "| step | seconds |",
        "|---|---:|",
    ]
    lines += [f"| {name} | {secs} |" for name, secs in rows]
    replace_block(root / "BENCHMARKS.md", "real389", "\n".join(lines) + "\n",
                  heading="## Real 389-DS (`scripts/real389/run.sh`)\n\n")


if __name__ == "__main__":
    main()

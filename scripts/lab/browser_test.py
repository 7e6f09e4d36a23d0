#!/usr/bin/env python3
"""The lab's page in a real browser: headless Chromium driven over WebDriver
(chromedriver, spoken with the standard library only).

It starts `replharness lab --servers 3`, opens the URL the lab prints, clicks
the link ds-1 <-> ds-2 and "Drop" in the page's own menu, waits for
ds.rs-peer-unreachable to appear in the verdict panel, clicks "Heal" and waits
for it to go. With --screenshot FILE it saves the page with the broken link
(docs/lab.png is made so).

Exit codes: 0 every check passed; 1 a check failed; 2 it cannot run here
(Chromium or chromedriver missing, the lab did not start). It never skips
quietly: a missing browser is an error that says how to install one.

    python3 scripts/lab/browser_test.py --replharness target/debug/replharness [--screenshot docs/lab.png]
"""

import argparse
import base64
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

INSTALL = "apt-get install -y --no-install-recommends chromium chromium-driver"
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


class CannotRun(Exception):
    """The test cannot run on this machine (exit 2)."""


class Failed(Exception):
    """A check failed (exit 1)."""


def step(text):
    print(f"-- {text}", flush=True)


def find(env, names):
    given = os.environ.get(env)
    if given:
        return given if shutil.which(given) else None
    for n in names:
        p = shutil.which(n)
        if p:
            return p
    return None


def first_line(proc, what, timeout):
    """The first line a child prints on stdout, read in a thread so the wait is bounded."""
    q = queue.Queue()

    def read():
        q.put(proc.stdout.readline())

    threading.Thread(target=read, daemon=True).start()
    try:
        return q.get(timeout=timeout).decode("utf-8", "replace").strip()
    except queue.Empty:
        raise CannotRun(f"{what} printed nothing within {timeout} s")


def lines_until(proc, what, needle, timeout):
    """Lines of a child's stdout until one contains `needle`; that line."""
    q = queue.Queue()

    def read():
        for raw in proc.stdout:
            q.put(raw.decode("utf-8", "replace"))
        q.put(None)

    threading.Thread(target=read, daemon=True).start()
    until = time.monotonic() + timeout
    said = []
    while True:
        left = until - time.monotonic()
        if left <= 0:
            raise CannotRun(f"{what} did not say {needle!r} within {timeout} s; it said:\n{''.join(said)}")
        try:
            line = q.get(timeout=left)
        except queue.Empty:
            continue
        if line is None:
            code = proc.wait(timeout=10)
            raise CannotRun(f"{what} ended (exit {code}) before saying {needle!r}; it said:\n{''.join(said)}")
        said.append(line)
        if needle in line:
            return line


class WebDriver:
    """The few W3C WebDriver commands the test needs."""

    def __init__(self, base):
        self.base = base
        self.session = None

    def call(self, method, path, body=None, timeout=60):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return json.loads(r.read() or b"{}").get("value")
        except urllib.error.HTTPError as e:
            payload = json.loads(e.read() or b"{}").get("value", {})
            raise WebDriverError(payload.get("error", str(e.code)), payload.get("message", ""))

    def start(self, chromium, width, height):
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                # As root (CI), Chromium needs --no-sandbox.
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         f"--window-size={width},{height}", "--hide-scrollbars", "--force-device-scale-factor=1"],
            },
        }}}
        value = self.call("POST", "/session", caps, timeout=120)
        self.session = value["sessionId"]

    def s(self, path):
        return f"/session/{self.session}{path}"

    def go(self, url):
        self.call("POST", self.s("/url"), {"url": url})

    def find(self, css):
        try:
            v = self.call("POST", self.s("/element"), {"using": "css selector", "value": css})
            return v[ELEMENT]
        except WebDriverError as e:
            if e.error == "no such element":
                return None
            raise

    def wait_for(self, css, timeout, what):
        until = time.monotonic() + timeout
        while time.monotonic() < until:
            el = self.find(css)
            if el:
                return el
            time.sleep(0.25)
        raise Failed(f"{what}: no element {css!r} within {timeout} s\n{self.panel()}")

    def wait_gone(self, css, timeout, what):
        until = time.monotonic() + timeout
        while time.monotonic() < until:
            if not self.find(css):
                return
            time.sleep(0.25)
        raise Failed(f"{what}: {css!r} still there after {timeout} s\n{self.panel()}")

    def click(self, el):
        self.call("POST", self.s(f"/element/{el}/click"), {})

    def text(self, css):
        el = self.find(css)
        return self.call("GET", self.s(f"/element/{el}/text")) if el else ""

    def panel(self):
        return "verdict panel now:\n" + self.text("#verdicts") + "\ntimeline now:\n" + self.text("#timeline")

    def screenshot(self, path):
        png = base64.b64decode(self.call("GET", self.s("/screenshot")))
        with open(path, "wb") as f:
            f.write(png)

    def quit(self):
        if self.session:
            try:
                self.call("DELETE", self.s(""), timeout=30)
            except Exception as e:  # the browser may be gone already
                print(f"(closing the session: {e})")
            self.session = None


class WebDriverError(Exception):
    def __init__(self, error, message):
        super().__init__(f"{error}: {message}")
        self.error = error


def run(args):
    chromium = find("CHROMIUM", ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"])
    driver = find("CHROMEDRIVER", ["chromedriver"])
    if not chromium or not driver:
        missing = " and ".join(n for n, p in [("chromium", chromium), ("chromedriver", driver)] if not p)
        raise CannotRun(f"{missing} not found on PATH: the browser test cannot run. Install them with:\n    {INSTALL}")
    if not os.access(args.replharness, os.X_OK):
        raise CannotRun(f"{args.replharness} is not an executable replharness")
    procs = []
    wd = None
    try:
        step(f"replharness lab --servers {args.servers}")
        # stderr to a file: nothing the lab says can fill a pipe and stall it.
        lab_err = tempfile.TemporaryFile()
        lab = subprocess.Popen([args.replharness, "lab", "--servers", str(args.servers)],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=lab_err)
        procs.append(("replharness lab", lab))
        url = first_line(lab, "replharness lab", 60)
        if not url.startswith("http://127.0.0.1:") or not url.endswith("/"):
            raise Failed(f"the lab's first line is not its URL: {url!r}")
        step(f"the lab serves {url}")

        step(f"{driver} --port=0 (Chromium at {chromium})")
        for attempt in (1, 2):
            cd = subprocess.Popen([driver, "--port=0"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
            procs.append(("chromedriver", cd))
            try:
                line = lines_until(cd, "chromedriver", "was started successfully on port", 60)
                break
            except CannotRun as e:
                # The driver, not the lab: once more, then give up saying why.
                if attempt == 2:
                    raise
                step(f"chromedriver did not start ({e}); once more")
        port = int(line.rsplit("port", 1)[1].strip().rstrip("."))
        wd = WebDriver(f"http://127.0.0.1:{port}")
        wd.start(chromium, args.width, args.height)
        wd.go(url)

        link = 'g.link[data-link="ds-1 <-> ds-2"]'
        wd.wait_for(f'{link}[data-state="up"]', 60, "the link ds-1 <-> ds-2 drawn and up")
        wd.wait_for('#verdicts .verdict[data-id="ds.healthy"]', 60, "the healthy verdict first")
        step("PASS the page shows the topology, the link up and ds.healthy")

        wd.click(wd.find(f"{link} line.hit"))
        wd.click(wd.wait_for('#menu button[data-fault="drop"]', 10, "the link's menu"))
        t0 = time.monotonic()
        wd.wait_for('#verdicts .verdict[data-id="ds.rs-peer-unreachable"]', args.appear, "the drop's verdict")
        step(f"PASS ds.rs-peer-unreachable appeared {time.monotonic() - t0:.1f} s after the click on Drop")
        wd.wait_for(f'{link}[data-state="down"]', 30, "the link drawn down")
        panel = wd.text("#verdicts")
        if "firewall-drop" not in panel or "dsrepl initialize" not in panel:
            raise Failed(f"the verdict shows no cause or guidance:\n{panel}")
        step("PASS the link is drawn down; the verdict names firewall-drop and its guidance")
        if args.screenshot:
            # The first verdict's evidence open, and the log tail settled, for the picture.
            wd.click(wd.find("#verdicts .verdict details summary"))
            time.sleep(1.5)
            wd.screenshot(args.screenshot)
            step(f"screenshot: {args.screenshot}")

        wd.click(wd.find(f"{link} line.hit"))
        wd.click(wd.wait_for('#menu button[data-fault="heal"]', 10, "the link's menu"))
        t0 = time.monotonic()
        wd.wait_gone('#verdicts .verdict[data-id="ds.rs-peer-unreachable"]', args.go, "the verdict after healing")
        step(f"PASS ds.rs-peer-unreachable went {time.monotonic() - t0:.1f} s after the click on Heal")
        wd.wait_for(f'{link}[data-state="up"]', 30, "the link drawn up again")
        timeline = wd.text("#timeline")
        for needle in ["drop", "on ds-1 <-> ds-2 (fault 1)", "healed ds-1 <-> ds-2", "+ ds.rs-peer-unreachable"]:
            if needle not in timeline:
                raise Failed(f"the timeline lacks {needle!r}:\n{timeline}")
        step("PASS the link is up again and the timeline tells what was done")
        wd.quit()

        step("SIGTERM to the lab")
        lab.send_signal(signal.SIGTERM)
        try:
            code = lab.wait(timeout=60)
        except subprocess.TimeoutExpired:
            raise Failed("the lab did not stop within 60 s of SIGTERM")
        lab_err.seek(0)
        err = lab_err.read().decode("utf-8", "replace")
        if code != 0 or "replharness lab: stopped" not in err:
            raise Failed(f"the lab ended with {code}:\n{err}")
        step("PASS the lab shut down cleanly")
    finally:
        if wd:
            wd.quit()
        for name, p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=30)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--replharness", required=True, help="the replharness binary")
    ap.add_argument("--servers", type=int, default=3)
    ap.add_argument("--screenshot", help="save the page with the broken link here (PNG)")
    ap.add_argument("--appear", type=float, default=30, help="seconds the verdict may take to appear")
    ap.add_argument("--go", type=float, default=60, help="seconds it may take to go")
    ap.add_argument("--width", type=int, default=1600)
    ap.add_argument("--height", type=int, default=1150)
    args = ap.parse_args()
    try:
        run(args)
    except CannotRun as e:
        print(f"BROWSER TEST CANNOT RUN: {e}", file=sys.stderr, flush=True)
        return 2
    except Failed as e:
        print(f"BROWSER TEST FAILED: {e}", file=sys.stderr, flush=True)
        return 1
    except (WebDriverError, OSError) as e:
        print(f"BROWSER TEST FAILED: {e}", file=sys.stderr, flush=True)
        return 1
    print("BROWSER TEST PASSED", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

//! `replharness lab` as a trainer runs it: the URL on standard output's first
//! line, the documented session of `docs/lab.md` run against the binary
//! exchange by exchange, a clean stop on SIGTERM, bad input, and the page in
//! a real headless Chromium (`scripts/lab/browser_test.py`).

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{command, crate_file, replharness, run_bounded, wait_bounded};

/// A running lab: the child and the address its first line named.
struct RunningLab {
    child: Child,
    addr: String,
    args: Vec<String>,
}

impl RunningLab {
    fn start(args: &[&str]) -> RunningLab {
        let mut full = vec!["lab"];
        full.extend_from_slice(args);
        let mut child =
            command(&full).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start replharness lab");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut first = String::new();
            let mut r = BufReader::new(stdout);
            let _ = r.read_line(&mut first);
            let _ = tx.send(first);
            // Keep reading so the lab never blocks on a full pipe.
            let _ = std::io::copy(&mut r, &mut std::io::sink());
        });
        let first = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(l) => l,
            Err(_) => {
                let _ = child.kill();
                panic!("replharness {full:?} printed no line within 60 s");
            }
        };
        let url = first.trim();
        let addr = url
            .strip_prefix("http://")
            .and_then(|r| r.strip_suffix('/'))
            .unwrap_or_else(|| panic!("the first line is not the URL: {first:?}"))
            .to_owned();
        assert!(addr.starts_with("127.0.0.1:"), "loopback by default: {url}");
        RunningLab { child, addr, args: full.iter().map(|s| s.to_string()).collect() }
    }

    /// SIGTERM, then the exit status and standard error.
    fn terminate(mut self) -> (std::process::ExitStatus, String) {
        rustix::process::kill_process(rustix::process::Pid::from_child(&self.child), rustix::process::Signal::TERM)
            .expect("SIGTERM");
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        let status = wait_bounded(&mut self.child, &args);
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        (status, err)
    }
}

impl Drop for RunningLab {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// One HTTP/1.1 exchange over a fresh connection: the status and the body.
fn http(addr: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(60))).expect("timeout");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).expect("send");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read the answer");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).expect("a status line");
    let chunked = head.lines().any(|l| l.eq_ignore_ascii_case("transfer-encoding: chunked"));
    (status, if chunked { dechunk(rest) } else { rest.to_owned() })
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || tail.len() < n {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].trim_start_matches("\r\n");
    }
    out
}

/// Does `got` hold everything `want` shows? Objects: every key shown, with a
/// matching value; lists: every entry shown matches some entry; strings
/// with `…` at an end: the rest is a suffix (or prefix, or both: inside).
fn holds(want: &Value, got: &Value) -> bool {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => w.iter().all(|(k, v)| g.get(k).is_some_and(|x| holds(v, x))),
        (Value::Array(w), Value::Array(g)) if w.is_empty() => g.is_empty(),
        (Value::Array(w), Value::Array(g)) => w.iter().all(|v| g.iter().any(|x| holds(v, x))),
        (Value::String(w), Value::String(g)) => match (w.strip_prefix('…'), w.strip_suffix('…')) {
            (Some(tail), None) => g.ends_with(tail),
            (None, Some(head)) => g.starts_with(head),
            (Some(_), Some(_)) => g.contains(w.trim_matches('…')),
            (None, None) => w == g,
        },
        (Value::Number(w), Value::Number(g)) => w.as_f64() == g.as_f64(),
        _ => want == got,
    }
}

/// One ```` ```http lab-example ```` block of docs/lab.md.
#[derive(Debug)]
struct Exchange {
    method: String,
    path: String,
    body: String,
    /// `again until it matches, at most N s`.
    again_for: Option<Duration>,
    status: u16,
    answer: Option<Value>,
    /// Where in docs/lab.md, for failures.
    line: usize,
}

fn exchanges(doc: &str) -> Vec<Exchange> {
    let mut out = Vec::new();
    let mut lines = doc.lines().enumerate();
    while let Some((i, l)) = lines.next() {
        if l.trim() != "```http lab-example" {
            continue;
        }
        let block: Vec<&str> = lines.by_ref().map(|(_, l)| l).take_while(|l| l.trim() != "```").collect();
        let (request, answer) = match block.iter().position(|l| l.trim().is_empty()) {
            Some(blank) => (&block[..blank], &block[blank + 1..]),
            None => panic!("docs/lab.md:{}: a request, a blank line, then the answer", i + 1),
        };
        let first = request.first().unwrap_or_else(|| panic!("docs/lab.md:{}: empty block", i + 1));
        let (call, note) = first.split_once("    ").map_or((first.trim(), ""), |(c, n)| (c.trim(), n.trim()));
        let (method, path) = call.split_once(' ').unwrap_or_else(|| panic!("docs/lab.md:{}: METHOD PATH", i + 2));
        let again_for = note
            .strip_prefix("(again until it matches, at most ")
            .and_then(|r| r.strip_suffix(" s)"))
            .map(|n| Duration::from_secs(n.parse().unwrap_or_else(|_| panic!("docs/lab.md:{}: {note}", i + 2))));
        assert!(note.is_empty() || again_for.is_some(), "docs/lab.md:{}: unknown note {note:?}", i + 2);
        let status_line = answer.first().unwrap_or_else(|| panic!("docs/lab.md:{}: no status", i + 1));
        let status = status_line
            .split_whitespace()
            .next()
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("docs/lab.md:{}: {status_line:?} is not a status", i + 1));
        let json = answer[1..].join("\n");
        let answer = (!json.trim().is_empty()).then(|| {
            serde_json::from_str(&json).unwrap_or_else(|e| panic!("docs/lab.md:{}: the answer is not JSON: {e}", i + 1))
        });
        out.push(Exchange {
            method: method.to_owned(),
            path: path.to_owned(),
            body: request[1..].join("\n"),
            again_for,
            status,
            answer,
            line: i + 1,
        });
    }
    out
}

#[test]
fn the_documented_session_runs_against_the_binary_and_sigterm_stops_it() {
    let doc = std::fs::read_to_string(crate_file("../docs/lab.md")).expect("docs/lab.md");
    let steps = exchanges(&doc);
    assert!(steps.len() >= 10, "the documented session has its steps: {steps:#?}");
    let lab = RunningLab::start(&["--servers", "2"]);
    for x in &steps {
        let until = Instant::now() + x.again_for.unwrap_or_default();
        loop {
            let (status, body) = http(&lab.addr, &x.method, &x.path, &x.body);
            let got: Value =
                if body.is_empty() { Value::Null } else { serde_json::from_str(&body).unwrap_or(Value::Null) };
            let ok = status == x.status && x.answer.as_ref().is_none_or(|want| holds(want, &got));
            if ok {
                break;
            }
            if Instant::now() >= until {
                panic!(
                    "docs/lab.md:{}: {} {}\n  want {} {}\n  got  {status} {got:#}",
                    x.line,
                    x.method,
                    x.path,
                    x.status,
                    x.answer.as_ref().map_or(String::new(), |a| a.to_string())
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
    let (status, err) = lab.terminate();
    assert!(status.success(), "exit {status:?}\n{err}");
    assert!(err.contains("replharness lab: stopping") && err.contains("replharness lab: stopped"), "{err}");
}

#[test]
fn the_matcher_sees_what_is_missing() {
    let got = serde_json::json!({"a": 1, "l": [{"x": 1, "y": 2}, {"x": 3}], "s": "Replication server RS(ds-1) up"});
    assert!(holds(&serde_json::json!({"l": [{"x": 3}], "s": "…RS(ds-1) up"}), &got));
    assert!(!holds(&serde_json::json!({"l": [{"x": 4}]}), &got));
    assert!(!holds(&serde_json::json!({"b": null}), &got), "a key shown must be there");
    assert!(!holds(&serde_json::json!({"l": []}), &got), "an empty list shown means empty");
    assert!(
        holds(&serde_json::json!({"s": "Replication…"}), &got) && !holds(&serde_json::json!({"s": "…ds-2…"}), &got)
    );
}

#[test]
fn bad_input_exits_2_naming_what_is_wrong() {
    let cases: &[(&[&str], &str)] = &[
        (&["lab", "--flavor", "389", "--tls"], "--tls: the 389 flavor's agreements run LDAP in clear"),
        (&["lab", "--consumers", "1"], "--consumers is for --flavor 389, not ds"),
        (&["lab", "--listen", "0.0.0.0:0"], "--listen 0.0.0.0:0: not a loopback address; pass --allow-remote"),
        (&["lab", "--servers", "0"], "0 is not in 1..=32"),
        (&["lab", "--time-scale", "0.5"], "--time-scale must be a number from 1 to 10000, not 0.5"),
        (&["lab", "--refresh", "1ms"], "--refresh must be from 200ms to 10m"),
        (&["lab", "--version", "seven"], "\"seven\""),
        (&["lab", "no-such-file.toml"], "cannot read no-such-file.toml"),
        (&["lab", "x.toml", "--servers", "3"], "cannot be used with"),
        (&["lab", "--flavor", "exchange", "--servers", "1"], "an Exchange organization needs 2 sites or more"),
        (&["lab", "--flavor", "exchange", "--tls"], "--tls is for DS servers, not Exchange bridgeheads"),
    ];
    for (args, message) in cases {
        let out = replharness(args);
        assert_eq!(out.code(), Some(2), "{args:?}\n{}", out.text());
        assert!(out.stderr.contains(message), "{args:?}: want {message:?} in\n{}", out.stderr);
        assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout, no URL: {}", out.stdout);
    }
    let dir = tempfile::tempdir().expect("dir");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "name = \"x\"\n[topology]\n[[topology.servers]]\nname = \"a\"\ncolour = 1\n").expect("w");
    let out = replharness(&["lab", bad.to_str().expect("utf-8")]);
    assert_eq!(out.code(), Some(2), "{}", out.text());
    assert!(out.stderr.contains("bad.toml:5:1: unknown field `colour`"), "{}", out.stderr);
}

/// The page in a real browser. Without Chromium and chromedriver this fails
/// (with the command that installs them): it never passes by skipping.
#[test]
fn the_page_in_a_real_headless_chromium() {
    let script = crate_file("../scripts/lab/browser_test.py");
    let mut c = Command::new("python3");
    c.arg(&script).arg("--replharness").arg(env!("CARGO_BIN_EXE_replharness"));
    let out = run_bounded(c, &["(browser test)"]);
    assert!(
        out.status.success(),
        "the browser test did not pass (exit {:?}):\n{}\n{}",
        out.status.code(),
        out.stdout,
        out.stderr
    );
    assert!(out.stdout.contains("BROWSER TEST PASSED"), "{}", out.stdout);
}

//! What a connection logs carries its spans: `proxy{name}` from the
//! listener task, `conn{id,peer}` from the connection's own task. Read from
//! the binary's stderr (its subscriber is set before any log line, so no
//! other test's thread can race it for the callsites' interest).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::WAIT;

/// Sends one HTTP request to the API and returns the response.
fn http(api: &str, method: &str, path: &str, body: &str) -> String {
    let mut s = TcpStream::connect(api).expect("api");
    s.set_read_timeout(Some(WAIT)).expect("timeout");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nUser-Agent: test\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut r = String::new();
    s.read_to_string(&mut r).expect("read");
    r
}

/// An echo upstream on a thread, for one connection.
fn echo() -> String {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr").to_string();
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = l.accept() {
            let mut buf = [0u8; 1024];
            while let Ok(n) = s.read(&mut buf) {
                if n == 0 || s.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    });
    addr
}

#[test]
fn connection_logs_carry_the_proxy_and_conn_spans() {
    let api = TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_fault-proxy"))
        .args(["--api", &api, "--seed", "5"])
        .env("RUST_LOG", "fault_proxy=debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start");
    let (tx, rx) = mpsc::channel::<String>();
    let stderr = child.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut banner = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut banner).expect("banner");
    let body = format!(r#"{{"name":"spans","listen":"127.0.0.1:0","upstream":"{}"}}"#, echo());
    let created = http(&api, "POST", "/proxies", &body);
    let listen = created
        .split("\"listen\":\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_else(|| panic!("no listen address in {created}"))
        .to_owned();
    let mut c = TcpStream::connect(&listen).expect("connect");
    c.set_read_timeout(Some(WAIT)).expect("timeout");
    let me = c.local_addr().expect("addr");
    c.write_all(b"hi").expect("write");
    let mut buf = [0u8; 2];
    c.read_exact(&mut buf).expect("echo");
    drop(c);
    let spans = format!("proxy{{name=spans}}:conn{{id=1 peer={me}}}");
    let (mut accepted, mut closed) = (None, None);
    let deadline = Instant::now() + WAIT;
    while closed.is_none() {
        let left = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
        let Ok(line) = rx.recv_timeout(left) else { break };
        if line.contains("fault_proxy::listener: accepted") {
            accepted = Some(line);
        } else if line.contains("fault_proxy::conn: closed") {
            closed = Some(line);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    for (what, line) in [("accepted", accepted), ("closed", closed)] {
        let line = line.unwrap_or_else(|| panic!("no {what:?} line within {WAIT:?}"));
        assert!(line.contains(&spans), "{spans} not in: {line}");
        assert!(!line.contains('\x1b'), "a pipe gets no colour codes: {line:?}");
    }
}

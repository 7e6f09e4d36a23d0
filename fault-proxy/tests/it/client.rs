//! A published Toxiproxy client, unchanged from PyPI (`toxiproxy-python`),
//! drives a running `fault-proxy` binary. Any client error fails the test.

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Makes `import toxiproxy` work: already installed (CI installs it), or
/// installed now into `target/pydeps`.
fn python_path() -> Option<PathBuf> {
    let has = |pp: Option<&PathBuf>| {
        let mut c = Command::new("python3");
        c.args(["-c", "import toxiproxy, requests"]);
        if let Some(p) = pp {
            c.env("PYTHONPATH", p);
        }
        c.stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
    };
    if has(None) {
        return None;
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("pydeps");
    if !has(Some(&dir)) {
        let status = Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target"])
            .arg(&dir)
            .arg("toxiproxy-python==0.1.1")
            .status()
            .expect("run pip");
        assert!(status.success(), "pip could not install toxiproxy-python");
    }
    Some(dir)
}

#[test]
fn toxiproxy_python_drives_fault_proxy_unchanged() {
    let pydeps = python_path();
    let api = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        l.local_addr().expect("addr")
    };
    let mut proxy = Command::new(env!("CARGO_BIN_EXE_fault-proxy"))
        .args(["--api", &api.to_string(), "--seed", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start fault-proxy");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/toxiproxy_client.py");
    let mut cmd = Command::new("python3");
    cmd.arg(&script).arg(api.ip().to_string()).arg(api.port().to_string());
    if let Some(p) = &pydeps {
        cmd.env("PYTHONPATH", p);
    }
    let out = cmd.output().expect("run the client script");
    let _ = proxy.kill();
    let _ = proxy.wait();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "client failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("ALL STEPS PASSED"), "{stdout}");
}

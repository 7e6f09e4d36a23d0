//! Running the binary with a bound on how long it may take.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// What a finished run printed.
#[derive(Debug)]
pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Both streams, for assertions and failure messages.
    pub fn text(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// How long one run of the binary may take before the test fails: generous,
/// only there so that a hang fails instead of stalling the suite.
pub const LIMIT: Duration = Duration::from_secs(300);

pub fn command(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_replharness"));
    c.args(args).stdin(Stdio::null());
    c
}

/// Runs `replharness ARGS` to its end (killed and failed past [`LIMIT`]).
pub fn replharness(args: &[&str]) -> Run {
    run_bounded(command(args), args)
}

/// Runs a prepared command to its end, reading both pipes, within [`LIMIT`].
pub fn run_bounded(mut c: Command, args: &[&str]) -> Run {
    let mut child = c.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start replharness");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let status = wait_bounded(&mut child, args);
    let stdout = String::from_utf8_lossy(&out_t.join().expect("stdout reader")).into_owned();
    let stderr = String::from_utf8_lossy(&err_t.join().expect("stderr reader")).into_owned();
    Run { status, stdout, stderr }
}

/// Waits for a child within [`LIMIT`]; kills it and fails the test past it.
pub fn wait_bounded(child: &mut std::process::Child, args: &[&str]) -> ExitStatus {
    let until = Instant::now() + LIMIT;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if Instant::now() >= until {
            let _ = child.kill();
            let _ = child.wait();
            panic!("replharness {args:?} did not finish within {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A file under `tests/data`.
pub fn data(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name).display().to_string()
}

/// A file of the crate (`library/healthy-mesh.toml`).
pub fn crate_file(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

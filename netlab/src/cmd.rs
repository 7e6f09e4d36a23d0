//! Runs `ip` and `nft` as processes: a script on standard input, both
//! outputs captured, a bound on how long it may take (then killed).
//!
//! Driving the two tools is leaner than a netlink stack in this process
//! (rtnetlink and an nftables netlink encoder are large trees), their
//! scripts are what a person would type to reproduce a lab by hand, and
//! `nft -f` applies a whole script as one transaction.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::Error;

/// How long one `ip` or `nft` invocation may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Runs `program args` with `script` on its standard input; its standard
/// output on success, its standard error in the error otherwise.
pub fn run(program: &str, args: &[&str], script: &str, timeout: Duration) -> Result<String, Error> {
    let what = format!("{program} {}", args.join(" "));
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Command { what: what.clone(), detail: format!("cannot start {program}: {e}") })?;
    if let Some(mut stdin) = child.stdin.take() {
        // A tool that exits early closes its end: its error says why.
        let _ = stdin.write_all(script.as_bytes());
    }
    let started = Instant::now();
    let mut pause = Duration::from_micros(200);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if started.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::CommandTimeout { what, seconds: timeout.as_secs_f64() });
            }
            Ok(None) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(5));
            }
            Err(e) => return Err(Error::Command { what, detail: format!("cannot wait for it: {e}") }),
        }
    }
    let out = child.wait_with_output().map_err(|e| Error::Command { what: what.clone(), detail: e.to_string() })?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let detail = match stderr.trim() {
            "" => format!("exited with {}", out.status),
            text => text.lines().take(6).collect::<Vec<_>>().join(" / "),
        };
        Err(Error::Command { what, detail })
    }
}

/// `ip -batch -` (optionally `-n NETNS`, optionally `-force` to go on past
/// failed lines) with one command a line.
pub fn ip_batch(netns: Option<&str>, force: bool, lines: &[String]) -> Result<(), Error> {
    let mut args: Vec<&str> = Vec::new();
    if let Some(ns) = netns {
        args.extend(["-n", ns]);
    }
    if force {
        args.push("-force");
    }
    args.extend(["-batch", "-"]);
    let mut script = lines.join("\n");
    script.push('\n');
    run("ip", &args, &script, TIMEOUT).map(|_| ())
}

/// `nft -f -` inside a namespace (`ip netns exec NETNS nft -f -`).
pub fn nft_in(netns: &str, script: &str) -> Result<String, Error> {
    run("ip", &["netns", "exec", netns, "nft", "-f", "-"], script, TIMEOUT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_command_reports_its_error_output() {
        let e = run("sh", &["-c", "echo broken >&2; exit 3"], "", TIMEOUT).expect_err("fails");
        assert!(e.to_string().contains("broken"), "{e}");
        let e = run("no-such-program-here", &[], "", TIMEOUT).expect_err("missing");
        assert!(e.to_string().contains("cannot start no-such-program-here"), "{e}");
    }

    #[test]
    fn standard_input_reaches_the_command_and_output_comes_back() {
        assert_eq!(run("cat", &[], "abc\n", TIMEOUT).expect("cat"), "abc\n");
    }

    #[test]
    fn a_command_past_its_bound_is_killed() {
        let e = run("sleep", &["30"], "", Duration::from_millis(100)).expect_err("killed");
        assert!(matches!(e, Error::CommandTimeout { .. }), "{e}");
    }
}

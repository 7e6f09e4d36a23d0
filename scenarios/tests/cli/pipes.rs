//! `replharness … | head -3`: a closed standard output panicked with "failed
//! printing to stdout: Broken pipe". Each subcommand now ends quietly (exit
//! 0), or, when it has report files to write, writes them and exits with the
//! run's code. The pipe's read end is closed before the program starts, so
//! every write to it fails, whatever the timing.

use std::process::Stdio;

use crate::common::{crate_file, data, run_bounded};

/// Runs `replharness ARGS` with standard output a pipe nobody reads.
fn with_closed_stdout(args: &[&str]) -> (Option<i32>, String) {
    let (reader, writer) = rustix::pipe::pipe().expect("pipe");
    drop(reader);
    let mut c = crate::common::command(args);
    c.stderr(Stdio::piped());
    let mut child = c.stdout(Stdio::from(writer)).spawn().expect("start");
    let mut stderr = child.stderr.take().expect("stderr");
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        s
    });
    let status = crate::common::wait_bounded(&mut child, args);
    (status.code(), err.join().expect("stderr reader"))
}

#[test]
fn a_closed_stdout_ends_every_subcommand_quietly() {
    let fixture = crate_file("../diagnosis/tests/fixtures/ds/cause-firewall-drop");
    let fixture = fixture.to_str().expect("p");
    let tagged = data("tagged.toml");
    for args in [
        vec!["verdicts"],
        vec!["verdicts", "--json"],
        vec!["diagnose", fixture],
        vec!["diagnose", "--json", fixture],
        vec!["mesh", "--servers", "2"],
        vec!["run", &tagged],
        vec!["--help"],
    ] {
        let (code, stderr) = with_closed_stdout(&args);
        assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{args:?}: {stderr}");
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
    }
}

#[test]
fn a_closed_stdout_still_writes_the_reports() {
    let dir = tempfile::tempdir().expect("dir");
    let junit = dir.path().join("junit.xml");
    let args = ["run", &data("wrong-expectation.toml"), "--junit", junit.to_str().expect("p")];
    let (code, stderr) = with_closed_stdout(&args);
    assert_eq!(code, Some(1), "the run's own result: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let x = std::fs::read_to_string(&junit).expect("the report is written");
    assert_eq!(x.matches("<testcase ").count(), 1, "{x}");
    // The same run, read: its output is there when someone listens.
    let out = run_bounded(crate::common::command(&args), &args);
    assert!(out.stdout.contains("FAIL  a deliberately wrong expectation"), "{}", out.stdout);
}

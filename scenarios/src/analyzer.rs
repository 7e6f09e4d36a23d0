//! External analyzers: `CMD ARGS CASE_DIR`, split as a shell splits words
//! (`shell-words`; no shell runs it), verdict JSON on standard output, read
//! with serde and tolerantly (unknown keys ignored: analyzers may add their
//! own). A crash, a non-zero exit, a timeout, more than [`MAX_OUTPUT`] on
//! standard output, or invalid JSON fails the scenario with the reason.
//! Memory stays bounded: standard output is read up to the cap, standard
//! error only for its last [`STDERR_TAIL`] bytes.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use diagnosis::{Evidence, Severity, Verdict};
use serde::de::IgnoredAny;
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::error::Error;

/// The most an analyzer may print on standard output: 64 MiB.
pub const MAX_OUTPUT: usize = 64 * 1024 * 1024;

/// How long standard error may stay open once the analyzer has exited.
const STDERR_GRACE: Duration = Duration::from_secs(1);

/// How much of standard error is kept (its end), for the failure message.
pub const STDERR_TAIL: usize = 64 * 1024;

/// Splits `--analyzer 'CMD ARGS'` as a POSIX shell splits words (quotes,
/// backslashes, no expansion).
pub fn split_command(line: &str) -> Result<Vec<String>, Error> {
    let bad = |reason: String| Error::AnalyzerCommand { command: line.to_owned(), reason };
    let words = shell_words::split(line).map_err(|e| bad(e.to_string()))?;
    if words.is_empty() {
        return Err(bad("empty command".into()));
    }
    Ok(words)
}

/// What an analyzer prints: `{"verdicts": [...]}` and whatever else it likes.
#[derive(Debug, Deserialize)]
struct Printed {
    verdicts: Vec<PrintedVerdict>,
}

#[derive(Debug, Deserialize)]
struct PrintedVerdict {
    id: String,
    #[serde(default)]
    severity: Option<SeverityIn>,
    #[serde(default)]
    subject: BTreeMap<String, Scalar>,
    #[serde(default)]
    cause: Option<String>,
    #[serde(default)]
    evidence: Vec<PrintedEvidence>,
    #[serde(default)]
    guidance: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum SeverityIn {
    Known(Severity),
    /// A severity of the analyzer's own: read as `error`.
    Other(IgnoredAny),
}

/// A subject value: the contract says strings; server ids printed as
/// numbers (DS up to 6.x) are read as their text; anything else is dropped.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Scalar {
    Text(String),
    Number(serde_json::Number),
    Flag(bool),
    Other(IgnoredAny),
}

#[derive(Debug, Deserialize)]
struct PrintedEvidence {
    #[serde(default)]
    file: String,
    #[serde(default)]
    line: u64,
    #[serde(default)]
    text: String,
}

impl From<PrintedVerdict> for Verdict {
    fn from(p: PrintedVerdict) -> Verdict {
        let severity = match p.severity {
            Some(SeverityIn::Known(s)) => s,
            _ => Severity::Error,
        };
        let mut v = Verdict::new(&p.id, severity);
        v.subject = p
            .subject
            .into_iter()
            .filter_map(|(k, x)| match x {
                Scalar::Text(t) => Some((k, t)),
                Scalar::Number(n) => Some((k, n.to_string())),
                Scalar::Flag(b) => Some((k, b.to_string())),
                Scalar::Other(_) => None,
            })
            .collect();
        v.cause = p.cause;
        v.guidance = p.guidance;
        v.evidence = p.evidence.into_iter().map(|e| Evidence { file: e.file, line: e.line, text: e.text }).collect();
        v
    }
}

/// Reads an analyzer's verdict JSON.
pub fn parse_verdicts(stdout: &[u8]) -> Result<Vec<Verdict>, Error> {
    let printed: Printed = serde_json::from_slice(stdout).map_err(Error::AnalyzerJson)?;
    Ok(printed.verdicts.into_iter().map(Verdict::from).collect())
}

/// Reads `r` to its end, at most `limit` bytes: `None` past the limit.
pub async fn read_capped<R: AsyncRead + Unpin>(r: R, limit: usize) -> std::io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    r.take(cap).read_to_end(&mut buf).await?;
    Ok((buf.len() <= limit).then_some(buf))
}

/// Reads `r` to its end, keeping only its last `keep` bytes.
pub async fn read_tail<R: AsyncRead + Unpin>(mut r: R, keep: usize) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 8192];
    loop {
        match r.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                if buf.len() > keep.saturating_mul(2) {
                    buf.drain(..buf.len() - keep);
                }
            }
        }
    }
    if buf.len() > keep {
        buf.drain(..buf.len() - keep);
    }
    buf
}

/// Runs the analyzer on a case folder.
pub async fn run(words: &[String], case: &Path, timeout: Duration) -> Result<Vec<Verdict>, Error> {
    run_capped(words, case, timeout, MAX_OUTPUT).await
}

/// [`run`] with another cap on standard output.
pub async fn run_capped(words: &[String], case: &Path, timeout: Duration, limit: usize) -> Result<Vec<Verdict>, Error> {
    let Some((program, args)) = words.split_first() else {
        return Err(Error::AnalyzerCommand { command: String::new(), reason: "empty command".into() });
    };
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .arg(case)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| Error::AnalyzerStart { program: program.clone(), source })?;
    let (Some(mut stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(Error::AnalyzerIo(std::io::Error::other("no pipe to the analyzer")));
    };
    // Standard error is read alongside (a full pipe would stall the analyzer),
    // in a task that is aborted when this function returns, however it does.
    let mut stderr_task = tokio::task::JoinSet::new();
    stderr_task.spawn(read_tail(stderr, STDERR_TAIL));
    let work = async {
        let Some(out) = read_capped(&mut stdout, limit).await.map_err(Error::AnalyzerIo)? else {
            // Past the cap: stop it now rather than at the timeout (its own
            // children get EPIPE once the pipe closes as this returns).
            let _ = child.start_kill();
            return Err(Error::AnalyzerOutputTooLarge { limit });
        };
        let status = child.wait().await.map_err(Error::AnalyzerIo)?;
        // A child of the analyzer may still hold standard error open.
        let err = match tokio::time::timeout(STDERR_GRACE, stderr_task.join_next()).await {
            Ok(Some(Ok(tail))) => tail,
            _ => Vec::new(),
        };
        Ok::<_, Error>((status, out, err))
    };
    let (status, out, err) = match tokio::time::timeout(timeout, work).await {
        Ok(r) => r?,
        Err(_) => return Err(Error::AnalyzerTimeout(timeout)),
    };
    if !status.success() {
        let err = String::from_utf8_lossy(&err);
        let tail: Vec<&str> = err.lines().rev().take(5).collect();
        let stderr_tail = tail.into_iter().rev().collect::<Vec<_>>().join(" | ");
        return Err(Error::AnalyzerExit { status, stderr_tail });
    }
    parse_verdicts(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_like_a_shell() {
        assert_eq!(
            split_command("python3 a.py --x 'two words' \"q\\\"t\" b\\ c").expect("ok"),
            ["python3", "a.py", "--x", "two words", "q\"t", "b c"]
        );
        assert!(matches!(split_command("a 'open"), Err(Error::AnalyzerCommand { .. })));
        assert!(split_command("   ").is_err());
    }

    #[test]
    fn verdict_json_is_read_tolerantly() {
        let v = parse_verdicts(br#"{"verdicts":[{"id":"ds.healthy","severity":"ok","extra":1}],"analyzer":"x"}"#)
            .expect("ok");
        assert_eq!((v[0].id.as_str(), v[0].severity), ("ds.healthy", Severity::Ok));
        let v = parse_verdicts(
            br#"{"verdicts":[{"id":"ds.rs-peer-unreachable","severity":"grave","subject":{"server":1234,"peer":"ds-2","x":null},"cause":null,"evidence":[{"file":"f","line":3,"mine":true}]}]}"#,
        )
        .expect("ok");
        assert_eq!(v[0].severity, Severity::Error);
        assert_eq!(v[0].subject.get("server").map(String::as_str), Some("1234"));
        assert_eq!(v[0].subject.get("peer").map(String::as_str), Some("ds-2"));
        assert!(!v[0].subject.contains_key("x"));
        assert_eq!(v[0].evidence[0].line, 3);
        let e = parse_verdicts(b"not json").expect_err("bad").to_string();
        assert!(e.starts_with("analyzer printed invalid JSON"), "{e}");
        assert!(parse_verdicts(b"{}").expect_err("no verdicts").to_string().contains("missing field `verdicts`"));
    }

    #[tokio::test]
    async fn reads_are_capped() {
        let data = vec![b'x'; 1000];
        assert_eq!(read_capped(&data[..], 1000).await.expect("io").map(|v| v.len()), Some(1000));
        assert_eq!(read_capped(&data[..], 999).await.expect("io"), None);
        let tail = read_tail(&data[..], 10).await;
        assert_eq!(tail.len(), 10);
        let mut numbered = Vec::new();
        for i in 0..100_000u32 {
            numbered.extend_from_slice(format!("{i}\n").as_bytes());
        }
        let tail = read_tail(&numbered[..], 12).await;
        assert_eq!(tail, b"99998\n99999\n");
    }
}

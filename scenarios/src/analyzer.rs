//! External analyzers: `CMD ARGS CASE_DIR`, split as a shell splits words (no
//! shell runs it), verdict JSON on standard output. A crash, a non-zero exit,
//! a timeout or invalid JSON fails the scenario with the reason.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use diagnosis::{Evidence, Severity, Verdict};
use serde_json::Value;
use tokio::io::AsyncReadExt;

/// Splits a command line as a POSIX shell splits words: quotes, backslashes,
/// no expansion. `Err` for an unclosed quote.
pub fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(x) => cur.push(x),
                        None => return Err(format!("unclosed ' in {line:?}")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(x @ ('"' | '\\' | '$' | '`')) => cur.push(x),
                            Some(x) => {
                                cur.push('\\');
                                cur.push(x);
                            }
                            None => return Err(format!("unclosed \" in {line:?}")),
                        },
                        Some(x) => cur.push(x),
                        None => return Err(format!("unclosed \" in {line:?}")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(x) = chars.next() {
                    cur.push(x);
                }
            }
            x => {
                in_word = true;
                cur.push(x);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// Reads an analyzer's verdict JSON, ignoring keys it does not know.
pub fn parse_verdicts(stdout: &str) -> Result<Vec<Verdict>, String> {
    let v: Value = serde_json::from_str(stdout.trim()).map_err(|e| format!("invalid JSON: {e}"))?;
    let list = v.get("verdicts").and_then(Value::as_array).ok_or("invalid JSON: no \"verdicts\" array")?;
    let mut out = Vec::new();
    for (i, x) in list.iter().enumerate() {
        let id =
            x.get("id").and_then(Value::as_str).ok_or_else(|| format!("invalid JSON: verdict #{} has no id", i + 1))?;
        let severity = match x.get("severity").and_then(Value::as_str) {
            Some("ok") => Severity::Ok,
            Some("info") => Severity::Info,
            Some("warning") => Severity::Warning,
            _ => Severity::Error,
        };
        let mut v = Verdict::new(id, severity);
        if let Some(s) = x.get("subject").and_then(Value::as_object) {
            for (k, val) in s {
                if let Some(t) = val.as_str() {
                    v.subject.insert(k.clone(), t.to_owned());
                }
            }
        }
        v.cause = x.get("cause").and_then(Value::as_str).map(str::to_owned);
        v.guidance = x
            .get("guidance")
            .and_then(Value::as_array)
            .map(|g| g.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        v.evidence = x
            .get("evidence")
            .and_then(Value::as_array)
            .map(|e| {
                e.iter()
                    .filter_map(|ev| {
                        Some(Evidence {
                            file: ev.get("file")?.as_str()?.to_owned(),
                            line: ev.get("line").and_then(Value::as_u64).unwrap_or(0),
                            text: ev.get("text").and_then(Value::as_str).unwrap_or_default().to_owned(),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push(v);
    }
    Ok(out)
}

/// Runs the analyzer on a case folder.
pub async fn run(words: &[String], case: &Path, timeout: Duration) -> Result<Vec<Verdict>, String> {
    let (program, args) = words.split_first().ok_or("empty analyzer command")?;
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .arg(case)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("analyzer {program:?} could not start: {e}"))?;
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    let mut stderr = child.stderr.take().ok_or("no stderr")?;
    let work = async {
        let (mut out, mut err) = (String::new(), String::new());
        let (a, b) = tokio::join!(stdout.read_to_string(&mut out), stderr.read_to_string(&mut err));
        a.map_err(|e| e.to_string())?;
        let _ = b;
        let status = child.wait().await.map_err(|e| e.to_string())?;
        Ok::<_, String>((status, out, err))
    };
    let (status, out, err) = match tokio::time::timeout(timeout, work).await {
        Ok(r) => r?,
        Err(_) => return Err(format!("analyzer timed out after {}s", timeout.as_secs_f64())),
    };
    if !status.success() {
        let tail: String =
            err.lines().rev().take(5).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join(" | ");
        return Err(format!(
            "analyzer exited with {status}{}",
            if tail.is_empty() { String::new() } else { format!(": {tail}") }
        ));
    }
    parse_verdicts(&out).map_err(|e| format!("analyzer printed {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_like_a_shell() {
        assert_eq!(
            split_words("python3 a.py --x 'two words' \"q\\\"t\" b\\ c").expect("ok"),
            ["python3", "a.py", "--x", "two words", "q\"t", "b c"]
        );
        assert!(split_words("a 'open").is_err());
        assert_eq!(split_words("").expect("ok"), Vec::<String>::new());
    }

    #[test]
    fn verdict_json_is_read_tolerantly() {
        let v = parse_verdicts(r#"{"verdicts":[{"id":"ds.healthy","extra":1}],"analyzer":"x"}"#).expect("ok");
        assert_eq!(v[0].id, "ds.healthy");
        assert!(parse_verdicts("not json").expect_err("bad").starts_with("invalid JSON"));
        assert!(parse_verdicts("{}").is_err());
    }
}

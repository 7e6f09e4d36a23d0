//! The config file: Toxiproxy's JSON array of proxies, whose `toxics` are
//! installed too (Toxiproxy ignores them).

use std::path::Path;

use serde_json::Value;

use crate::error::ProxyError;
use crate::registry::ProxySpec;

/// Reads a config file into proxy specs; errors name the file, and the line
/// and column for JSON errors, or the entry for bad values.
pub fn load(path: &Path) -> Result<Vec<ProxySpec>, ProxyError> {
    let shown = path.display().to_string();
    let text =
        std::fs::read_to_string(path).map_err(|e| ProxyError::Config { path: shown.clone(), reason: e.to_string() })?;
    parse(&text).map_err(|reason| ProxyError::Config { path: shown, reason })
}

/// Parses config text (a JSON array, or `{"proxies": [...]}`).
pub fn parse(text: &str) -> Result<Vec<ProxySpec>, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let list = match v {
        Value::Array(a) => a,
        Value::Object(mut o) => match o.remove("proxies") {
            Some(Value::Array(a)) => a,
            _ => return Err("expected a JSON array of proxies".into()),
        },
        _ => return Err("expected a JSON array of proxies".into()),
    };
    list.iter()
        .enumerate()
        .map(|(i, p)| {
            ProxySpec::from_json(p).map_err(|e| {
                let name = p.get("name").and_then(Value::as_str).unwrap_or("?");
                format!("proxy #{} ({name}): {e}", i + 1)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_entry_or_position() {
        assert!(parse("[{\"name\": \"a\"}]")
            .expect_err("no upstream")
            .contains("proxy #1 (a): missing required field: upstream"));
        assert!(parse("[{\"name\": ").expect_err("truncated").contains("line 1 column"));
        let err = parse(r#"[{"name":"a","upstream":"x:1","toxics":[{"type":"nope"}]}]"#).expect_err("bad toxic");
        assert!(err.contains("invalid toxic type"), "{err}");
    }

    #[test]
    fn out_of_range_numbers_in_the_file_name_the_entry_and_field() {
        let err = parse(r#"[{"name":"a","upstream":"x:1","toxics":[{"type":"latency","attributes":{"latency":-4}}]}]"#)
            .expect_err("negative");
        assert_eq!(err, "proxy #1 (a): attributes.latency: -4 is negative: it must be 0 or more");
        let err = parse(
            r#"[{"name":"b","upstream":"x:1","toxics":[{"type":"drop","attributes":{"new_conections":false}}]}]"#,
        )
        .expect_err("misspelt");
        assert!(err.starts_with("proxy #1 (b): attributes.new_conections: unknown key"), "{err}");
    }

    #[test]
    fn toxics_in_the_file_are_kept() {
        let specs = parse(r#"[{"name":"a","listen":"127.0.0.1:0","upstream":"127.0.0.1:9","toxics":[{"type":"latency","attributes":{"latency":5}}]}]"#)
            .expect("valid");
        assert_eq!(specs[0].toxics.as_ref().map(Vec::len), Some(1));
    }
}

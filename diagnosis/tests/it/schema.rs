//! docs/verdicts.schema.json follows the catalog, and every output of the
//! engine on every fixture validates against it.

use serde_json::Value;

use diagnosis::catalog::{CATALOG, CONNECTION_CAUSES, DS_CAUSES};

fn schema() -> Value {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/verdicts.schema.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("schema file")).expect("schema is JSON")
}

/// The subset of JSON Schema the file uses: type, enum, required,
/// properties, additionalProperties, items, minimum.
fn validate(schema: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
    if let Some(t) = schema.get("type").and_then(Value::as_str) {
        let ok = match t {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            "null" => v.is_null(),
            _ => false,
        };
        if !ok {
            errors.push(format!("{at}: not a {t}: {v}"));
            return;
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        if !options.contains(v) {
            errors.push(format!("{at}: {v} is not one of the enum"));
        }
    }
    if let (Some(min), Some(n)) = (schema.get("minimum").and_then(Value::as_i64), v.as_i64()) {
        if n < min {
            errors.push(format!("{at}: {n} < {min}"));
        }
    }
    if let Some(obj) = v.as_object() {
        for r in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            let key = r.as_str().unwrap_or_default();
            if !obj.contains_key(key) {
                errors.push(format!("{at}: missing {key}"));
            }
        }
        let props = schema.get("properties").and_then(Value::as_object);
        for (k, val) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(s) => validate(s, val, &format!("{at}.{k}"), errors),
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => errors.push(format!("{at}: unexpected {k}")),
                    Some(s @ Value::Object(_)) => validate(s, val, &format!("{at}.{k}"), errors),
                    _ => {}
                },
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
        for (i, x) in arr.iter().enumerate() {
            validate(items, x, &format!("{at}[{i}]"), errors);
        }
    }
}

#[test]
fn the_schema_enums_are_the_catalogs() {
    let s = schema();
    let item = &s["properties"]["verdicts"]["items"]["properties"];
    let ids: Vec<&str> = item["id"]["enum"].as_array().expect("enum").iter().filter_map(Value::as_str).collect();
    let catalog: Vec<&str> = CATALOG.iter().map(|d| d.id).collect();
    assert_eq!(ids, catalog, "regenerate docs/verdicts.schema.json from `replharness verdicts --json`");
    let causes: Vec<&str> = item["cause"]["enum"].as_array().expect("enum").iter().filter_map(Value::as_str).collect();
    for c in DS_CAUSES.iter().chain(CONNECTION_CAUSES) {
        assert!(causes.contains(c), "cause {c} missing from the schema");
    }
}

#[test]
fn every_fixture_output_validates() {
    let s = schema();
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut n = 0;
    for family in std::fs::read_dir(&root).expect("fixtures") {
        for case in std::fs::read_dir(family.expect("entry").path()).expect("family") {
            let case = case.expect("case").path();
            if !case.is_dir() {
                continue; // a README beside the cases
            }
            let report = diagnosis::diagnose(&case, &diagnosis::Options::default()).expect("diagnose");
            let v = serde_json::to_value(&report).expect("json");
            let mut errors = Vec::new();
            validate(&s, &v, "$", &mut errors);
            assert!(errors.is_empty(), "{}: {errors:#?}", case.display());
            // And the object reads back (readers ignore unknown keys).
            let back: diagnosis::Report = serde_json::from_value(v).expect("reads back");
            assert_eq!(back.verdicts, report.verdicts);
            n += 1;
        }
    }
    assert!(n >= 50, "only {n} fixtures");
}

#[test]
fn the_validator_catches_what_it_should() {
    let s = schema();
    let bad = serde_json::json!({"verdicts": [{"id": "ds.made-up", "severity": "fatal", "subject": {}, "cause": null, "evidence": [{"file": "x", "line": 0, "text": "t"}], "guidance": []}]});
    let mut errors = Vec::new();
    validate(&s, &bad, "$", &mut errors);
    assert_eq!(errors.len(), 3, "{errors:#?}");
}

#[test]
fn the_documented_example_validates() {
    let md = std::fs::read_to_string(std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/diagnosis.md"))
        .expect("docs");
    let start = md.find("```json verdicts\n").expect("example block") + "```json verdicts\n".len();
    let body = &md[start..start + md[start..].find("```").expect("block end")];
    let v: Value = serde_json::from_str(body).expect("example is JSON");
    let mut errors = Vec::new();
    validate(&schema(), &v, "$", &mut errors);
    assert!(errors.is_empty(), "{errors:#?}");
    let r: diagnosis::Report = serde_json::from_value(v).expect("reads as a report");
    // It is what the engine says of the fixture it was taken from.
    let real = diagnosis::diagnose(&crate::support::fixture("ds/cause-firewall-drop"), &diagnosis::Options::default())
        .expect("diagnose");
    let same = real.verdicts.iter().find(|x| x.subject == r.verdicts[0].subject).expect("same subject");
    assert_eq!(same.guidance, r.verdicts[0].guidance);
    assert_eq!(same.cause, r.verdicts[0].cause);
}

/// The `input` example of docs/diagnosis.md validates, reads back, and is
/// what the engine says of the case the page describes.
#[test]
fn the_documented_input_example_is_the_engines() {
    let md = std::fs::read_to_string(std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/diagnosis.md"))
        .expect("docs");
    let start = md.find("```json input\n").expect("input example") + "```json input\n".len();
    let body = &md[start..start + md[start..].find("```").expect("block end")];
    let doc: Value = serde_json::from_str(body).expect("example is JSON");
    let mut errors = Vec::new();
    validate(&schema()["properties"]["input"], &doc, "$.input", &mut errors);
    assert!(errors.is_empty(), "{errors:#?}");
    let _: diagnosis::model::ReadStats = serde_json::from_value(doc.clone()).expect("reads as input");
    // One foreign line, one bad byte, one 2 MiB line, and a copied access log.
    let mut errors_log = b"this is not a log line\n".to_vec();
    errors_log.extend_from_slice(b"[22/Nov/2026:10:00:00 +0000] category=CORE severity=NOTICE msgID=135 msg=The Directory Server has started \xff\n");
    errors_log.extend_from_slice(
        format!("[22/Nov/2026:10:00:01 +0000] category=CORE severity=NOTICE msgID=1 msg={}\n", "x".repeat(2 << 20))
            .as_bytes(),
    );
    let dir = tempfile::tempdir().expect("dir");
    let s = dir.path().join("servers/ds-1");
    std::fs::create_dir_all(&s).expect("mkdir");
    std::fs::write(s.join("errors"), errors_log).expect("write");
    std::fs::write(s.join("access"), "[22/Nov/2026:10:00:00 +0000] conn=1 op=0 BIND\n").expect("write");
    let r = diagnosis::diagnose(dir.path(), &diagnosis::Options::default()).expect("diagnose");
    assert_eq!(serde_json::to_value(&r.input).expect("json"), doc);
}

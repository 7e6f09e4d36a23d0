//! The bounds of every field a toxic takes, and the checks that enforce them
//! on the JSON a client (or a config or scenario file) wrote, before any
//! typed parsing, so a refusal names the field:
//!
//! | what | fields | bound |
//! |---|---|---|
//! | durations in ms | `latency`, `jitter`, `slow_close.delay`, `timeout`, `reset_peer.timeout`, `schedule.start_after_ms`, `duration_ms`, `flap.on_ms`, `flap.off_ms` | 0 ..= 86 400 000 (24 h) |
//! | durations in µs | `slicer.delay` | 0 ..= 86 400 000 000 (24 h) |
//! | counts | `rate`, `average_size`, `size_variation`, `bytes`, `flap.count`, `target.connection` | 0 ..= i64::MAX, as Toxiproxy's int64 fields |
//! | ports | `target.client_ports` | 0 ..= 65 535, `from <= to` |
//! | chance | `toxicity` | 0 ..= 1 |
//!
//! Negative numbers and fractions are refused everywhere. An unknown key
//! inside `attributes`, `schedule` or `target` is refused (no Toxiproxy client
//! sends one; a misspelt `latancy` would otherwise run as a 0 ms latency);
//! unknown keys at the top of a toxic stay ignored, as Toxiproxy ignores them.

use serde_json::{Map, Value};

use crate::error::FieldError;

/// The largest count a toxic takes: Toxiproxy's fields are int64.
pub const MAX_COUNT: u64 = i64::MAX as u64;
/// The longest duration a toxic takes, in milliseconds: 24 hours.
pub const MAX_MS: u64 = 24 * 60 * 60 * 1000;
/// The longest duration in microseconds (the slicer's `delay`): 24 hours.
pub const MAX_US: u64 = MAX_MS * 1000;

/// The least a proxy's `buffer_bytes` may be: 1 KiB.
pub const MIN_BUFFER: u64 = 1 << 10;
/// The most a proxy's `buffer_bytes` may be: 1 GiB (per direction of each connection).
pub const MAX_BUFFER: u64 = 1 << 30;

/// Checks a proxy's `buffer_bytes`: a whole number of bytes from
/// [`MIN_BUFFER`] to [`MAX_BUFFER`].
pub fn check_buffer(v: &Value) -> Result<usize, FieldError> {
    let field = "buffer_bytes";
    let Some(n) = v.as_u64() else {
        return Err(match v.as_i64() {
            Some(_) => FieldError::Negative { field: field.into(), value: v.to_string() },
            None => wrong(field, "a whole number of bytes", v),
        });
    };
    if n > MAX_BUFFER {
        return Err(FieldError::TooLarge { field: field.into(), value: n.to_string(), max: MAX_BUFFER, what: "1 GiB" });
    }
    if n < MIN_BUFFER {
        return Err(FieldError::invalid(
            field,
            format!("{n} is below {MIN_BUFFER} (1 KiB): a connection must hold a chunk"),
        ));
    }
    usize::try_from(n).map_err(|_| wrong(field, "a number of bytes this machine can hold", v))
}

/// What a field holds, and so its bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// A duration in milliseconds, at most [`MAX_MS`].
    Millis,
    /// A duration in microseconds, at most [`MAX_US`].
    Micros,
    /// A count (bytes, KB/s, cycles, an id), at most [`MAX_COUNT`].
    Count,
    /// A TCP port.
    Port,
    /// `true` or `false`.
    Flag,
}

impl Bound {
    /// The largest value, for numbers.
    pub fn max(self) -> Option<u64> {
        match self {
            Bound::Millis => Some(MAX_MS),
            Bound::Micros => Some(MAX_US),
            Bound::Count => Some(MAX_COUNT),
            Bound::Port => Some(u64::from(u16::MAX)),
            Bound::Flag => None,
        }
    }

    fn what(self) -> &'static str {
        match self {
            Bound::Millis => "24 h in milliseconds",
            Bound::Micros => "24 h in microseconds",
            Bound::Count => "i64::MAX, as Toxiproxy's int64 fields",
            Bound::Port => "a TCP port",
            Bound::Flag => "",
        }
    }
}

/// The attributes each toxic type takes, with their bounds; `None` for an
/// unknown type.
pub fn attributes(type_name: &str) -> Option<&'static [(&'static str, Bound)]> {
    use Bound::*;
    Some(match type_name {
        "latency" => &[("latency", Millis), ("jitter", Millis)],
        "bandwidth" => &[("rate", Count)],
        "slow_close" => &[("delay", Millis)],
        "timeout" | "reset_peer" => &[("timeout", Millis)],
        "slicer" => &[("average_size", Count), ("size_variation", Count), ("delay", Micros)],
        "limit_data" => &[("bytes", Count)],
        "noop" | "hold" => &[],
        "reject" => &[("reset_existing", Flag)],
        "drop" => &[("new_connections", Flag)],
        _ => return None,
    })
}

const SCHEDULE: &[(&str, Bound)] = &[("start_after_ms", Bound::Millis), ("duration_ms", Bound::Millis)];
const FLAP: &[(&str, Bound)] = &[("on_ms", Bound::Millis), ("off_ms", Bound::Millis), ("count", Bound::Count)];

/// Checks a toxic's `attributes`: every key known to `type_name`, every value
/// of its type and within its bound.
pub fn check_attributes(type_name: &str, attrs: &Map<String, Value>) -> Result<(), FieldError> {
    let fields = attributes(type_name)
        .ok_or_else(|| FieldError::invalid("type", format!("{type_name:?} is not a toxic type")))?;
    let known = if fields.is_empty() {
        format!("a {type_name} toxic takes no attributes")
    } else {
        format!("a {type_name} toxic takes {}", names(fields))
    };
    check_fields("attributes", attrs, fields, &[], &known)
}

/// Checks a toxic's `schedule` object (`start_after_ms`, `duration_ms`, `flap`).
pub fn check_schedule(v: &Value) -> Result<(), FieldError> {
    let obj = object("schedule", v)?;
    let known = format!("a schedule takes {}, flap", names(SCHEDULE));
    check_fields("schedule", obj, SCHEDULE, &["flap"], &known)?;
    match obj.get("flap") {
        None | Some(Value::Null) => Ok(()),
        Some(f) => {
            let flap = object("schedule.flap", f)?;
            check_fields("schedule.flap", flap, FLAP, &[], &format!("a flap takes {}", names(FLAP)))?;
            for key in ["on_ms", "off_ms"] {
                if !flap.contains_key(key) {
                    return Err(FieldError::invalid(format!("schedule.flap.{key}"), "missing"));
                }
            }
            Ok(())
        }
    }
}

/// Checks a toxic's `target` object (`client`, `client_ports`, `connection`);
/// the client address itself is parsed by `target::Cidr::parse`.
pub fn check_target(v: &Value) -> Result<(), FieldError> {
    let obj = object("target", v)?;
    let known = "a target takes client, client_ports, connection";
    check_fields("target", obj, &[("connection", Bound::Count)], &["client", "client_ports"], known)?;
    match obj.get("client") {
        None | Some(Value::Null | Value::String(_)) => {}
        Some(other) => return Err(wrong("target.client", "an address or CIDR block", other)),
    }
    match obj.get("client_ports") {
        None | Some(Value::Null) => {}
        Some(Value::Array(ports)) if ports.len() == 2 => {
            for (i, p) in ports.iter().enumerate() {
                check_value(&format!("target.client_ports[{i}]"), p, Bound::Port)?;
            }
        }
        Some(other) => return Err(wrong("target.client_ports", "[from, to]", other)),
    }
    Ok(())
}

/// Checks `toxicity`: a number from 0 to 1.
pub fn check_toxicity(v: &Value) -> Result<f64, FieldError> {
    let t = v.as_f64().ok_or_else(|| wrong("toxicity", "a number from 0 to 1", v))?;
    if !(0.0..=1.0).contains(&t) {
        return Err(FieldError::invalid("toxicity", format!("{v} is not between 0 and 1")));
    }
    Ok(t)
}

/// Checks one value against its bound.
pub fn check_value(field: &str, v: &Value, bound: Bound) -> Result<(), FieldError> {
    let Some(max) = bound.max() else {
        return if v.is_boolean() { Ok(()) } else { Err(wrong(field, "true or false", v)) };
    };
    let Value::Number(n) = v else { return Err(wrong(field, "a whole number", v)) };
    let too_large = || FieldError::TooLarge { field: field.to_owned(), value: n.to_string(), max, what: bound.what() };
    if let Some(u) = n.as_u64() {
        return if u > max { Err(too_large()) } else { Ok(()) };
    }
    if n.as_i64().is_some() {
        return Err(FieldError::Negative { field: field.to_owned(), value: n.to_string() });
    }
    // A fraction, or an integer too large for 64 bits (JSON has no limit).
    match n.as_f64() {
        Some(f) if f < 0.0 => Err(FieldError::Negative { field: field.to_owned(), value: n.to_string() }),
        Some(f) if f > max as f64 => Err(too_large()),
        _ => Err(wrong(field, "a whole number", v)),
    }
}

/// Checks every key of `obj`: the bounded `fields` (in their order), the
/// `other` keys the caller checks itself, nothing else.
fn check_fields(
    path: &str,
    obj: &Map<String, Value>,
    fields: &[(&str, Bound)],
    other: &[&str],
    known: &str,
) -> Result<(), FieldError> {
    if let Some(key) = obj.keys().find(|k| !other.contains(&k.as_str()) && !fields.iter().any(|(n, _)| n == k)) {
        return Err(FieldError::UnknownKey { field: format!("{path}.{key}"), known: known.to_owned() });
    }
    for (name, bound) in fields {
        if let Some(v) = obj.get(*name) {
            check_value(&format!("{path}.{name}"), v, *bound)?;
        }
    }
    Ok(())
}

fn object<'a>(field: &str, v: &'a Value) -> Result<&'a Map<String, Value>, FieldError> {
    v.as_object().ok_or_else(|| wrong(field, "an object", v))
}

fn names(fields: &[(&str, Bound)]) -> String {
    fields.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
}

fn wrong(field: &str, expected: &'static str, got: &Value) -> FieldError {
    let mut got = got.to_string();
    if got.len() > 40 {
        let mut end = 40;
        while !got.is_char_boundary(end) {
            end -= 1;
        }
        got.truncate(end);
        got.push('…');
    }
    FieldError::WrongType { field: field.to_owned(), expected, got }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs(t: &str, v: Value) -> Result<(), FieldError> {
        check_attributes(t, v.as_object().expect("object"))
    }

    #[test]
    fn bounds_are_inclusive_and_name_the_field() {
        assert_eq!(attrs("latency", json!({"latency": MAX_MS, "jitter": 0})), Ok(()));
        let e = attrs("latency", json!({"latency": MAX_MS + 1})).expect_err("over 24 h");
        assert_eq!(e.field(), "attributes.latency");
        assert_eq!(
            e.to_string(),
            "attributes.latency: 86400001 is out of range: at most 86400000 (24 h in milliseconds)"
        );
        assert_eq!(attrs("slicer", json!({"delay": MAX_US})), Ok(()));
        assert!(attrs("slicer", json!({"delay": MAX_US + 1})).is_err());
        assert_eq!(attrs("limit_data", json!({"bytes": MAX_COUNT})), Ok(()));
        let e = attrs("limit_data", json!({"bytes": MAX_COUNT + 1})).expect_err("over i64::MAX");
        assert!(e.to_string().contains("i64::MAX"), "{e}");
    }

    #[test]
    fn negatives_fractions_and_huge_numbers() {
        let e = attrs("bandwidth", json!({"rate": -1})).expect_err("negative");
        assert_eq!(e, FieldError::Negative { field: "attributes.rate".into(), value: "-1".into() });
        let e = attrs("bandwidth", json!({"rate": 1.5})).expect_err("fraction");
        assert!(matches!(e, FieldError::WrongType { .. }), "{e:?}");
        let huge: Value = serde_json::from_str("{\"rate\": 100000000000000000000000}").expect("json");
        assert!(matches!(attrs("bandwidth", huge), Err(FieldError::TooLarge { .. })));
        let e = attrs("reject", json!({"reset_existing": 1})).expect_err("not a flag");
        assert_eq!(e.field(), "attributes.reset_existing");
    }

    #[test]
    fn unknown_keys_are_named_with_the_known_ones() {
        let e = attrs("latency", json!({"latancy": 100})).expect_err("misspelt");
        assert_eq!(e.to_string(), "attributes.latancy: unknown key (a latency toxic takes latency, jitter)");
        assert!(attrs("hold", json!({"x": 1})).expect_err("none").to_string().contains("takes no attributes"));
        let e = check_schedule(&json!({"flap": {"on_ms": 1, "off_ms": 1, "times": 3}})).expect_err("misspelt");
        assert_eq!(e.field(), "schedule.flap.times");
        let e = check_target(&json!({"clinet": "127.0.0.1"})).expect_err("misspelt");
        assert_eq!(e.field(), "target.clinet");
    }

    #[test]
    fn schedules_and_targets() {
        let e = check_schedule(&json!({"flap": {"on_ms": u64::MAX, "off_ms": u64::MAX}})).expect_err("huge");
        assert_eq!(e.field(), "schedule.flap.on_ms");
        let e = check_schedule(&json!({"start_after_ms": MAX_MS + 1})).expect_err("late");
        assert_eq!(e.field(), "schedule.start_after_ms");
        assert_eq!(check_schedule(&json!({"flap": {"off_ms": 5}})).expect_err("no on").field(), "schedule.flap.on_ms");
        let e = check_target(&json!({"client_ports": [1, 70000]})).expect_err("port");
        assert_eq!(e.field(), "target.client_ports[1]");
        assert!(check_target(&json!({"client_ports": [1]})).is_err());
        assert_eq!(check_target(&json!({"connection": -3})).expect_err("neg").field(), "target.connection");
    }

    /// The table and the typed attributes agree: every type's attributes, as
    /// the serde types write them, are exactly the table's.
    #[test]
    fn the_table_matches_the_toxic_types() {
        for t in crate::toxic::TYPES {
            let toxic = crate::Toxic::from_json(&json!({"type": t})).expect("defaults");
            let written = toxic.to_json();
            let mut keys: Vec<&str> =
                written["attributes"].as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
            let mut table: Vec<&str> = attributes(t).expect("known").iter().map(|(n, _)| *n).collect();
            keys.sort_unstable();
            table.sort_unstable();
            assert_eq!(keys, table, "{t}");
        }
    }
}

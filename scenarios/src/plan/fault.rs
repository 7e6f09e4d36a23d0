//! A `fault` step's toxic, built and checked by the fault proxy itself
//! ([`Toxic::from_json`] runs [`fault_proxy::bounds`]), so a scenario file
//! refuses exactly what the proxy's API refuses: an unknown attribute, a
//! negative number, a count above i64::MAX, a duration above 24 h. The
//! proxy names the refused field by its path in the toxic's JSON; here it is
//! turned back into the file's place and name. `flap` (virtual time) becomes
//! the proxy's `schedule.flap` in real milliseconds.

use std::time::Duration;

use fault_proxy::{ProxyError, Toxic};
use serde_json::{json, Map, Value};

use super::Ctx;
use crate::error::{Error, Problem};
use crate::format::{FaultStep, Seg};
use crate::path;

pub(super) fn toxic(ctx: &Ctx<'_>, i: usize, step: &FaultStep) -> Result<Toxic, Error> {
    let spec = &step.fault;
    if !fault_proxy::toxic::TYPES.contains(&spec.type_name.as_str()) {
        return Err(ctx.err(
            &path!["steps", i, "fault", "type"],
            Problem::UnknownFaultType { given: spec.type_name.clone(), known: fault_proxy::toxic::TYPES.join(", ") },
        ));
    }
    let mut body = Map::new();
    body.insert("type".into(), json!(spec.type_name));
    if let Some(n) = &step.name {
        body.insert("name".into(), json!(n));
    }
    if let Some(s) = &spec.stream {
        body.insert("stream".into(), json!(s));
    }
    if let Some(t) = spec.toxicity {
        // JSON has no NaN (it would turn into null, the default of 1).
        if !t.is_finite() {
            let problem = Problem::Fault(format!("toxicity {t} is not between 0 and 1"));
            return Err(ctx.err(&path!["steps", i, "fault", "toxicity"], problem));
        }
        body.insert("toxicity".into(), json!(t));
    }
    body.insert("attributes".into(), Value::Object(spec.attributes.clone()));
    if let Some(t) = &spec.target {
        body.insert("target".into(), t.clone());
    }
    if let Some(s) = &spec.schedule {
        body.insert("schedule".into(), s.clone());
    }
    if let Some(flap) = &step.flap {
        if spec.schedule.is_some() {
            return Err(ctx.err(&path!["steps", i, "flap"], Problem::FlapAndSchedule));
        }
        let real = |which: &'static str, text: &str| -> Result<u64, Error> {
            let at = path!["steps", i, "flap", which];
            let virtual_time = ctx.duration(text, &at)?;
            let ms = real_millis(virtual_time, ctx.time_scale);
            if ms == 0 && which == "on" {
                let problem = Problem::FlapTooShort { which, text: text.to_owned(), scale: ctx.time_scale };
                return Err(ctx.err(&at, problem));
            }
            Ok(ms)
        };
        let mut f = Map::new();
        f.insert("on_ms".into(), json!(real("on", &flap.on)?));
        f.insert("off_ms".into(), json!(real("off", &flap.off)?));
        if let Some(n) = flap.count {
            f.insert("count".into(), json!(n));
        }
        body.insert("schedule".into(), json!({ "flap": f }));
    }
    Toxic::from_json(&Value::Object(body)).map_err(|e| match e {
        ProxyError::Invalid(error) => {
            let (segs, field) = file_field(error.field(), step.flap.is_some());
            let mut at = vec![Seg::Key("steps"), Seg::Index(i)];
            at.extend(segs);
            let place = match error {
                fault_proxy::FieldError::UnknownKey { .. } => ctx.loc.key_place(&at),
                _ => ctx.place(&at),
            };
            Error::invalid(place, Problem::FaultField { field, error })
        }
        other => ctx.err(&path!["steps", i, "fault"], Problem::Fault(other.to_string())),
    })
}

/// A virtual duration in real milliseconds, as the harness clock shrinks it.
fn real_millis(d: Duration, time_scale: f64) -> u64 {
    u64::try_from(d.div_f64(time_scale).as_millis()).unwrap_or(u64::MAX)
}

/// The proxy's field path (`attributes.latency`, `target.client_ports[1]`,
/// `schedule.flap.on_ms`) as a path in the step and the file's name for it.
fn file_field(proxy_field: &str, flap: bool) -> (Vec<Seg<'_>>, String) {
    if flap {
        if let Some(rest) = proxy_field.strip_prefix("schedule") {
            let (seg, name) = match rest.trim_start_matches(".flap") {
                ".on_ms" => (Some("on"), "flap.on"),
                ".off_ms" => (Some("off"), "flap.off"),
                ".count" => (Some("count"), "flap.count"),
                _ => (None, "flap"),
            };
            let mut segs = vec![Seg::Key("flap")];
            segs.extend(seg.map(Seg::Key));
            return (segs, name.to_owned());
        }
    }
    let mut segs = vec![Seg::Key("fault")];
    for part in proxy_field.split('.') {
        match part.split_once('[') {
            Some((key, index)) => {
                segs.push(Seg::Key(key));
                if let Ok(n) = index.trim_end_matches(']').parse() {
                    segs.push(Seg::Index(n));
                }
            }
            None => segs.push(Seg::Key(part)),
        }
    }
    (segs, format!("fault.{proxy_field}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_fields_map_to_the_files_names() {
        let (segs, name) = file_field("attributes.latancy", false);
        assert_eq!(segs, [Seg::Key("fault"), Seg::Key("attributes"), Seg::Key("latancy")]);
        assert_eq!(name, "fault.attributes.latancy");
        let (segs, name) = file_field("target.client_ports[1]", false);
        assert_eq!(segs, [Seg::Key("fault"), Seg::Key("target"), Seg::Key("client_ports"), Seg::Index(1)]);
        assert_eq!(name, "fault.target.client_ports[1]");
        assert_eq!(
            file_field("schedule.flap.off_ms", true),
            (vec![Seg::Key("flap"), Seg::Key("off")], "flap.off".into())
        );
        assert_eq!(file_field("schedule.flap.on_ms", false).1, "fault.schedule.flap.on_ms");
    }

    #[test]
    fn flap_times_shrink_by_the_scale() {
        assert_eq!(real_millis(Duration::from_secs(20), 100.0), 200);
        assert_eq!(real_millis(Duration::from_millis(10), 100.0), 0);
    }
}

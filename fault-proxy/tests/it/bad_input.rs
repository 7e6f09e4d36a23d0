//! Junk numbers and misspelt keys in toxics: refused with 400 and a message
//! naming the field and its bound (issue 9), while the extra top-level keys
//! Toxiproxy clients send stay ignored.

use axum::http::{Method, StatusCode};
use fault_proxy::bounds::{MAX_COUNT, MAX_MS, MAX_US};
use fault_proxy::{FieldError, Options, ProxyError, ProxyServer, Toxic};
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

use crate::api::call;
use crate::support::{addr, connect, proxied, read_n, Echo};

/// A server with proxy `a` in front of an echo.
async fn server() -> (ProxyServer, Echo) {
    let echo = Echo::start().await;
    let s = ProxyServer::new(Options::default());
    let body = json!({"name": "a", "upstream": echo.addr.to_string()}).to_string();
    assert_eq!(call(&s, Method::POST, "/proxies", Some(&body)).await.0, StatusCode::CREATED);
    (s, echo)
}

/// Posts a toxic; returns the status and the error message (or "").
async fn post(s: &ProxyServer, toxic: &Value) -> (StatusCode, String) {
    let (st, v) = call(s, Method::POST, "/proxies/a/toxics", Some(&toxic.to_string())).await;
    if st == StatusCode::OK {
        let name = v["name"].as_str().expect("name").to_owned();
        assert_eq!(call(s, Method::DELETE, &format!("/proxies/a/toxics/{name}"), None).await.0, StatusCode::NO_CONTENT);
    }
    (st, v["error"].as_str().unwrap_or_default().to_owned())
}

/// `toxic` with `value` set at `path` (`attributes.latency`, `schedule.flap.on_ms` …).
fn with(toxic: &Value, path: &str, value: Value) -> Value {
    let mut t = toxic.clone();
    let mut slot = &mut t;
    let keys: Vec<&str> = path.split('.').collect();
    for k in &keys[..keys.len() - 1] {
        slot = slot.as_object_mut().expect("object").entry(*k).or_insert_with(|| json!({}));
    }
    slot.as_object_mut().expect("object").insert(keys[keys.len() - 1].to_owned(), value);
    t
}

/// Every bounded field: a toxic to put it in, its path, its bound.
fn bounded_fields() -> Vec<(Value, &'static str, u64)> {
    let flap = json!({"type": "reject", "schedule": {"flap": {"on_ms": 1, "off_ms": 1}}});
    vec![
        (json!({"type": "latency"}), "attributes.latency", MAX_MS),
        (json!({"type": "latency"}), "attributes.jitter", MAX_MS),
        (json!({"type": "slow_close"}), "attributes.delay", MAX_MS),
        (json!({"type": "timeout"}), "attributes.timeout", MAX_MS),
        (json!({"type": "reset_peer"}), "attributes.timeout", MAX_MS),
        (json!({"type": "slicer"}), "attributes.delay", MAX_US),
        (json!({"type": "reject"}), "schedule.start_after_ms", MAX_MS),
        (json!({"type": "reject"}), "schedule.duration_ms", MAX_MS),
        (flap.clone(), "schedule.flap.on_ms", MAX_MS),
        (flap.clone(), "schedule.flap.off_ms", MAX_MS),
        (json!({"type": "bandwidth"}), "attributes.rate", MAX_COUNT),
        (json!({"type": "slicer"}), "attributes.average_size", MAX_COUNT),
        (json!({"type": "slicer"}), "attributes.size_variation", MAX_COUNT),
        (json!({"type": "limit_data"}), "attributes.bytes", MAX_COUNT),
        (flap, "schedule.flap.count", MAX_COUNT),
        (json!({"type": "reject"}), "target.connection", MAX_COUNT),
    ]
}

#[tokio::test]
async fn regression_a_flap_of_u64_max_is_refused_and_the_listener_lives() {
    let (s, echo) = server().await;
    let flap = json!({"type": "reject", "schedule": {"flap": {"on_ms": u64::MAX, "off_ms": u64::MAX}}});
    let (st, err) = post(&s, &flap).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(
        err,
        "schedule.flap.on_ms: 18446744073709551615 is out of range: at most 86400000 (24 h in milliseconds)"
    );
    // The listener still serves (on today's main its task died on the overflow).
    let p = s.get("a").expect("proxy");
    let mut c = connect(addr(&p)).await;
    c.write_all(b"alive").await.expect("write");
    assert_eq!(read_n(&mut c, 5).await, b"alive");
    drop(echo);
    s.shutdown().await;
}

#[tokio::test]
async fn regression_a_latency_and_a_limit_data_of_u64_max_are_refused() {
    let (s, _echo) = server().await;
    for (toxic, field) in [
        (json!({"type": "latency", "attributes": {"latency": u64::MAX}}), "attributes.latency"),
        (json!({"type": "limit_data", "attributes": {"bytes": u64::MAX}}), "attributes.bytes"),
        // Two of these would have overflowed their sum.
        (json!({"type": "latency", "name": "l2", "attributes": {"latency": 1u64 << 63}}), "attributes.latency"),
    ] {
        let (st, err) = post(&s, &toxic).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{toxic}: {err}");
        assert!(err.starts_with(&format!("{field}: ")) && err.contains("out of range: at most"), "{err}");
    }
    s.shutdown().await;
}

#[tokio::test]
async fn regression_every_bound_is_inclusive_and_one_past_it_is_refused_naming_the_field() {
    let (s, _echo) = server().await;
    for (toxic, path, max) in bounded_fields() {
        let (st, err) = post(&s, &with(&toxic, path, json!(max))).await;
        assert_eq!(st, StatusCode::OK, "{path} = {max} is allowed: {err}");
        let (st, err) = post(&s, &with(&toxic, path, json!(max + 1))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{path} = {}", max + 1);
        assert_eq!(err, format!("{path}: {} is out of range: at most {max} ({})", max + 1, what(max)));
    }
    s.shutdown().await;
}

fn what(max: u64) -> &'static str {
    match max {
        MAX_MS => "24 h in milliseconds",
        MAX_US => "24 h in microseconds",
        _ => "i64::MAX, as Toxiproxy's int64 fields",
    }
}

#[tokio::test]
async fn regression_negative_numbers_are_refused_naming_the_field() {
    let (s, _echo) = server().await;
    for (toxic, path, _) in bounded_fields() {
        let (st, err) = post(&s, &with(&toxic, path, json!(-1))).await;
        assert_eq!((st, err), (StatusCode::BAD_REQUEST, format!("{path}: -1 is negative: it must be 0 or more")));
    }
    let (st, err) = post(&s, &json!({"type": "reject", "target": {"client_ports": [-1, 5]}})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(err.starts_with("target.client_ports[0]: "), "{err}");
    s.shutdown().await;
}

#[tokio::test]
async fn regression_a_misspelt_attribute_is_refused_naming_it() {
    let (s, _echo) = server().await;
    let (st, err) = post(&s, &json!({"type": "latency", "attributes": {"latancy": 100}})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(err, "attributes.latancy: unknown key (a latency toxic takes latency, jitter)");
    // The same through a partial update.
    let body = json!({"type": "latency", "attributes": {"latency": 100}}).to_string();
    assert_eq!(call(&s, Method::POST, "/proxies/a/toxics", Some(&body)).await.0, StatusCode::OK);
    let (st, v) =
        call(&s, Method::PATCH, "/proxies/a/toxics/latency_downstream", Some(r#"{"attributes":{"jiter":5}}"#)).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(v["error"].as_str().expect("error").starts_with("attributes.jiter: unknown key"), "{v}");
    let (_, v) = call(&s, Method::GET, "/proxies/a/toxics/latency_downstream", None).await;
    assert_eq!(v["attributes"], json!({"latency": 100, "jitter": 0}), "a refused update changes nothing");
    // Extra keys outside `attributes` stay ignored, as Toxiproxy ignores them.
    let (st, err) = post(&s, &json!({"type": "noop", "name": "n", "some_client_field": true})).await;
    assert_eq!(st, StatusCode::OK, "{err}");
    s.shutdown().await;
}

#[tokio::test]
async fn regression_a_bad_target_cidr_is_never_dropped_silently() {
    let (s, _echo) = server().await;
    let (st, err) = post(&s, &json!({"type": "reject", "target": {"client": "127.0.0.1/40"}})).await;
    assert_eq!(
        (st, err.as_str()),
        (StatusCode::BAD_REQUEST, "target.client: \"127.0.0.1/40\" is not an address or CIDR block")
    );
    s.shutdown().await;
    // The library: a toxic built in code with a bad client used to be
    // installed with its target dropped, so it hit every connection.
    let (server, proxy, _echo) = proxied(Options::default()).await;
    let mut t = Toxic::from_json(&json!({"type": "reject"})).expect("toxic");
    t.target.client = Some("not-an-address".into());
    match proxy.add_fault(t).await {
        Err(ProxyError::Invalid(e)) => assert_eq!(e.field(), "target.client"),
        other => panic!("installed: {other:?}"),
    }
    assert!(proxy.faults().is_empty());
    let mut c = connect(addr(&proxy)).await;
    c.write_all(b"open").await.expect("write");
    assert_eq!(read_n(&mut c, 4).await, b"open");
    server.shutdown().await;
}

#[tokio::test]
async fn regression_the_library_refuses_what_the_api_refuses() {
    let (server, proxy, _echo) = proxied(Options::default()).await;
    let t = Toxic::from_json(&json!({"type": "latency"})).expect("toxic");
    let huge = Toxic { kind: fault_proxy::Kind::Latency { latency: u64::MAX, jitter: 0 }, ..t };
    match proxy.add_fault(huge).await {
        Err(ProxyError::Invalid(FieldError::TooLarge { field, max, .. })) => {
            assert_eq!((field.as_str(), max), ("attributes.latency", MAX_MS))
        }
        other => panic!("{other:?}"),
    }
    // Deserializing a toxic runs the same checks (what scenario files rely on).
    let e = serde_json::from_value::<Toxic>(json!({"type": "slicer", "attributes": {"delay": MAX_US + 1}}))
        .expect_err("out of range");
    assert!(e.to_string().starts_with("attributes.delay: "), "{e}");
    server.shutdown().await;
}

mod junk {
    //! Any JSON as a toxic body: an answer, never a panic; what is accepted
    //! validates and round-trips; a bounded field takes exactly its range.

    use fault_proxy::bounds::{attributes, Bound};
    use fault_proxy::toxic::TYPES;
    use fault_proxy::Toxic;
    use proptest::prelude::*;
    use proptest::test_runner::FileFailurePersistence;
    use serde_json::{json, Map, Value};

    fn config() -> ProptestConfig {
        ProptestConfig {
            cases: 512,
            failure_persistence: Some(Box::new(FileFailurePersistence::SourceParallel("proptest-regressions"))),
            ..ProptestConfig::default()
        }
    }

    const KEYS: &[&str] = &[
        "type",
        "name",
        "stream",
        "toxicity",
        "attributes",
        "schedule",
        "target",
        "latency",
        "jitter",
        "rate",
        "delay",
        "timeout",
        "average_size",
        "size_variation",
        "bytes",
        "reset_existing",
        "new_connections",
        "start_after_ms",
        "duration_ms",
        "flap",
        "on_ms",
        "off_ms",
        "count",
        "client",
        "client_ports",
        "connection",
        "latancy",
    ];

    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (0u64..100_000).prop_map(Value::from),
            any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            prop::sample::select(TYPES).prop_map(Value::from),
            prop::sample::select(&["upstream", "downstream", "both", "127.0.0.1", "::1/200", "x"][..])
                .prop_map(Value::from),
            "[a-z0-9_./:]{0,12}".prop_map(Value::from),
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        leaf().prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((prop::sample::select(KEYS), inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
            ]
        })
    }

    /// A toxic-shaped object: a known type and some of the known keys.
    fn toxic_like() -> impl Strategy<Value = Value> {
        (prop::sample::select(TYPES), prop::collection::vec((prop::sample::select(KEYS), value()), 0..5)).prop_map(
            |(t, kv)| {
                let mut m: Map<String, Value> = kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
                m.insert("type".into(), t.into());
                Value::Object(m)
            },
        )
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn junk_bodies_get_an_answer_and_accepted_ones_round_trip(v in prop_oneof![value(), toxic_like()]) {
            if let Ok(t) = Toxic::from_json(&v) {
                prop_assert_eq!(t.validate(), Ok(()));
                let again = Toxic::from_json(&t.to_json());
                prop_assert_eq!(again.ok(), Some(t));
            }
        }

        #[test]
        fn a_bounded_attribute_takes_exactly_its_range(
            (t, name, bound) in prop::sample::select(TYPES).prop_flat_map(|t| {
                let numeric: Vec<(&'static str, Bound)> = attributes(t)
                    .unwrap_or_default()
                    .iter()
                    .copied()
                    .filter(|(_, b)| b.max().is_some())
                    .collect();
                (Just(t), prop::sample::select(if numeric.is_empty() { vec![("", Bound::Flag)] } else { numeric }))
                    .prop_map(|(t, (n, b))| (t, n, b))
            }),
            n in prop_oneof![any::<i64>().prop_map(i128::from), any::<u64>().prop_map(i128::from)],
        ) {
            prop_assume!(!name.is_empty());
            let max = i128::from(bound.max().unwrap_or(0));
            let v = if n < 0 { json!(n as i64) } else { json!(n as u64) };
            let r = Toxic::from_json(&json!({"type": t, "attributes": {name: v}}));
            if (0..=max).contains(&n) {
                prop_assert!(r.is_ok(), "{t}.{name} = {n}: {r:?}");
            } else {
                let e = r.expect_err("out of range").to_string();
                prop_assert!(e.starts_with(&format!("attributes.{name}: {n} ")), "{e}");
            }
        }
    }
}

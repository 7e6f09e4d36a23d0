//! Writes the seed corpora: frames encoded by the harness's own encoders
//! (a handful per family, one file each, plus a whole stream), the bundled
//! scenario files, the fixtures' logs, LDIF and event logs, and the API
//! bodies of docs/fault-proxy.md's kind. `cargo +nightly run --example seeds`
//! (then `cargo fuzz run TARGET` starts from them; the grown corpus is
//! committed as it is).

use std::path::Path;

use bytes::BytesMut;
use harness::ds389::wire as w389;
use harness::exchange::wire as wx;
use harness::wire::{self as wds, ReplMsg, ServerStart, StartHeader, Update};

fn put(target: &str, name: &str, bytes: &[u8]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus").join(target);
    std::fs::create_dir_all(&dir).expect("corpus dir");
    std::fs::write(dir.join(name), bytes).expect("seed");
}

/// One seed per message (after `seeds.0`, the byte that picks the cuts) and
/// one of them all as a stream (after `seeds.1`).
fn frames<M>(target: &str, seeds: (u8, u8), msgs: &[M], encode: impl Fn(&M, &mut BytesMut)) {
    let mut stream = vec![seeds.1];
    for (i, m) in msgs.iter().enumerate() {
        let mut b = BytesMut::new();
        encode(m, &mut b);
        stream.extend_from_slice(&b);
        let mut one = vec![seeds.0];
        one.extend_from_slice(&b);
        put(target, &format!("msg-{i}"), &one);
    }
    put(target, "stream", &stream);
}

fn copy_matching(target: &str, from: &str, file_name: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(from);
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n == file_name || n.ends_with(file_name)) {
                let bytes = std::fs::read(&p).expect("read seed");
                let name = p.strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(from)).expect("under");
                put(target, &name.to_string_lossy().replace('/', "_"), &bytes);
            }
        }
    }
}

fn main() {
    let start = ServerStart {
        header: StartHeader { protocol_version: 8, generation_id: 1234, group_id: 1 },
        base_dn: "dc=example,dc=com".into(),
        server_id: "1".into(),
        server_url: "ds-1.example.com:8989".into(),
        max_receive_delay: 0,
        max_receive_queue: 0,
        max_send_delay: 0,
        max_send_queue: 0,
        window_size: 100,
        heartbeat_interval_ms: 10_000,
        ssl_encryption: false,
        server_state: vec!["0000018b0a1b2c3d00010000000a".into()],
    };
    let ds = [
        ReplMsg::ServerStart(start),
        ReplMsg::Heartbeat,
        ReplMsg::Stop,
        ReplMsg::Window { num_ack: 100 },
        ReplMsg::CtHeartbeat { csn: "0000018b0a1b2c3d00010000000a".into() },
        ReplMsg::Update(Update {
            csn: "0000018b0a1b2c3d00010000000a".into(),
            dn: "uid=u1,ou=people,dc=example,dc=com".into(),
            entry_uuid: "6f1d5a3c-0000-0000-0000-000000000001".into(),
            changes: "replace: description\ndescription: x\n".into(),
        }),
    ];
    frames("frame_ds", (7, 13), &ds, |m, b| wds::encode_frame(m, b, wds::DEFAULT_MAX_FRAME_LEN).expect("encode"));

    let l = [
        w389::Msg::Bind {
            id: 1,
            dn: "cn=replication manager,cn=config".into(),
            mechanism: "SIMPLE".into(),
            credentials: "secret".into(),
        },
        w389::Msg::BindResult { id: 1, rc: 49, matched: String::new(), diagnostic: "Invalid credentials".into() },
        w389::Msg::Extended { id: 2, oid: "2.16.840.1.113730.3.5.12".into(), value: b"\x30\x03\x04\x01x".to_vec() },
        w389::Msg::ExtendedResult {
            id: 2,
            rc: 0,
            oid: "2.16.840.1.113730.3.5.4".into(),
            value: vec![0x30, 0x03, 0x0a, 0x01, 0x00],
        },
        w389::Msg::Update {
            id: 3,
            kind: w389::UpdateKind::Modify,
            dn: "uid=u1,ou=people,dc=example,dc=com".into(),
            uniqueid: "a1b2c3d4-11d1-11ef-8000-000000000001".into(),
            csn: "674a3b2c000000010000".into(),
            changes: "replace: description\n".into(),
        },
        w389::Msg::UpdateResult { id: 3, rc: 0, diagnostic: String::new(), abort_session: true },
        w389::Msg::Unbind { id: 4 },
    ];
    frames("frame_389", (5, 11), &l, |m, b| w389::encode_frame(m, b, w389::DEFAULT_MAX_FRAME_LEN).expect("encode"));

    let x = [
        wx::Message::Request(wx::Request {
            from: "BH-PARIS".into(),
            to: "BH-LONDON".into(),
            nc: "o=Org/ou=London".into(),
            from_usn: 4711,
        }),
        wx::Message::Reply(wx::Reply {
            from: "BH-LONDON".into(),
            to: "BH-PARIS".into(),
            nc: "o=Org/ou=London".into(),
            up_to_usn: 5223,
            more: true,
            objects: (0..3).map(|i| wx::Object { usn: 4712 + i, dn: format!("cn=user{i},ou=London,o=Org") }).collect(),
        }),
    ];
    frames("frame_exchange", (3, 9), &x, |m, b| wx::encode_frame(m, b, wx::DEFAULT_MAX_FRAME_LEN).expect("encode"));

    for (i, body) in [
        r#"{"name":"db","listen":"127.0.0.1:0","upstream":"127.0.0.1:8989","enabled":true}"#,
        r#"{"name":"db","upstream":"127.0.0.1:8989","buffer_bytes":65536,"toxics":[{"type":"latency","attributes":{"latency":100,"jitter":10}}]}"#,
        r#"{"name":"lat","type":"latency","stream":"downstream","toxicity":1.0,"attributes":{"latency":1000,"jitter":50}}"#,
        r#"{"name":"bw","type":"bandwidth","stream":"upstream","toxicity":0.5,"attributes":{"rate":100}}"#,
        r#"{"name":"t","type":"timeout","attributes":{"timeout":700}}"#,
        r#"{"name":"rp","type":"reset_peer","attributes":{"timeout":0}}"#,
        r#"{"name":"sl","type":"slicer","attributes":{"average_size":64,"size_variation":32,"delay":10}}"#,
        r#"{"name":"ld","type":"limit_data","attributes":{"bytes":4096}}"#,
        r#"{"name":"sc","type":"slow_close","attributes":{"delay":500}}"#,
        r#"{"name":"dr","type":"drop","schedule":{"on_ms":500,"off_ms":1500},"attributes":{}}"#,
        r#"{"name":"rj","type":"reject","target":{"source":"127.0.0.2/32"},"attributes":{}}"#,
        r#"{"attributes":{"latency":18446744073709551615}}"#,
        r#"[{"name":"a","listen":"127.0.0.1:0","upstream":"127.0.0.1:1"}]"#,
        r#"{"enabled":false,"upstream":"127.0.0.1:2","buffer_bytes":1024}"#,
    ]
    .iter()
    .enumerate()
    {
        put("api_body", &format!("body-{i}.json"), body.as_bytes());
    }

    copy_matching("scenario_toml", "scenarios/library", ".toml");
    copy_matching("scenario_toml", "scenarios/library-netns", ".toml");
    copy_matching("ds_log", "diagnosis/tests/fixtures/ds", "errors");
    copy_matching("ds_log", "diagnosis/tests/fixtures/ds", "replication");
    copy_matching("ldif", "diagnosis/tests/fixtures/389", ".ldif");
    copy_matching("ldif", "diagnosis/tests/fixtures/389-real", ".ldif");
    copy_matching("ldif", "diagnosis/tests/fixtures/389", "errors");
    copy_matching("event_lines", "diagnosis/tests/fixtures/exchange", "events.log");
}

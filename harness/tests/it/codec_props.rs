//! proptest: round trip of every message, any split of the byte stream, and junk.

use bytes::BytesMut;
use harness::codec::ReplCodec;
use harness::wire::{self, *};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use tokio_util::codec::Decoder;

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9=,.:/ -]{0,24}"
}

fn header() -> impl Strategy<Value = StartHeader> {
    (any::<u8>(), any::<i64>(), any::<u8>()).prop_map(|(protocol_version, generation_id, group_id)| StartHeader {
        protocol_version,
        generation_id,
        group_id,
    })
}

/// Any message the protocol has, with arbitrary field values.
pub fn msg() -> impl Strategy<Value = ReplMsg> {
    let server_start = (
        header(),
        (text(), text(), text()),
        (any::<u64>(), any::<u64>(), any::<u64>(), any::<u64>(), any::<u64>(), any::<u64>()),
        any::<bool>(),
        prop::collection::vec(text(), 0..4),
    )
        .prop_map(|(header, (base_dn, server_id, server_url), n, ssl_encryption, server_state)| {
            ReplMsg::ServerStart(ServerStart {
                header,
                base_dn,
                server_id,
                server_url,
                max_receive_delay: n.0,
                max_receive_queue: n.1,
                max_send_delay: n.2,
                max_send_queue: n.3,
                window_size: n.4,
                heartbeat_interval_ms: n.5,
                ssl_encryption,
                server_state,
            })
        });
    let rs_start = (
        header(),
        text(),
        text(),
        text(),
        any::<u64>(),
        any::<bool>(),
        any::<u64>(),
        prop::collection::vec(text(), 0..4),
    )
        .prop_map(
            |(
                header,
                base_dn,
                server_id,
                server_url,
                window_size,
                ssl_encryption,
                degraded_status_threshold,
                server_state,
            )| {
                ReplMsg::ReplServerStart(ReplServerStart {
                    header,
                    base_dn,
                    server_id,
                    server_url,
                    window_size,
                    ssl_encryption,
                    degraded_status_threshold,
                    server_state,
                })
            },
        );
    let rs_start_ds = (
        header(),
        (text(), text(), text()),
        (any::<u64>(), any::<bool>(), any::<u64>(), any::<u64>(), any::<u64>()),
        prop::collection::vec(text(), 0..4),
    )
        .prop_map(|(header, (base_dn, server_id, server_url), n, server_state)| {
            ReplMsg::ReplServerStartDs(ReplServerStartDs {
                header,
                base_dn,
                server_id,
                server_url,
                window_size: n.0,
                ssl_encryption: n.1,
                degraded_status_threshold: n.2,
                weight: n.3,
                connected_ds_number: n.4,
                server_state,
            })
        });
    let start_session = (any::<[u8; 4]>(), prop::collection::vec(text(), 0..3)).prop_map(|(b, referral_urls)| {
        ReplMsg::StartSession(StartSession {
            status: b[0],
            assured_flag: b[1],
            assured_mode: b[2],
            safe_data_level: b[3],
            referral_urls,
        })
    });
    let ds_info = (text(), text(), any::<i64>(), any::<u8>())
        .prop_map(|(ds_id, rs_id, generation_id, status)| DsInfo { ds_id, rs_id, generation_id, status });
    let rs_info = (text(), any::<i64>(), text()).prop_map(|(rs_id, generation_id, server_url)| RsInfo {
        rs_id,
        generation_id,
        server_url,
    });
    let topology = (prop::collection::vec(ds_info, 0..4), prop::collection::vec(rs_info, 0..4))
        .prop_map(|(ds, rs)| ReplMsg::Topology(Topology { ds, rs }));
    let update = (text(), text(), text(), text())
        .prop_map(|(csn, dn, entry_uuid, changes)| ReplMsg::Update(Update { csn, dn, entry_uuid, changes }));
    prop_oneof![
        server_start,
        rs_start,
        rs_start_ds,
        start_session,
        topology,
        Just(ReplMsg::Heartbeat),
        Just(ReplMsg::Stop),
        text().prop_map(|csn| ReplMsg::CtHeartbeat { csn }),
        any::<u64>().prop_map(|num_ack| ReplMsg::Window { num_ack }),
        update,
    ]
}

fn encode_all(msgs: &[ReplMsg]) -> BytesMut {
    let mut buf = BytesMut::new();
    for m in msgs {
        wire::encode_frame(m, &mut buf, wire::DEFAULT_MAX_FRAME_LEN).expect("encode");
    }
    buf
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::SourceParallel("proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_message_round_trips(m in msg()) {
        let buf = encode_all(std::slice::from_ref(&m));
        let (back, used) = wire::decode_frame(&buf, wire::DEFAULT_MAX_FRAME_LEN).expect("decode").expect("whole frame");
        prop_assert_eq!(used, buf.len());
        prop_assert_eq!(back, m);
    }

    #[test]
    fn any_split_of_the_stream_gives_the_same_frames(
        msgs in prop::collection::vec(msg(), 1..8),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let all = encode_all(&msgs);
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(all.len() + 1)).collect();
        points.push(0);
        points.push(all.len());
        points.sort_unstable();
        let mut codec = ReplCodec::default();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for w in points.windows(2) {
            buf.extend_from_slice(&all[w[0]..w[1]]);
            while let Some(m) = codec.decode(&mut buf).expect("valid stream") {
                got.push(m);
            }
        }
        prop_assert!(buf.is_empty());
        prop_assert_eq!(got, msgs);
    }

    #[test]
    fn junk_never_panics_nor_allocates_past_the_maximum(
        junk in prop::collection::vec(any::<u8>(), 0..2048),
        hex_prefix in any::<bool>(),
        len in 0usize..0x10000,
    ) {
        const MAX: usize = 256;
        let mut codec = ReplCodec::new(MAX);
        let mut buf = BytesMut::new();
        if hex_prefix {
            // Junk behind a well-formed length makes the decoder reach the payload.
            buf.extend_from_slice(format!("{len:08x}").as_bytes());
        }
        buf.extend_from_slice(&junk);
        let start_cap = buf.capacity();
        while let Ok(Some(_)) = codec.decode(&mut buf) {}
        // The decoder asks for at most the rest of one maximal frame; the
        // buffer's `Vec` may round that up to twice its current capacity
        // (amortized growth), never to what a junk length announces.
        let bound = start_cap.max(2 * (wire::HEADER_LEN + MAX));
        prop_assert!(buf.capacity() <= bound,
            "capacity {} grew past one maximal frame (bound {bound})", buf.capacity());
    }
}

#[test]
fn a_huge_announced_frame_is_refused_with_nothing_reserved() {
    let mut codec = ReplCodec::new(1024);
    let mut buf = BytesMut::from(&b"7fffffff"[..]);
    let cap = buf.capacity();
    let err = codec.decode(&mut buf).expect_err("too large");
    assert_eq!(err.to_string(), "frame of 2147483647 bytes exceeds the maximum of 1024");
    assert_eq!(buf.capacity(), cap);
}

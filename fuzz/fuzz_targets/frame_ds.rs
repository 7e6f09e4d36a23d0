//! The DS/OpenDJ replication frame decoder (8 hex digits of length, then the
//! message), fed in pieces: no panic, nothing reserved past one frame, and
//! every message it yields encodes and decodes back to itself.
#![no_main]

use bytes::BytesMut;
use harness::codec::ReplCodec;
use harness::wire;
use libfuzzer_sys::fuzz_target;

const MAX: usize = 4096;

fuzz_target!(|data: &[u8]| {
    let _ = wire::decode_frame(data, MAX);
    let _ = wire::decode_payload(data);
    replharness_fuzz::round_trips(&mut ReplCodec::new(MAX), data, MAX, |m| {
        let mut buf = BytesMut::new();
        wire::encode_frame(m, &mut buf, usize::MAX).expect("a decoded message encodes");
        let (back, used) = wire::decode_frame(&buf, usize::MAX).expect("re-decodes").expect("whole");
        assert_eq!(used, buf.len());
        back
    });
});

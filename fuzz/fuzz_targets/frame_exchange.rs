//! The Exchange 5.5 intersite message decoder (length prefix, then the
//! message), fed in pieces: no panic, nothing reserved past one frame, and
//! every message it yields encodes and decodes back to itself.
#![no_main]

use bytes::BytesMut;
use harness::exchange::codec::MessageCodec;
use harness::exchange::wire as wx;
use libfuzzer_sys::fuzz_target;
use tokio_util::codec::Decoder;

const MAX: usize = 4096;

fuzz_target!(|data: &[u8]| {
    let _ = wx::decode_payload(data);
    replharness_fuzz::round_trips(&mut MessageCodec::new(MAX), data, MAX, |m| {
        let mut codec = MessageCodec::new(usize::MAX);
        let mut buf = BytesMut::new();
        wx::encode_frame(m, &mut buf, usize::MAX).expect("a decoded message encodes");
        let back = codec.decode(&mut buf).expect("re-decodes").expect("whole");
        assert!(buf.is_empty(), "{} bytes left", buf.len());
        back
    });
});

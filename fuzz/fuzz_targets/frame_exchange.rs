//! The Exchange 5.5 intersite message decoder (length prefix, then the
//! message), fed in pieces: no panic, nothing reserved past one frame, and
//! every message it yields encodes and decodes back to itself.
#![no_main]

use bytes::BytesMut;
use harness::exchange::codec::MessageCodec;
use harness::exchange::wire;
use libfuzzer_sys::fuzz_target;
use tokio_util::codec::Decoder;

const MAX: usize = 4096;

fuzz_target!(|data: &[u8]| {
    let _ = wire::decode_payload(data);
    for m in replharness_fuzz::decode_all(&mut MessageCodec::new(MAX), data, MAX) {
        let mut buf = BytesMut::new();
        wire::encode_frame(&m, &mut buf, usize::MAX).expect("a decoded message encodes");
        let len = buf.len();
        let back = MessageCodec::new(usize::MAX).decode(&mut buf).expect("re-decodes").expect("whole");
        assert!(buf.is_empty(), "{len} bytes, {} left", buf.len());
        assert_eq!(back, m);
    }
});

//! The 389 replication LDAP frame decoder (BER: a SEQUENCE with its length,
//! the message id and the protocol op), fed in pieces: no panic, nothing
//! reserved past one frame, and every message it yields encodes and decodes
//! back to itself.
#![no_main]

use bytes::BytesMut;
use harness::ds389::codec::LdapCodec;
use harness::ds389::wire;
use libfuzzer_sys::fuzz_target;

const MAX: usize = 4096;

fuzz_target!(|data: &[u8]| {
    let _ = wire::decode_frame(data, MAX);
    let _ = wire::decode_body(data);
    for m in replharness_fuzz::decode_all(&mut LdapCodec::new(MAX), data, MAX) {
        let mut buf = BytesMut::new();
        wire::encode_frame(&m, &mut buf, usize::MAX).expect("a decoded message encodes");
        let (back, used) = wire::decode_frame(&buf, usize::MAX).expect("re-decodes").expect("whole");
        assert_eq!(used, buf.len());
        assert_eq!(back, m);
    }
});

//! The 389 replication LDAP frame decoder (BER: a SEQUENCE with its length,
//! the message id and the protocol op), fed in pieces: no panic, nothing
//! reserved past one frame, and every message it yields encodes and decodes
//! back to itself.
#![no_main]

use bytes::BytesMut;
use harness::ds389::codec::LdapCodec;
use harness::ds389::wire as w389;
use libfuzzer_sys::fuzz_target;
use tokio_util::codec::Decoder;

const MAX: usize = 4096;

fuzz_target!(|data: &[u8]| {
    let _ = w389::decode_frame(data, MAX);
    let _ = w389::decode_body(data);
    replharness_fuzz::round_trips(&mut LdapCodec::new(MAX), data, MAX, |m| {
        let mut buf = BytesMut::new();
        w389::encode_frame(m, &mut buf, usize::MAX).expect("a decoded message encodes");
        let back = LdapCodec::new(usize::MAX).decode(&mut buf).expect("re-decodes").expect("whole");
        assert!(buf.is_empty(), "{} bytes left", buf.len());
        back
    });
});

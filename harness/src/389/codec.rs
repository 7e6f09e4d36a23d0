//! `tokio_util` codec around the pure frame functions of [`super::wire`]:
//! the length is checked against the maximum before room is reserved for a
//! frame, so a peer announcing a huge one is refused before any allocation.

use bytes::{Buf, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::wire::{self, Msg, HEADER_LEN};
use crate::error::WireError;

/// Frames [`Msg`]s over any byte stream (TCP, `tokio::io::duplex`).
#[derive(Debug, Clone, Copy)]
pub struct LdapCodec {
    max_frame_len: usize,
}

impl LdapCodec {
    pub fn new(max_frame_len: usize) -> Self {
        Self { max_frame_len }
    }
}

impl Default for LdapCodec {
    fn default() -> Self {
        Self::new(wire::DEFAULT_MAX_FRAME_LEN)
    }
}

impl Decoder for LdapCodec {
    type Item = Msg;
    type Error = WireError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Msg>, WireError> {
        if src.len() < HEADER_LEN {
            return Ok(None);
        }
        let len = wire::parse_length(&src[..HEADER_LEN]);
        if len > self.max_frame_len {
            return Err(WireError::FrameTooLarge { len, max: self.max_frame_len });
        }
        let whole = HEADER_LEN + len;
        if src.len() < whole {
            src.reserve(whole - src.len());
            return Ok(None);
        }
        let msg = wire::decode_body(&src[HEADER_LEN..whole]);
        src.advance(whole);
        msg.map(Some)
    }
}

impl Encoder<Msg> for LdapCodec {
    type Error = WireError;

    fn encode(&mut self, msg: Msg, dst: &mut BytesMut) -> Result<(), WireError> {
        wire::encode_frame(&msg, dst, self.max_frame_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn msgs() -> Vec<Msg> {
        vec![
            Msg::Bind {
                id: 1,
                dn: "cn=replication manager,cn=config".into(),
                mechanism: "SIMPLE".into(),
                credentials: "secret".into(),
            },
            Msg::Extended { id: 2, oid: super::super::extop::START_REQUEST.into(), value: vec![1, 2, 3, 4] },
            Msg::UpdateResult { id: 3, rc: 51, diagnostic: "busy".into(), abort_session: false },
            Msg::Unbind { id: 4 },
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Any split of the byte stream decodes to the same messages.
        #[test]
        fn any_split_decodes_the_same(cuts in proptest::collection::vec(0usize..200, 0..6)) {
            let mut bytes = BytesMut::new();
            let mut codec = LdapCodec::default();
            for m in msgs() {
                codec.encode(m, &mut bytes).expect("encode");
            }
            let all = bytes.to_vec();
            let mut points: Vec<usize> = cuts.into_iter().map(|c| c % (all.len() + 1)).collect();
            points.sort_unstable();
            let mut buf = BytesMut::new();
            let mut got = Vec::new();
            let mut last = 0;
            for p in points.into_iter().chain([all.len()]) {
                buf.extend_from_slice(&all[last..p]);
                last = p;
                while let Some(m) = codec.decode(&mut buf).expect("decodes") {
                    got.push(m);
                }
            }
            prop_assert_eq!(got, msgs());
        }

        /// Junk never panics: it is a message, an error, or "need more".
        #[test]
        fn junk_never_panics(junk in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut codec = LdapCodec::new(256);
            let mut buf = BytesMut::from(&junk[..]);
            for _ in 0..64 {
                match codec.decode(&mut buf) {
                    Ok(Some(_)) => continue,
                    Ok(None) | Err(_) => break,
                }
            }
        }
    }
}

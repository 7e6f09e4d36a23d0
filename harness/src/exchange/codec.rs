//! `tokio_util` codec around the pure frame functions of [`super::wire`].
//!
//! The decoder checks whether a whole frame is buffered before parsing, and
//! refuses a frame longer than its maximum before anything is allocated.

use bytes::{Buf, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::wire::{self, Message, HEADER_LEN};
use crate::error::WireError;

/// Frames [`Message`]s over any byte stream (TCP, `tokio::io::duplex`).
#[derive(Debug, Clone, Copy)]
pub struct MessageCodec {
    max_frame_len: usize,
}

impl MessageCodec {
    pub fn new(max_frame_len: usize) -> Self {
        Self { max_frame_len }
    }
}

impl Default for MessageCodec {
    fn default() -> Self {
        Self::new(wire::DEFAULT_MAX_FRAME_LEN)
    }
}

impl Decoder for MessageCodec {
    type Item = Message;
    type Error = WireError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Message>, WireError> {
        let Some(len) = wire::parse_length(src) else { return Ok(None) };
        if len > self.max_frame_len {
            return Err(WireError::FrameTooLarge { len, max: self.max_frame_len });
        }
        let whole = HEADER_LEN + len;
        if src.len() < whole {
            src.reserve(whole - src.len());
            return Ok(None);
        }
        let msg = wire::decode_payload(&src[HEADER_LEN..whole]);
        src.advance(whole);
        msg.map(Some)
    }
}

impl Encoder<&Message> for MessageCodec {
    type Error = WireError;

    fn encode(&mut self, msg: &Message, dst: &mut BytesMut) -> Result<(), WireError> {
        wire::encode_frame(msg, dst, self.max_frame_len)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::exchange::wire::{Object, Reply, Request};

    fn arb_text() -> impl Strategy<Value = String> {
        "[A-Za-z0-9=/ -]{0,40}"
    }

    fn arb_message() -> impl Strategy<Value = Message> {
        let request = (arb_text(), arb_text(), arb_text(), any::<u64>())
            .prop_map(|(from, to, nc, from_usn)| Message::Request(Request { from, to, nc, from_usn }));
        let reply = (
            arb_text(),
            arb_text(),
            arb_text(),
            any::<u64>(),
            any::<bool>(),
            proptest::collection::vec((any::<u64>(), arb_text()), 0..20),
        )
            .prop_map(|(from, to, nc, up_to_usn, more, objs)| {
                let objects = objs.into_iter().map(|(usn, dn)| Object { usn, dn }).collect();
                Message::Reply(Reply { from, to, nc, up_to_usn, more, objects })
            });
        prop_oneof![request, reply]
    }

    fn decode_all(codec: &mut MessageCodec, chunks: &[&[u8]]) -> Result<Vec<Message>, WireError> {
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for c in chunks {
            buf.extend_from_slice(c);
            while let Some(m) = codec.decode(&mut buf)? {
                out.push(m);
            }
        }
        Ok(out)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn any_split_of_the_stream_decodes_the_same_messages(
            msgs in proptest::collection::vec(arb_message(), 1..6),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
        ) {
            let mut codec = MessageCodec::default();
            let mut bytes = BytesMut::new();
            for m in &msgs {
                codec.encode(m, &mut bytes).expect("encodes");
            }
            let mut at: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
            at.sort_unstable();
            let mut chunks = Vec::new();
            let mut last = 0;
            for a in at {
                chunks.push(&bytes[last..a]);
                last = a;
            }
            chunks.push(&bytes[last..]);
            prop_assert_eq!(decode_all(&mut codec, &chunks).expect("decodes"), msgs);
        }

        #[test]
        fn junk_never_panics_and_never_allocates_past_the_maximum(junk in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut codec = MessageCodec::new(256);
            let mut buf = BytesMut::from(&junk[..]);
            for _ in 0..junk.len() + 1 {
                match codec.decode(&mut buf) {
                    Ok(Some(_)) => continue,
                    Ok(None) | Err(_) => break,
                }
            }
            prop_assert!(buf.capacity() <= junk.len().max(HEADER_LEN + 256) + 64);
        }
    }

    #[test]
    fn a_huge_announced_length_is_refused_before_allocating() {
        let mut codec = MessageCodec::new(1024);
        let mut buf = BytesMut::from(&[0xff, 0xff, 0xff, 0xff, 1][..]);
        assert!(matches!(codec.decode(&mut buf), Err(WireError::FrameTooLarge { len: 4_294_967_295, max: 1024 })));
        assert!(buf.capacity() < 64);
    }
}

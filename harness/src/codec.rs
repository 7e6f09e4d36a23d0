//! `tokio_util` codec around the pure frame functions of [`crate::wire`].
//!
//! The decoder never reserves room for more than one whole frame, and only
//! after the frame's length has been checked against the configured maximum:
//! a peer that announces a huge frame is refused before anything is allocated.

use bytes::{Buf, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::error::WireError;
use crate::wire::{self, ReplMsg, HEADER_LEN};

/// Frames [`ReplMsg`]s over any byte stream (TCP, TLS, `tokio::io::duplex`).
#[derive(Debug, Clone, Copy)]
pub struct ReplCodec {
    max_frame_len: usize,
}

impl ReplCodec {
    pub fn new(max_frame_len: usize) -> Self {
        Self { max_frame_len }
    }

    pub fn max_frame_len(&self) -> usize {
        self.max_frame_len
    }
}

impl Default for ReplCodec {
    fn default() -> Self {
        Self::new(wire::DEFAULT_MAX_FRAME_LEN)
    }
}

impl Decoder for ReplCodec {
    type Item = ReplMsg;
    type Error = WireError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<ReplMsg>, WireError> {
        if src.len() < HEADER_LEN {
            return Ok(None);
        }
        // Cheap check first: is a whole frame buffered?
        let len = wire::parse_length(&src[..HEADER_LEN])?;
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

impl Encoder<ReplMsg> for ReplCodec {
    type Error = WireError;

    fn encode(&mut self, msg: ReplMsg, dst: &mut BytesMut) -> Result<(), WireError> {
        wire::encode_frame(&msg, dst, self.max_frame_len)
    }
}

impl Encoder<&ReplMsg> for ReplCodec {
    type Error = WireError;

    fn encode(&mut self, msg: &ReplMsg, dst: &mut BytesMut) -> Result<(), WireError> {
        wire::encode_frame(msg, dst, self.max_frame_len)
    }
}

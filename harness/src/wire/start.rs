//! The start messages of a session's handshake: `ServerStartMsg` (DS→RS),
//! `ReplServerStartMsg` (RS↔RS), `ReplServerStartDSMsg` (RS→DS) and
//! `StartSessionMsg` (DS→RS), with the header the first three share; their
//! field order is in the [module doc](super).

use super::fields::{put_bool, put_list, put_num, put_text, Fields};
use crate::error::WireError;

/// The header every start message carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartHeader {
    pub protocol_version: u8,
    /// `-1` means "no generation id yet".
    pub generation_id: i64,
    pub group_id: u8,
}

/// DS → RS: the first message of a directory server's session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerStart {
    pub header: StartHeader,
    pub base_dn: String,
    pub server_id: String,
    pub server_url: String,
    pub max_receive_delay: u64,
    pub max_receive_queue: u64,
    pub max_send_delay: u64,
    pub max_send_queue: u64,
    pub window_size: u64,
    /// Product milliseconds; the RS sends heartbeats when idle for a third of it.
    pub heartbeat_interval_ms: u64,
    pub ssl_encryption: bool,
    pub server_state: Vec<String>,
}

/// RS ↔ RS: the start message of a replication-server session, sent by both sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplServerStart {
    pub header: StartHeader,
    pub base_dn: String,
    pub server_id: String,
    pub server_url: String,
    pub window_size: u64,
    pub ssl_encryption: bool,
    pub degraded_status_threshold: u64,
    pub server_state: Vec<String>,
}

/// RS → DS: the replication server's answer to a [`ServerStart`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplServerStartDs {
    pub header: StartHeader,
    pub base_dn: String,
    pub server_id: String,
    pub server_url: String,
    pub window_size: u64,
    pub ssl_encryption: bool,
    pub degraded_status_threshold: u64,
    pub weight: u64,
    pub connected_ds_number: u64,
    pub server_state: Vec<String>,
}

/// DS → RS: phase two of a DS session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartSession {
    pub status: u8,
    pub assured_flag: u8,
    pub assured_mode: u8,
    pub safe_data_level: u8,
    pub referral_urls: Vec<String>,
}

fn put_header(out: &mut Vec<u8>, h: &StartHeader) {
    out.push(h.protocol_version);
    put_num(out, h.generation_id);
    out.push(h.group_id);
}

fn header(f: &mut Fields<'_>) -> Result<StartHeader, WireError> {
    Ok(StartHeader {
        protocol_version: f.byte("protocol version")?,
        generation_id: f.num("generation id")?,
        group_id: f.byte("group id")?,
    })
}

pub(super) fn encode_server_start(out: &mut Vec<u8>, m: &ServerStart) {
    put_header(out, &m.header);
    put_text(out, &m.base_dn);
    put_text(out, &m.server_id);
    put_text(out, &m.server_url);
    put_num(out, m.max_receive_delay);
    put_num(out, m.max_receive_queue);
    put_num(out, m.max_send_delay);
    put_num(out, m.max_send_queue);
    put_num(out, m.window_size);
    put_num(out, m.heartbeat_interval_ms);
    put_bool(out, m.ssl_encryption);
    put_list(out, &m.server_state);
}

pub(super) fn encode_repl_server_start(out: &mut Vec<u8>, m: &ReplServerStart) {
    put_header(out, &m.header);
    put_text(out, &m.base_dn);
    put_text(out, &m.server_id);
    put_text(out, &m.server_url);
    put_num(out, m.window_size);
    put_bool(out, m.ssl_encryption);
    put_num(out, m.degraded_status_threshold);
    put_list(out, &m.server_state);
}

pub(super) fn encode_repl_server_start_ds(out: &mut Vec<u8>, m: &ReplServerStartDs) {
    put_header(out, &m.header);
    put_text(out, &m.base_dn);
    put_text(out, &m.server_id);
    put_text(out, &m.server_url);
    put_num(out, m.window_size);
    put_bool(out, m.ssl_encryption);
    put_num(out, m.degraded_status_threshold);
    put_num(out, m.weight);
    put_num(out, m.connected_ds_number);
    put_list(out, &m.server_state);
}

pub(super) fn encode_start_session(out: &mut Vec<u8>, m: &StartSession) {
    out.extend_from_slice(&[m.status, m.assured_flag, m.assured_mode, m.safe_data_level]);
    put_list(out, &m.referral_urls);
}

pub(super) fn decode_server_start(f: &mut Fields<'_>) -> Result<ServerStart, WireError> {
    Ok(ServerStart {
        header: header(f)?,
        base_dn: f.text("baseDN")?,
        server_id: f.text("serverId")?,
        server_url: f.text("serverURL")?,
        max_receive_delay: f.num("maxReceiveDelay")?,
        max_receive_queue: f.num("maxReceiveQueue")?,
        max_send_delay: f.num("maxSendDelay")?,
        max_send_queue: f.num("maxSendQueue")?,
        window_size: f.num("windowSize")?,
        heartbeat_interval_ms: f.num("heartbeatInterval")?,
        ssl_encryption: f.boolean("sslEncryption")?,
        server_state: f.rest_list("serverState")?,
    })
}

pub(super) fn decode_repl_server_start(f: &mut Fields<'_>) -> Result<ReplServerStart, WireError> {
    Ok(ReplServerStart {
        header: header(f)?,
        base_dn: f.text("baseDN")?,
        server_id: f.text("serverId")?,
        server_url: f.text("serverURL")?,
        window_size: f.num("windowSize")?,
        ssl_encryption: f.boolean("sslEncryption")?,
        degraded_status_threshold: f.num("degradedStatusThreshold")?,
        server_state: f.rest_list("serverState")?,
    })
}

pub(super) fn decode_repl_server_start_ds(f: &mut Fields<'_>) -> Result<ReplServerStartDs, WireError> {
    Ok(ReplServerStartDs {
        header: header(f)?,
        base_dn: f.text("baseDN")?,
        server_id: f.text("serverId")?,
        server_url: f.text("serverURL")?,
        window_size: f.num("windowSize")?,
        ssl_encryption: f.boolean("sslEncryption")?,
        degraded_status_threshold: f.num("degradedStatusThreshold")?,
        weight: f.num("weight")?,
        connected_ds_number: f.num("connectedDSNumber")?,
        server_state: f.rest_list("serverState")?,
    })
}

pub(super) fn decode_start_session(f: &mut Fields<'_>) -> Result<StartSession, WireError> {
    Ok(StartSession {
        status: f.byte("status")?,
        assured_flag: f.byte("assured flag")?,
        assured_mode: f.byte("assured mode")?,
        safe_data_level: f.byte("safe data level")?,
        referral_urls: f.rest_list("referral URL")?,
    })
}

//! The values of 389-DS's replication extended operations
//! (`repl_extop.c`, `repl5_protocol_util.c`), carried in the
//! [`super::wire`] frames' `bytes` field and decoded on their own, as the
//! real server decodes their BER: a value that does not decode is a
//! decoding error of the operation (the consumer answers
//! `NSDS50_REPL_DECODING_ERROR`; a supplier that cannot read the response
//! logs "Unable to parse the response to the startReplication extended
//! operation").
//!
//! ```text
//!  StartReplicationRequest value: protocol OID str, replica root str, CSN str, supplier RUV list
//!  ReplicationResponse value:     code int, RUV list (nsds50ruv values)
//!  EndReplicationRequest value:   replica root str
//!  ReplicationEntry value:        dn str, nsuniqueid str, CSN str, attributes str
//! ```

use super::wire::{put, Reader};
use crate::error::WireError;

/// `REPL_START_NSDS90_REPLICATION_REQUEST_OID`.
pub const START_REQUEST: &str = "2.16.840.1.113730.3.5.12";
/// `REPL_NSDS50_REPLICATION_RESPONSE_OID`.
pub const RESPONSE: &str = "2.16.840.1.113730.3.5.4";
/// `REPL_END_NSDS50_REPLICATION_REQUEST_OID`.
pub const END_REQUEST: &str = "2.16.840.1.113730.3.5.5";
/// `REPL_NSDS50_REPLICATION_ENTRY_REQUEST_OID` (total update).
pub const ENTRY_REQUEST: &str = "2.16.840.1.113730.3.5.6";
/// `REPL_NSDS50_INCREMENTAL_PROTOCOL_OID`.
pub const INCREMENTAL_PROTOCOL: &str = "2.16.840.1.113730.3.6.1";
/// `REPL_NSDS50_TOTAL_PROTOCOL_OID`.
pub const TOTAL_PROTOCOL: &str = "2.16.840.1.113730.3.6.2";

/// The replication protocol's response codes (`repl5.h`).
pub mod code {
    pub const READY: i32 = 0;
    pub const BUSY: i32 = 1;
    pub const EXCESSIVE_CLOCK_SKEW: i32 = 2;
    pub const PERMISSION_DENIED: i32 = 3;
    pub const DECODING_ERROR: i32 = 4;
    pub const UNKNOWN_UPDATE_PROTOCOL: i32 = 5;
    pub const NO_SUCH_REPLICA: i32 = 6;
    pub const BELOW_PURGEPOINT: i32 = 7;
    pub const INTERNAL_ERROR: i32 = 8;
    pub const RELEASE_SUCCEEDED: i32 = 9;
    pub const LEGACY_CONSUMER: i32 = 10;
    pub const REPLICAID_ERROR: i32 = 11;
    pub const DISABLED: i32 = 12;
    pub const UPTODATE: i32 = 13;
    pub const BACKOFF: i32 = 14;
    pub const CL_ERROR: i32 = 15;
    pub const CONN_ERROR: i32 = 16;
    pub const CONN_TIMEOUT: i32 = 17;
    pub const TRANSIENT_ERROR: i32 = 18;
    pub const RUV_ERROR: i32 = 19;
    pub const NO_RESPONSE: i32 = 255;
}

/// A start-replication request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartRequest {
    pub protocol: String,
    pub root: String,
    /// The supplier's current CSN.
    pub csn: String,
    /// The supplier's RUV (`nsds50ruv` values).
    pub ruv: Vec<String>,
}

/// A start- or end-replication response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub code: i32,
    /// The consumer's RUV (start of an incremental session only).
    pub ruv: Vec<String>,
}

/// One entry of a total update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRequest {
    pub dn: String,
    pub uniqueid: String,
    pub csn: String,
    pub attrs: String,
}

impl StartRequest {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put::str(&mut out, &self.protocol);
        put::str(&mut out, &self.root);
        put::str(&mut out, &self.csn);
        put::list(&mut out, &self.ruv);
        out
    }

    pub fn decode(value: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(value, "startReplicationRequest");
        let v = Self {
            protocol: r.str("protocol OID")?,
            root: r.str("replica root")?,
            csn: r.str("CSN")?,
            ruv: r.list("supplier RUV")?,
        };
        r.finish()?;
        Ok(v)
    }
}

impl Response {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put::int(&mut out, self.code);
        put::list(&mut out, &self.ruv);
        out
    }

    /// `decode_repl_ext_response`.
    pub fn decode(value: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(value, "replicationResponse");
        let v = Self { code: r.int("response code")?, ruv: r.list("RUV")? };
        r.finish()?;
        Ok(v)
    }
}

/// The end-replication request's value: the replica root.
pub fn encode_end(root: &str) -> Vec<u8> {
    let mut out = Vec::new();
    put::str(&mut out, root);
    out
}

pub fn decode_end(value: &[u8]) -> Result<String, WireError> {
    let mut r = Reader::new(value, "endReplicationRequest");
    let root = r.str("replica root")?;
    r.finish()?;
    Ok(root)
}

impl EntryRequest {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put::str(&mut out, &self.dn);
        put::str(&mut out, &self.uniqueid);
        put::str(&mut out, &self.csn);
        put::str(&mut out, &self.attrs);
        out
    }

    pub fn decode(value: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(value, "replicationEntryRequest");
        let v =
            Self { dn: r.str("dn")?, uniqueid: r.str("nsuniqueid")?, csn: r.str("CSN")?, attrs: r.str("attributes")? };
        r.finish()?;
        Ok(v)
    }
}

/// `protocol_response2string` of 2.3.1 (`transient warning`; before
/// 1.3.9.1 `transient error`, see [`response_name_for`]).
pub fn response_name(code: i32) -> &'static str {
    match code {
        code::READY => "replica acquired",
        code::BUSY => "replica busy",
        code::EXCESSIVE_CLOCK_SKEW => "excessive clock skew",
        code::PERMISSION_DENIED => "permission denied",
        code::DECODING_ERROR => "decoding error",
        code::UNKNOWN_UPDATE_PROTOCOL => "unknown update protocol",
        code::NO_SUCH_REPLICA => "no such replica",
        code::BELOW_PURGEPOINT => "csn below purge point",
        code::INTERNAL_ERROR => "internal error",
        code::RELEASE_SUCCEEDED => "replica released",
        code::REPLICAID_ERROR => "duplicate replica ID detected",
        code::UPTODATE => "no change to send",
        code::CL_ERROR => "changelog error",
        code::CONN_ERROR => "connection error",
        code::CONN_TIMEOUT => "connection timeout",
        code::TRANSIENT_ERROR => "transient warning",
        code::RUV_ERROR => "RUV error",
        code::NO_RESPONSE => "no response received",
        _ => "unknown error",
    }
}

/// The name a given version prints for `code`: `transient error` before
/// 1.3.9.1; up to 1.3.5.13 only the codes 0 to 13 had names.
pub fn response_name_for(code: i32, version: &super::version::Version389) -> &'static str {
    match code {
        code::LEGACY_CONSUMER if version.legacy_consumer_answer() || !version.error_shape() => {
            "replica is a legacy consumer"
        }
        code::TRANSIENT_ERROR if !version.transient_warning() && version.error_shape() => "transient error",
        c if !version.error_shape() && !(0..=13).contains(&c) => "unknown error",
        _ => response_name(code),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_junk_is_a_decoding_error() {
        let s = StartRequest {
            protocol: INCREMENTAL_PROTOCOL.into(),
            root: "dc=example,dc=com".into(),
            csn: "6b025b4c000000010000".into(),
            ruv: vec![],
        };
        assert_eq!(StartRequest::decode(&s.encode()).expect("decodes"), s);
        let r = Response { code: code::READY, ruv: vec!["{replicageneration} 6b025b4a000000010000".into()] };
        assert_eq!(Response::decode(&r.encode()).expect("decodes"), r);
        assert_eq!(decode_end(&encode_end("dc=x")).expect("decodes"), "dc=x");
        assert!(Response::decode(b"\x00\x00").is_err());
        assert!(StartRequest::decode(&[0xff; 3]).is_err());
        let mut long = r.encode();
        long.push(0);
        assert!(Response::decode(&long).is_err(), "trailing bytes");
    }

    #[test]
    fn names_are_the_servers() {
        assert_eq!(response_name(code::RUV_ERROR), "RUV error");
        assert_eq!(response_name(code::BACKOFF), "unknown error");
        assert_eq!(response_name(code::DISABLED), "unknown error");
        assert_eq!(response_name(-1), "unknown error");
        let old = super::super::version::Version389::parse("1.3.8.4").expect("v");
        assert_eq!(response_name_for(code::TRANSIENT_ERROR, &old), "transient error");
    }
}

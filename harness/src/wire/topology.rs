//! `TopologyMsg`: the directory and replication servers a server knows of.
//! Its counts come from the peer, so each is checked against what the
//! payload could hold before anything is allocated.

use super::fields::{put_num, put_text, Fields};
use crate::error::WireError;

/// One directory server as the topology message describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DsInfo {
    pub ds_id: String,
    pub rs_id: String,
    pub generation_id: i64,
    pub status: u8,
}

/// One replication server as the topology message describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsInfo {
    pub rs_id: String,
    pub generation_id: i64,
    pub server_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Topology {
    pub ds: Vec<DsInfo>,
    pub rs: Vec<RsInfo>,
}

pub(super) fn encode(out: &mut Vec<u8>, t: &Topology) {
    put_num(out, t.ds.len());
    for ds in &t.ds {
        put_text(out, &ds.ds_id);
        put_text(out, &ds.rs_id);
        put_num(out, ds.generation_id);
        put_num(out, ds.status);
    }
    put_num(out, t.rs.len());
    for rs in &t.rs {
        put_text(out, &rs.rs_id);
        put_num(out, rs.generation_id);
        put_text(out, &rs.server_url);
    }
}

pub(super) fn decode(f: &mut Fields<'_>) -> Result<Topology, WireError> {
    let ds_count: usize = f.num("DS count")?;
    // Each entry takes at least 2 bytes per field; a count larger than
    // the payload could hold is junk, and is refused before allocating.
    if ds_count > f.payload_len() / 8 {
        return Err(WireError::BadNumber { msg: f.msg(), field: "DS count", text: ds_count.to_string() });
    }
    let mut ds = Vec::with_capacity(ds_count);
    for _ in 0..ds_count {
        ds.push(DsInfo {
            ds_id: f.text("dsId")?,
            rs_id: f.text("rsId")?,
            generation_id: f.num("generationId")?,
            status: f.num("status")?,
        });
    }
    let rs_count: usize = f.num("RS count")?;
    if rs_count > f.payload_len() / 6 {
        return Err(WireError::BadNumber { msg: f.msg(), field: "RS count", text: rs_count.to_string() });
    }
    let mut rs = Vec::with_capacity(rs_count);
    for _ in 0..rs_count {
        rs.push(RsInfo {
            rs_id: f.text("rsId")?,
            generation_id: f.num("generationId")?,
            server_url: f.text("serverURL")?,
        });
    }
    Ok(Topology { ds, rs })
}

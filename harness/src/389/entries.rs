//! The two LDIF files of a 389 case folder, built from a server's data in
//! the shape two real 2.3.1 servers returned them (`diagnosis/tests/fixtures/389-real/`),
//! for the searches a support engineer runs (as `scripts/real389` does):
//!
//! - `agreements.ldif`: `ldapsearch -LLL -b cn=config
//!   '(objectClass=nsds5replicationagreement)' '*' nsds5replicaLastUpdateStatusJSON
//!   nsds5replicaLastInitStatusJSON`: the stored attributes in the order `dsconf repl-agmt
//!   create` leaves them, the ones `get_agmt_status` computes (`repl5_agmt.c:2882`), then the
//!   two JSON twins asked for by name; `nsDS5ReplicaCredentials` left out, as a support
//!   engineer redacts it;
//! - `replica.ldif`: `ldapsearch -LLL -b 'cn=replica,cn=SUFFIX,cn=mapping tree,cn=config' -s base
//!   '*' nsds50ruv nsds5AgmtMaxCSN nsruvReplicaLastModified`: the replica entry with its RUV
//!   and one `nsds5AgmtMaxCSN` per enabled agreement. The server adds `nsds5AgmtMaxCSN` to the
//!   replica entry, never to the agreement, and moves it when a change is written, not when it
//!   is sent (`agmt_update_maxcsn`).

use base64::Engine;
use time::OffsetDateTime;

use super::ldif::{replica_dn, Ldif};
use super::node::{AgmtData, Data};
use super::replica::{uniqueid_for, Replica};
use super::status::gen_time;
use super::version::Version389;

fn agreement(out: &mut Ldif, a: &AgmtData, suffix: &str, v: &Version389, now: OffsetDateTime) {
    let c = &a.cfg;
    out.entry(&format!("cn={},{}", c.name, replica_dn(suffix)))
        .attr("objectClass", "top")
        .attr("objectClass", "nsds5replicationagreement")
        .attr("cn", &c.name)
        .attr("nsDS5ReplicaRoot", suffix)
        .attr("description", &c.name)
        .attr("nsDS5ReplicaHost", &a.host)
        .attr("nsDS5ReplicaPort", a.port.to_string())
        .attr("nsDS5ReplicaBindMethod", "simple")
        .attr("nsDS5ReplicaTransportInfo", c.transport.name())
        .attr("nsDS5ReplicaBindDN", &c.bind_dn);
    if c.timeout != super::config::DEFAULT_TIMEOUT {
        out.attr("nsds5replicaTimeout", c.timeout.as_secs().to_string());
    }
    if let Some(on) = c.enabled {
        out.attr("nsds5ReplicaEnabled", if on { "on" } else { "off" });
    }
    let s = &a.status;
    out.attr("nsds5replicareapactive", "0")
        .attr("nsds5replicaLastUpdateStart", gen_time(s.update_start))
        .attr("nsds5replicaLastUpdateEnd", gen_time(s.update_end))
        .attr("nsds5replicaChangesSentSinceStartup", s.changes_sent_text())
        .attr("nsds5replicaLastUpdateStatus", s.shown(v))
        .attr("nsds5replicaUpdateInProgress", if s.in_progress { "TRUE" } else { "FALSE" })
        .attr("nsds5replicaLastInitStart", gen_time(s.init_start))
        .attr("nsds5replicaLastInitEnd", gen_time(s.init_end));
    if !s.init_status.is_empty() {
        out.attr("nsds5replicaLastInitStatus", &s.init_status);
    }
    if let Some(j) = s.shown_json(v, now) {
        out.attr("nsds5replicaLastUpdateStatusJSON", j);
    }
    if !s.init_json.is_empty() {
        out.attr("nsds5replicaLastInitStatusJSON", &s.init_json);
    }
}

/// `agreements.ldif` of a server (empty when it has no agreement).
pub(crate) fn agreements_ldif(data: &Data, v: &Version389, now: OffsetDateTime) -> String {
    let mut out = Ldif::new();
    if let Some(r) = &data.replica {
        for a in &data.agmts {
            agreement(&mut out, a, &r.cfg.suffix, v, now);
        }
    }
    out.finish()
}

/// `nsds5AgmtMaxCSN`: `SUFFIX;AGREEMENT;HOST;PORT;CONSUMER RID;CSN` (the
/// consumer's replica id is `unavailable` until it was contacted).
pub(crate) fn maxcsn_value(a: &AgmtData, suffix: &str) -> Option<String> {
    let csn = a.maxcsn?;
    let rid = a.consumer_rid.map_or_else(|| "unavailable".to_owned(), |r| r.to_string());
    Some(format!("{suffix};{};{};{};{rid};{csn}", a.cfg.name, a.host, a.port))
}

/// `nsState`: the CSN generator's state as the server stores it (replica
/// id, sampled time, local and remote offsets, sequence; little-endian,
/// 40 bytes with padding).
fn ns_state(r: &Replica) -> String {
    let mut b = Vec::with_capacity(40);
    b.extend_from_slice(&r.rid().to_le_bytes());
    b.extend_from_slice(&[0; 6]);
    let sampled = r.own_max().map_or(0, |c| i64::from(c.time));
    b.extend_from_slice(&sampled.to_le_bytes());
    b.extend_from_slice(&0i64.to_le_bytes());
    b.extend_from_slice(&0i64.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&[0; 6]);
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// `replica.ldif` of a server (`None` without a replica).
pub(crate) fn replica_ldif(data: &Data, server: &str) -> Option<String> {
    let r = data.replica.as_ref()?;
    let supplier = r.is_supplier();
    let mut out = Ldif::new();
    out.entry(&replica_dn(&r.cfg.suffix))
        .attr("objectClass", "top")
        .attr("objectClass", "nsds5Replica")
        .attr("cn", "replica")
        .attr("nsDS5ReplicaRoot", &r.cfg.suffix)
        .attr("nsDS5Flags", if supplier { "1" } else { "0" })
        .attr("nsDS5ReplicaType", if supplier { "3" } else { "2" });
    let bind_dns = |out: &mut Ldif| {
        for dn in &r.cfg.bind_dns {
            out.attr("nsDS5ReplicaBindDN", dn);
        }
    };
    if supplier {
        out.attr("nsDS5ReplicaId", r.rid().to_string());
        bind_dns(&mut out);
    } else {
        bind_dns(&mut out);
        out.attr("nsDS5ReplicaId", r.rid().to_string());
    }
    out.attr("nsState", base64::engine::general_purpose::STANDARD.decode(ns_state(r)).unwrap_or_default())
        .attr("nsDS5ReplicaName", uniqueid_for(&format!("replica {server}")));
    if r.cfg.backoff_min != super::backoff::DEFAULT_MIN || r.cfg.backoff_max != super::backoff::DEFAULT_MAX {
        out.attr("nsds5ReplicaBackoffMin", r.cfg.backoff_min.as_secs().to_string())
            .attr("nsds5ReplicaBackoffMax", r.cfg.backoff_max.as_secs().to_string());
    }
    out.attr("nsds5ReplicaChangeCount", r.changelog.len().to_string()).attr("nsds5replicareapactive", "0");
    if let Some(ruv) = &r.ruv {
        out.attrs("nsds50ruv", ruv.values());
    }
    for a in data.agmts.iter().filter(|a| a.cfg.is_enabled()) {
        if let Some(v) = maxcsn_value(a, &r.cfg.suffix) {
            out.attr("nsds5AgmtMaxCSN", v);
        }
    }
    if let Some(ruv) = &r.ruv {
        out.attrs(
            "nsruvReplicaLastModified",
            ruv.last_modified_values().into_iter().filter(|v| !v.ends_with(" 00000000")),
        );
    }
    Some(out.finish())
}

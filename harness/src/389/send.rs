//! SENDING_UPDATES of the incremental protocol, the end of a session, and
//! the total update (`repl5_inc_protocol.c` `send_updates`,
//! `repl5_protocol_util.c` `release_replica`, `repl5_tot_protocol.c`).
//!
//! A session: examine the consumer's RUV (none: never initialized; another
//! generation: mismatch), update the CSN generator from it (more than a day
//! ahead: time skew), position in the changelog (purged, missing), then
//! send each change without waiting for its result, at most the flow-control
//! window ahead; results are read as they come (a failed replay stops the
//! session for a retry, a lost connection or a result later than
//! `nsds5ReplicaTimeout` too). A consumer asking to end the session (the
//! abort-session control) makes the supplier yield once its release timeout
//! has passed. Then up to 30 s for the last results.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use super::catalog;
use super::config::{ChangelogError, NextOpError, SupplierFault, ASYNC_RESULTS_WAIT};
use super::connection::ReadFail;
use super::csn::Ruv;
use super::extop::{self, code, EntryRequest, Response};
use super::ldaprc;
use super::node::{Events, Node389};
use super::protocol::{Acquired, Protocol};
use super::replica::{Change, ReplayError};
use super::status;
use super::wire::Msg;

/// How a session ended, for the state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SendResult {
    /// No more updates: success.
    Done,
    Yield,
    /// Any error that backs off and retries (status already set).
    Backoff,
    /// A result timed out: back off, and disconnect after the release.
    Timeout,
    Fatal,
}

/// `UPDATE_*` of `send_updates`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Update {
    NoMore,
    Yield,
    Transient,
    ConnectionLost,
    Timeout,
    Fatal,
}

fn transient(p: &Protocol) -> &'static status::Report {
    if p.node.version.transient_warning() {
        &status::TRANSIENT_WARNING
    } else {
        &status::TRANSIENT_ERROR
    }
}

/// The session after the replica was acquired.
pub(crate) async fn session(p: &mut Protocol, ruv: Option<Ruv>) -> SendResult {
    let node = p.node.clone();
    let tag = p.long_name.clone();
    let (supplier, fault) = {
        let data = node.data();
        (data.replica.as_ref().and_then(|r| r.ruv.clone()), data.fault)
    };
    let Some(consumer) = ruv else {
        node.log.emit(&catalog::INC_NO_RUV, &[&tag]);
        p.report(&status::NOT_INITIALIZED, 0);
        return SendResult::Backoff;
    };
    if supplier.as_ref().is_none_or(|s| s.generation != consumer.generation) {
        node.log.emit(&catalog::INC_GENERATION_MISMATCH, &[&tag]);
        p.report(&status::GENERATION_MISMATCH, 0);
        return SendResult::Backoff;
    }
    if fault == Some(SupplierFault::RuvTooOld) {
        node.log.emit(&catalog::INC_RUV_TOO_OLD, &[&tag]);
        p.report(&status::NEEDS_REINIT, 0);
        return SendResult::Backoff;
    }
    if fault == Some(SupplierFault::CsnGenerator) {
        node.log.emit(&catalog::INC_CSNGEN_FAILED, &[&tag]);
        p.report(&status::CSN_GENERATOR, 0);
        return SendResult::Fatal;
    }
    let now = node.local_secs();
    let skew = node.data().replica.as_mut().map(|r| r.adjust_gen(now, &consumer));
    if let Some(Err(s)) = skew {
        node.log.emit(&catalog::CSNGEN_LIMIT, &[&s.offset, &super::csn::MAX_TIME_ADJUST]);
        node.log.emit(&catalog::INC_TIME_SKEW, &[&tag]);
        p.report(&status::TIME_SKEW, 0);
        return SendResult::Fatal;
    }
    let start = node.now().unix_timestamp();
    set_times(p, |s| {
        s.update_start = start;
        s.update_end = 0;
        s.in_progress = true;
    });
    let rc = send_updates(p, &consumer).await;
    let result = match rc {
        Update::NoMore => {
            p.report(&status::SUCCEEDED, 0);
            SendResult::Done
        }
        Update::Yield => {
            p.report(&status::YIELDED, 0);
            SendResult::Yield
        }
        Update::Transient => {
            p.report(transient(p), 0);
            SendResult::Backoff
        }
        Update::ConnectionLost => {
            p.report(&status::CONNECTION_LOST, 0);
            SendResult::Backoff
        }
        Update::Timeout => {
            p.report(&status::TIMEOUT, 0);
            SendResult::Timeout
        }
        Update::Fatal => SendResult::Fatal,
    };
    let end = node.now().unix_timestamp();
    set_times(p, |s| {
        if rc == Update::NoMore {
            s.update_end = end;
        } else {
            s.update_start = 0;
        }
        s.in_progress = false;
    });
    result
}

fn set_times(p: &Protocol, f: impl FnOnce(&mut super::status::AgmtStatus)) {
    let mut data = p.node.data();
    if let Some(a) = data.agmt_mut(&p.name) {
        f(&mut a.status);
    }
}

fn changelog_error(e: ChangelogError) -> (&'static catalog::LogMsg, &'static status::Report) {
    match e {
        ChangelogError::BadData => (&catalog::SEND_CL_BAD_DATA, &status::CL_BAD_DATA),
        ChangelogError::BadFormat => (&catalog::SEND_CL_BAD_FORMAT, &status::CL_BAD_FORMAT),
        ChangelogError::BadState => (&catalog::SEND_CL_BAD_STATE, &status::CL_BAD_STATE),
        ChangelogError::BadDbVersion => (&catalog::SEND_CL_BAD_DBVERSION, &status::CL_BAD_DBVERSION),
        ChangelogError::DbError => (&catalog::SEND_CL_DB_ERROR, &status::CL_DB_ERROR),
        ChangelogError::Memory => (&catalog::SEND_CL_MEMORY, &status::CL_MEMORY),
    }
}

fn next_op_error(e: NextOpError) -> (&'static catalog::LogMsg, &'static status::Report) {
    match e {
        NextOpError::BadData => (&catalog::SEND_NEXT_BAD_DATA, &status::NEXT_BAD_DATA),
        NextOpError::DbError => (&catalog::SEND_NEXT_DB_ERROR, &status::NEXT_DB_ERROR),
        NextOpError::Memory => (&catalog::SEND_NEXT_MEMORY, &status::NEXT_MEMORY),
    }
}

/// One update sent and not yet answered.
struct Pending {
    id: u32,
    csn: String,
    uniqueid: String,
    rid: u16,
}

/// `send_updates`.
async fn send_updates(p: &mut Protocol, consumer: &Ruv) -> Update {
    let node = p.node.clone();
    let tag = p.long_name.clone();
    let (fault, replay, window, pause, release_timeout) = {
        let data = node.data();
        let replay = data.replica.as_ref().map(|r| r.replay_for(consumer)).unwrap_or(Ok(Vec::new()));
        (data.fault, replay, data.flow_window.max(1), data.flow_pause, data.release_timeout)
    };
    match fault {
        Some(SupplierFault::Changelog(e)) => {
            let (line, report) = changelog_error(e);
            node.log.emit(line, &[&tag]);
            p.report(report, 0);
            return Update::Fatal;
        }
        Some(SupplierFault::MissingSuffix) if node.version.missing_suffix_case() => {
            node.log.emit_glued(&catalog::SEND_MISSING_SUFFIX, &[], &catalog::INC_FATAL, &[&tag]);
            p.report(&status::MISSING_SUFFIX, 0);
            // The fatal line is already written, glued on.
            return Update::Fatal;
        }
        _ => {}
    }
    let old_texts = !node.version.log_severities();
    let changes: Vec<Change> = match replay {
        Ok(c) => c,
        Err(ReplayError::Purged) => {
            node.log.emit(&catalog::SEND_PURGED, &[&tag]);
            p.report(if old_texts { &status::PURGED_LEGACY } else { &status::PURGED }, 0);
            return if old_texts { Update::Fatal } else { Update::Transient };
        }
        Err(ReplayError::Missing) => {
            node.log.emit(&catalog::SEND_MISSING, &[&tag]);
            p.report(if old_texts { &status::MISSING_LEGACY } else { &status::MISSING }, 0);
            return if old_texts { Update::Fatal } else { Update::Transient };
        }
    };
    if fault == Some(SupplierFault::ResultThread) {
        node.log.emit(&catalog::RESULT_THREAD_NSPR, &[&-5972, &"Out of memory"]);
        node.log.emit(&catalog::SEND_RESULT_THREAD, &[&tag, &-1]);
        p.report(&status::RESULT_THREAD, 0);
        return Update::Fatal;
    }
    if let Some(SupplierFault::NextOperation(e)) = fault {
        let (line, report) = next_op_error(e);
        node.log.emit(line, &[&tag]);
        p.report(report, 0);
        return Update::Fatal;
    }
    let mut pending: VecDeque<Pending> = VecDeque::new();
    let mut abort_at: Option<Duration> = None;
    let (mut received, mut sent) = (0u32, 0u32);
    let timeout = p.target().map_or(super::config::DEFAULT_TIMEOUT, |t| t.0.timeout);
    for c in &changes {
        if p.shut() {
            return Update::NoMore;
        }
        // Flow control: at most `window` updates ahead of their results.
        while pending.len() >= window {
            match p.conn.recv(Some(node.real(pause))).await {
                Ok(m) => {
                    received += 1;
                    if let Some(u) = on_result(p, &mut pending, &mut abort_at, release_timeout, m) {
                        return u;
                    }
                }
                Err(ReadFail::Timeout) => break,
                Err(ReadFail::Lost(e)) => return lost(p, &pending, e),
            }
        }
        let id = p.conn.next_id();
        let msg = Msg::Update {
            id,
            kind: c.kind,
            dn: c.dn.clone(),
            uniqueid: c.uniqueid.clone(),
            csn: c.csn.to_string(),
            changes: c.changes.clone(),
        };
        match p.conn.send(msg).await {
            Ok(()) => {}
            Err(ReadFail::Lost(e)) => {
                let text = if e != 0 { ldaprc::text(e) } else { "Connection lost" };
                node.log.emit(&catalog::SEND_FAILED, &[&tag, &c.uniqueid, &c.csn, &text]);
                return Update::ConnectionLost;
            }
            Err(ReadFail::Timeout) => {
                node.log.emit(&catalog::SEND_TIMED_OUT, &[&tag, &c.uniqueid, &c.csn, &ldaprc::text(ldaprc::TIMEOUT)]);
                return Update::Timeout;
            }
        }
        sent = id;
        pending.push_back(Pending { id, csn: c.csn.to_string(), uniqueid: c.uniqueid.clone(), rid: c.csn.rid });
        while let Some(r) = p.conn.try_recv() {
            match r {
                Ok(m) => {
                    received += 1;
                    if let Some(u) = on_result(p, &mut pending, &mut abort_at, release_timeout, m) {
                        return u;
                    }
                }
                Err(ReadFail::Lost(e)) => return lost(p, &pending, e),
                Err(ReadFail::Timeout) => break,
            }
        }
        if let Some(at) = abort_at {
            if node.elapsed() >= at + release_timeout {
                return Update::Yield;
            }
        }
    }
    // `repl5_inc_waitfor_async_results`: the last results, within 30 s;
    // the result thread gives up on one after `nsds5ReplicaTimeout`.
    let all_by = tokio::time::Instant::now() + node.real(ASYNC_RESULTS_WAIT);
    while let Some(first) = pending.front() {
        let left = all_by.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            node.log.emit(&catalog::WAITFOR_TIMED_OUT, &[&received, &sent]);
            return Update::NoMore;
        }
        let per = node.real(timeout);
        match p.conn.recv(Some(per.min(left))).await {
            Ok(m) => {
                received += 1;
                if let Some(u) = on_result(p, &mut pending, &mut abort_at, release_timeout, m) {
                    return u;
                }
            }
            Err(ReadFail::Timeout) if per <= left => {
                node.log.emit(
                    &catalog::REPLAY_TIMED_OUT,
                    &[&tag, &first.uniqueid, &first.csn, &ldaprc::text(ldaprc::TIMEOUT)],
                );
                p.conn.disconnect().await;
                return Update::Timeout;
            }
            Err(ReadFail::Timeout) => {}
            Err(ReadFail::Lost(e)) => return lost(p, &pending, e),
        }
    }
    Update::NoMore
}

fn lost(p: &mut Protocol, pending: &VecDeque<Pending>, e: i32) -> Update {
    let (uid, csn) = pending.front().map_or((String::new(), String::new()), |x| (x.uniqueid.clone(), x.csn.clone()));
    let text = if e != 0 { ldaprc::text(e) } else { "Connection lost" };
    p.node.log.emit(&catalog::REPLAY_CONNECTION_LOST, &[&p.long_name, &uid, &csn, &text, &e]);
    Update::ConnectionLost
}

/// One update's result (`repl5_inc_update_from_op_result`); `Some` ends the session.
fn on_result(
    p: &mut Protocol,
    pending: &mut VecDeque<Pending>,
    abort_at: &mut Option<Duration>,
    release_timeout: Duration,
    msg: Msg,
) -> Option<Update> {
    let Msg::UpdateResult { id, rc, abort_session, .. } = msg else { return None };
    let at = pending.iter().position(|x| x.id == id)?;
    let op = pending.remove(at)?;
    if abort_session && !release_timeout.is_zero() && abort_at.is_none() {
        *abort_at = Some(p.node.elapsed());
    }
    let skipped = rc != ldaprc::SUCCESS;
    if skipped && ldaprc::stops_the_session(rc) {
        p.node.log.emit(&catalog::REPLAY_FAILED, &[&p.long_name, &op.uniqueid, &op.csn, &ldaprc::text(rc), &rc]);
        // The session stops here; the connection is closed after the
        // release attempt, which reports this error.
        p.conn.last_error = rc;
        p.conn.drop_now();
        return Some(Update::Transient);
    }
    set_times(p, |s| {
        let e = s.changes_sent.entry(op.rid).or_insert((0, 0));
        if skipped {
            e.1 += 1;
        } else {
            e.0 += 1;
        }
    });
    None
}

/// `release_replica`: the end-replication request; the connection lingers.
pub(crate) async fn release(p: &mut Protocol) {
    let node = p.node.clone();
    let Some((cfg, _, _)) = p.target() else { return };
    let root = node.data().replica.as_ref().map(|r| r.cfg.suffix.clone()).unwrap_or_default();
    let id = p.conn.next_id();
    let msg = Msg::Extended { id, oid: extop::END_REQUEST.into(), value: extop::encode_end(&root) };
    if p.conn.send(msg).await.is_err() {
        let e = p.conn.last_error;
        let text = if e != 0 { ldaprc::text(e) } else { "unknown error" };
        node.log.emit(&catalog::RELEASE_SEND_FAILED, &[&p.long_name, &text]);
        return;
    }
    let wait = if node.version.unbounded_response_wait() { None } else { Some(node.real(cfg.timeout)) };
    loop {
        match p.conn.recv(wait).await {
            // A late update result is read past, as `conn_read_result_ex` waits for its message id.
            Ok(Msg::UpdateResult { .. }) => continue,
            Ok(Msg::ExtendedResult { value, .. }) => {
                match Response::decode(&value) {
                    Ok(r) if r.code == code::RELEASE_SUCCEEDED => {}
                    Ok(r) => {
                        node.log.emit(&catalog::RELEASE_REFUSED, &[&p.long_name, &r.code]);
                        p.conn.disconnect().await;
                    }
                    Err(_) => {}
                }
                break;
            }
            Ok(_) => break,
            Err(f) => {
                let e = match f {
                    ReadFail::Lost(e) => e,
                    ReadFail::Timeout => ldaprc::TIMEOUT,
                };
                let text = if e != 0 { ldaprc::text(e) } else { "unknown error" };
                node.log.emit(&catalog::RELEASE_NO_RESPONSE, &[&p.long_name, &e, &text]);
                return;
            }
        }
    }
    p.conn.start_linger();
}

/// A total update (`dsconf repl-agmt init`): every entry, then the end of
/// the session; the consumer takes the supplier's data and RUV.
pub(crate) async fn total(node: &Arc<Node389>, name: &str, long_name: &str, events: &Arc<Events>) {
    let stop = node.core.cancel.child_token();
    let mut p = Protocol::new(node.clone(), name, long_name.to_owned(), events.clone(), stop);
    let started = node.now().unix_timestamp();
    {
        let mut data = node.data();
        if let Some(a) = data.agmt_mut(name) {
            a.status.init_start = started;
            a.status.init_end = 0;
        }
    }
    let got = p.acquire(true).await;
    if !matches!(got, Acquired::Success(_)) {
        let code = if matches!(got, Acquired::Busy) { code::BUSY } else { code::CONN_ERROR };
        node.log.emit(&catalog::TOTAL_FAILED, &[&long_name, &code]);
        let now = node.now();
        let v = node.version.clone();
        {
            let mut data = node.data();
            if let Some(a) = data.agmt_mut(name) {
                a.status.init_status = if v.error_shape() {
                    format!(
                        "Error ({code}) Replication error acquiring replica: {}",
                        extop::response_name_for(code, &v)
                    )
                } else {
                    format!("{code} Replication error acquiring replica: {}", extop::response_name_for(code, &v))
                };
                a.status.init_end = now.unix_timestamp();
            }
        }
        p.conn.disconnect().await;
        return;
    }
    node.log.emit(&catalog::TOTAL_BEGIN, &[&long_name]);
    let (entries, _) = node.data().replica.as_ref().map(|r| r.snapshot()).unwrap_or_default();
    let mut n = 0usize;
    for (dn, e) in &entries {
        let id = p.conn.next_id();
        let value = EntryRequest {
            dn: dn.clone(),
            uniqueid: e.uniqueid.clone(),
            csn: e.csn.map(|c| c.to_string()).unwrap_or_default(),
            attrs: String::new(),
        }
        .encode();
        if p.conn.send(Msg::Extended { id, oid: extop::ENTRY_REQUEST.into(), value }).await.is_err() {
            break;
        }
        match p.conn.recv(Some(node.real(super::config::DEFAULT_TIMEOUT))).await {
            Ok(_) => n += 1,
            Err(_) => break,
        }
    }
    release(&mut p).await;
    node.log.emit(&catalog::TOTAL_FINISHED, &[&long_name, &n]);
    let now = node.now();
    let v = node.version.clone();
    {
        let mut data = node.data();
        if let Some(a) = data.agmt_mut(name) {
            a.status.total_succeeded(&v, now);
            a.status.init_end = now.unix_timestamp();
        }
    }
    p.conn.disconnect().await;
}

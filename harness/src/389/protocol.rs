//! An agreement's incremental protocol, the state machine of
//! `repl5_inc_run` (`repl5_inc_protocol.c`), on the virtual clock:
//!
//! ```text
//!  START ──► READY_TO_ACQUIRE ──acquire──► SENDING_UPDATES ──► WAIT_CHANGES ──change──► READY_TO_ACQUIRE
//!    ▲            │ up to date ─────────────────────────────────► WAIT_CHANGES ──300 s──► START
//!    │            │ busy, transient ──► BACKOFF_START ──► BACKOFF (3, 6, 12 … s) ──fires──► acquire
//!    │            └ fatal ──► STOP_FATAL_ERROR ── waits for the agreement to change ──► START
//!    └── the agreement changed (a new password, port, timeout) from any waiting state
//! ```
//!
//! ACQUIRING_REPLICA ([`Protocol::acquire`]) compares the supplier's RUV
//! with the consumer's RUV as last seen: with nothing newer it contacts no
//! one and sets no status, so the status only moves when there is
//! something to send. Then it connects and binds ([`super::connection`]),
//! sends the start-replication request and reads the answer: from 2.0.2
//! on that read never times out (the real server's wait compares the wall
//! clock with the monotonic one), so a link that stops answering after the
//! request leaves the session waiting, no line written, the status as it
//! was. SENDING_UPDATES ([`super::send`]) examines the consumer's RUV,
//! updates the CSN generator, positions in the changelog and sends each
//! change.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::backoff::{Backoff, Kind};
use super::catalog;
use super::config::{AgreementConfig, SupplierFault, MAX_WAIT_BETWEEN_SESSIONS};
use super::connection::{Connected, Connection, ReadFail};
use super::csn::Ruv;
use super::extop::{self, code, Response, StartRequest};
use super::ldaprc;
use super::node::{Events, Node389};
use super::send::{self, SendResult};
use super::status;
use super::wire::Msg;

/// The states of `repl5_inc_run`.
#[derive(Debug)]
enum State {
    Start,
    WaitChanges,
    ReadyToAcquire,
    BackoffStart,
    Backoff,
    SendingUpdates(Option<Ruv>),
    StopFatal,
    StopFatalPart2,
    Done,
}

/// What `acquire_replica` returned.
#[derive(Debug)]
pub(crate) enum Acquired {
    Success(Option<Ruv>),
    Busy,
    UpToDate,
    Transient,
    Fatal,
}

/// One run of an agreement's incremental protocol.
pub(crate) struct Protocol {
    pub node: Arc<Node389>,
    pub name: String,
    pub long_name: String,
    pub events: Arc<Events>,
    /// Cancelled to stop the protocol (`PROTOCOL_IS_SHUTDOWN`).
    pub stop: CancellationToken,
    pub conn: Connection,
    backoff: Option<Backoff>,
    use_busy: bool,
    /// The replication code of the last acquire (1.3.5.13 and before report it).
    last_acquire_code: i32,
}

impl Protocol {
    pub fn new(
        node: Arc<Node389>,
        name: &str,
        long_name: String,
        events: Arc<Events>,
        stop: CancellationToken,
    ) -> Self {
        let conn = Connection::new(node.clone(), long_name.clone());
        Self {
            node,
            name: name.to_owned(),
            long_name,
            events,
            stop,
            conn,
            backoff: None,
            use_busy: false,
            last_acquire_code: 0,
        }
    }

    pub fn shut(&self) -> bool {
        self.stop.is_cancelled()
    }

    /// The agreement's configuration, consumer host and port, now.
    pub fn target(&self) -> Option<(AgreementConfig, String, u16)> {
        let data = self.node.data();
        data.agmt(&self.name).map(|a| (a.cfg.clone(), a.host.clone(), a.port))
    }

    /// `agmt_set_last_update_status`.
    pub fn status(&self, ldaprc: i32, replrc: i32, msg: Option<&str>) {
        let now = self.node.now();
        {
            let mut data = self.node.data();
            if let Some(a) = data.agmt_mut(&self.name) {
                a.status.set(&self.node.version, now, &self.long_name, ldaprc, replrc, msg);
            }
        }
        self.node.core.notify();
    }

    /// One of the mock's [`status::REPORTS`], with the LDAP result it takes.
    pub fn report(&self, r: &status::Report, ldaprc: i32) {
        self.status(ldaprc, r.replrc(&self.node.version), r.msg);
    }

    /// A status set by `acquire_replica` (1.3.5.14 on); before, acquire sets
    /// none and `repl5_inc_run` writes the generic one afterwards.
    fn acquire_status(&mut self, ldaprc: i32, r: &status::Report) {
        self.acquire_status_code(ldaprc, r, r.replrc);
    }

    /// [`acquire_status`](Self::acquire_status) with the consumer's code.
    fn acquire_status_code(&mut self, ldaprc: i32, r: &status::Report, replrc: i32) {
        self.last_acquire_code = replrc;
        if self.node.version.error_shape() {
            self.status(ldaprc, replrc, r.msg);
        }
    }

    fn with_agmt(&self, f: impl FnOnce(&mut super::node::AgmtData)) {
        let mut data = self.node.data();
        if let Some(a) = data.agmt_mut(&self.name) {
            f(a);
        }
    }

    /// Runs until the protocol is stopped (or the server stops).
    pub async fn run(mut self) {
        let mut state = State::Start;
        loop {
            tracing::trace!(agreement = %self.name, ?state, "state");
            state = match state {
                State::Done => break,
                State::Start => self.start().await,
                State::WaitChanges => self.wait_changes().await,
                State::ReadyToAcquire => {
                    if self.shut() {
                        State::Done
                    } else {
                        let got = self.acquire_incremental().await;
                        self.use_busy = false;
                        match got {
                            Acquired::Success(ruv) => State::SendingUpdates(ruv),
                            Acquired::Busy => {
                                self.use_busy = true;
                                State::BackoffStart
                            }
                            Acquired::UpToDate => State::WaitChanges,
                            Acquired::Transient => State::BackoffStart,
                            Acquired::Fatal => State::StopFatal,
                        }
                    }
                }
                State::BackoffStart => self.backoff_start(),
                State::Backoff => self.backoff_wait().await,
                State::SendingUpdates(ruv) => self.sending_updates(ruv).await,
                State::StopFatal => {
                    if !self.node.version.error_shape() {
                        self.report(&status::FATAL_LEGACY, -1);
                    }
                    self.node.log.emit(&catalog::INC_FATAL, &[&self.long_name]);
                    State::StopFatalPart2
                }
                State::StopFatalPart2 => {
                    if self.shut() {
                        State::Done
                    } else {
                        let f = self.events.take();
                        if f.agmt_changed {
                            State::Start
                        } else {
                            self.events.wait(None, &self.stop).await;
                            State::StopFatalPart2
                        }
                    }
                }
            };
        }
        self.conn.cancel_linger();
        if self.node.core.killed() {
            self.conn.drop_killed();
        } else {
            self.conn.disconnect().await;
        }
    }

    async fn start(&mut self) -> State {
        if self.shut() {
            return State::Done;
        }
        self.events.take();
        self.conn.cancel_linger();
        self.conn.disconnect().await;
        State::ReadyToAcquire
    }

    async fn wait_changes(&mut self) -> State {
        let deadline = self.node.elapsed() + MAX_WAIT_BETWEEN_SESSIONS;
        loop {
            if self.shut() {
                return State::Done;
            }
            let f = self.events.take();
            if f.replicate_now || f.changes {
                return State::ReadyToAcquire;
            }
            if f.agmt_changed {
                return State::Start;
            }
            let now = self.node.elapsed();
            if now >= deadline {
                return State::Start;
            }
            if let Some(l) = self.conn.linger_deadline() {
                if now >= l {
                    self.conn.disconnect().await;
                    continue;
                }
            }
            let until = self.conn.linger_deadline().map_or(deadline, |l| l.min(deadline));
            self.events.wait(Some(self.node.instant_at(until)), &self.stop).await;
        }
    }

    fn backoff_start(&mut self) -> State {
        if self.shut() {
            return State::Done;
        }
        let f = self.events.take();
        if f.replicate_now {
            return State::ReadyToAcquire;
        }
        if f.agmt_changed {
            return State::Start;
        }
        let (min, max, busy) = {
            let data = self.node.data();
            data.replica
                .as_ref()
                .map_or((super::backoff::DEFAULT_MIN, super::backoff::DEFAULT_MAX, Duration::ZERO), |r| {
                    (r.cfg.backoff_min, r.cfg.backoff_max, r.cfg.busy_wait)
                })
        };
        let now = self.node.elapsed();
        self.backoff = Some(if self.use_busy {
            let wait = if busy.is_zero() { min } else { busy };
            Backoff::start(Kind::Fixed, wait, wait, now)
        } else {
            Backoff::start(Kind::Exponential, min, max, now)
        });
        self.use_busy = false;
        State::Backoff
    }

    async fn backoff_wait(&mut self) -> State {
        loop {
            if self.shut() {
                self.backoff = None;
                return State::Done;
            }
            let Some(b) = self.backoff.clone() else { return State::ReadyToAcquire };
            let f = self.events.take();
            if f.replicate_now {
                self.backoff = None;
                return State::ReadyToAcquire;
            }
            if f.agmt_changed {
                self.backoff = None;
                return State::Start;
            }
            let now = self.node.elapsed();
            if f.changes && b.expired(now, Duration::from_secs(60)) {
                self.backoff = None;
                return State::ReadyToAcquire;
            }
            if now >= b.fire_at() {
                let got = self.acquire_incremental().await;
                let next = match got {
                    Acquired::Success(ruv) => State::SendingUpdates(ruv),
                    Acquired::UpToDate => State::WaitChanges,
                    Acquired::Fatal => State::StopFatal,
                    Acquired::Busy | Acquired::Transient => State::Backoff,
                };
                if matches!(next, State::Backoff) {
                    if let Some(b) = self.backoff.as_mut() {
                        b.step();
                    }
                    continue;
                }
                self.backoff = None;
                return next;
            }
            self.events.wait(Some(self.node.instant_at(b.fire_at())), &self.stop).await;
        }
    }

    async fn acquire_incremental(&mut self) -> Acquired {
        let got = self.acquire(false).await;
        if !self.node.version.error_shape() && !matches!(got, Acquired::Success(_) | Acquired::UpToDate) {
            let ldaprc = self.conn.last_error;
            let code = self.last_acquire_code;
            self.status(ldaprc, code, status::ACQ_GENERIC_LEGACY.msg);
        }
        got
    }

    /// `acquire_replica` with the incremental or the total protocol OID.
    pub async fn acquire(&mut self, total: bool) -> Acquired {
        if !total {
            let data = self.node.data();
            let supplier = data.replica.as_ref().and_then(|r| r.ruv.clone());
            let consumer = data.agmt(&self.name).and_then(|a| a.consumer_ruv.clone());
            drop(data);
            match supplier {
                Some(s) if Ruv::is_newer(&s, consumer.as_ref()) => {}
                _ => {
                    self.last_acquire_code = code::UPTODATE;
                    return Acquired::UpToDate;
                }
            }
        }
        self.last_acquire_code = code::NO_RESPONSE;
        let Some((cfg, host, port)) = self.target() else { return Acquired::Fatal };
        match self.conn.connect(&cfg, &host, port).await {
            Connected::Ok => {}
            Connected::Failed(e) => {
                self.acquire_status(e, &status::ACQ_CONNECT);
                return Acquired::Transient;
            }
            Connected::SslNotEnabled => {
                let e = self.conn.last_error;
                self.acquire_status(e, &status::ACQ_SSL_NOT_ENABLED);
                return Acquired::Fatal;
            }
        }
        self.conn.cancel_linger();
        let got = self.start_session(&cfg, total).await;
        if !matches!(got, Acquired::Success(_)) {
            self.conn.start_linger();
        }
        got
    }

    async fn start_session(&mut self, cfg: &AgreementConfig, total: bool) -> Acquired {
        let node = self.node.clone();
        let now = node.local_secs();
        let (csn, ruv, root, fault) = {
            let data = node.data();
            let Some(r) = data.replica.as_ref() else { return Acquired::Fatal };
            (r.gen.current(now), r.ruv.as_ref().map(Ruv::values).unwrap_or_default(), r.cfg.suffix.clone(), data.fault)
        };
        if fault == Some(SupplierFault::NoCurrentCsn) {
            node.log.emit(&catalog::ACQ_NO_CSN, &[&self.long_name]);
            self.acquire_status(0, &status::ACQ_NO_CSN);
            return Acquired::Fatal;
        }
        let protocol = if total { extop::TOTAL_PROTOCOL } else { extop::INCREMENTAL_PROTOCOL };
        let value = StartRequest { protocol: protocol.into(), root, csn: csn.to_string(), ruv }.encode();
        let id = self.conn.next_id();
        let sent = self.conn.send(Msg::Extended { id, oid: extop::START_REQUEST.into(), value }).await;
        if let Err(f) = sent {
            let e = match f {
                ReadFail::Lost(e) => e,
                ReadFail::Timeout => ldaprc::TIMEOUT,
            };
            let text = if e != 0 { ldaprc::text(e) } else { "unknown error" };
            node.log.emit(&catalog::ACQ_SEND_FAILED, &[&self.long_name, &text]);
        }
        let wait = if node.version.unbounded_response_wait() { None } else { Some(node.real(cfg.timeout)) };
        let reply = self.conn.recv(wait).await;
        let value = match reply {
            Ok(Msg::ExtendedResult { value, .. }) => value,
            Ok(_) => Vec::new(),
            Err(f) => {
                let e = match f {
                    ReadFail::Lost(e) => e,
                    ReadFail::Timeout => ldaprc::TIMEOUT,
                };
                let text = if e != 0 { ldaprc::text(e) } else { "unknown error" };
                node.log.emit(&catalog::ACQ_NO_RESPONSE, &[&self.long_name, &text]);
                self.acquire_status(e, &status::ACQ_NO_RESPONSE);
                return Acquired::Transient;
            }
        };
        let Ok(resp) = Response::decode(&value) else {
            node.log.emit(&catalog::ACQ_PARSE_FAILED, &[&self.long_name]);
            self.acquire_status(0, &status::ACQ_PARSE_FAILED);
            self.last_acquire_code = code::INTERNAL_ERROR;
            return Acquired::Fatal;
        };
        self.conn.last_error = ldaprc::SUCCESS;
        self.answer(resp, cfg, total)
    }

    /// The consumer's answer, as `acquire_replica`'s switch reads it.
    fn answer(&mut self, resp: Response, cfg: &AgreementConfig, total: bool) -> Acquired {
        let node = self.node.clone();
        let tag = self.long_name.clone();
        self.last_acquire_code = resp.code;
        match resp.code {
            code::READY => {
                let ruv = Ruv::parse(&resp.ruv);
                let hint = {
                    let mut data = node.data();
                    let a = data.agmt_mut(&self.name);
                    a.map(|a| {
                        if let Some(r) = &ruv {
                            a.consumer_ruv = Some(r.clone());
                        }
                        a.consumer_rid = a.consumer_rid.or(a.consumer_rid_hint);
                    })
                };
                let _ = hint;
                Acquired::Success(ruv)
            }
            code::INTERNAL_ERROR => {
                node.log.emit(&catalog::ACQ_INTERNAL_ERROR, &[&tag]);
                self.acquire_status(0, &status::ACQ_INTERNAL_ERROR);
                Acquired::Fatal
            }
            code::PERMISSION_DENIED => {
                node.log.emit(&catalog::ACQ_PERMISSION_DENIED, &[&tag, &cfg.bind_dn]);
                self.acquire_status(0, &status::ACQ_PERMISSION_DENIED);
                Acquired::Transient
            }
            code::NO_SUCH_REPLICA => {
                let root = node.data().replica.as_ref().map(|r| r.cfg.suffix.clone()).unwrap_or_default();
                node.log.emit(&catalog::ACQ_NO_SUCH_REPLICA, &[&tag, &root]);
                self.acquire_status(0, &status::ACQ_NO_SUCH_REPLICA);
                Acquired::Fatal
            }
            code::EXCESSIVE_CLOCK_SKEW => {
                // The real server sets no status here: the old one stays.
                node.log.emit(&catalog::ACQ_CLOCK_SKEW, &[&tag]);
                Acquired::Fatal
            }
            code::DECODING_ERROR => {
                node.log.emit(&catalog::ACQ_DECODING_ERROR, &[&tag]);
                self.acquire_status(0, &status::ACQ_DECODING_ERROR);
                Acquired::Fatal
            }
            code::BUSY => {
                if total {
                    node.log.emit(&catalog::ACQ_BUSY_TOTAL, &[&tag]);
                }
                self.acquire_status(0, &status::ACQ_BUSY);
                Acquired::Busy
            }
            code::REPLICAID_ERROR => {
                node.log.emit(&catalog::ACQ_DUPLICATE_RID, &[&tag]);
                self.acquire_status(0, &status::ACQ_DUPLICATE_RID);
                Acquired::Fatal
            }
            code::BACKOFF => {
                node.log.emit(&catalog::ACQ_BACKOFF, &[&tag]);
                self.acquire_status(0, &status::ACQ_BACKOFF);
                Acquired::Transient
            }
            code::LEGACY_CONSUMER if node.version.legacy_consumer_answer() => {
                node.log.emit(&catalog::ACQ_LEGACY, &[&tag]);
                self.acquire_status(0, &status::ACQ_LEGACY);
                Acquired::Fatal
            }
            code::DISABLED => {
                // agmt_set_last_update_status logs the two ERR lines itself.
                if node.version.error_shape() {
                    node.log.emit(&catalog::DISABLED_ABORTED, &[&tag]);
                    node.log.emit(&catalog::DISABLED_ENABLE_IT, &[]);
                }
                self.acquire_status(0, &status::ACQ_DISABLED);
                Acquired::Fatal
            }
            other => {
                self.acquire_status_code(0, &status::ACQ_OTHER, other);
                Acquired::Fatal
            }
        }
    }

    async fn sending_updates(&mut self, ruv: Option<Ruv>) -> State {
        if self.shut() {
            send::release(self).await;
            let now = self.node.now().unix_timestamp();
            self.with_agmt(|a| {
                a.status.in_progress = false;
                a.status.update_end = now;
            });
            self.report(&status::PROTOCOL_STOPPED, 0);
            return State::Done;
        }
        self.with_agmt(|a| a.holding = true);
        self.report(&status::STARTED, 0);
        let result = send::session(self, ruv).await;
        let next = match result {
            SendResult::Backoff => State::BackoffStart,
            SendResult::Fatal => State::StopFatal,
            SendResult::Done => State::WaitChanges,
            SendResult::Yield => {
                self.use_busy = true;
                State::BackoffStart
            }
            SendResult::Timeout => State::BackoffStart,
        };
        send::release(self).await;
        self.with_agmt(|a| a.holding = false);
        self.node.core.notify();
        if matches!(result, SendResult::Timeout) {
            self.conn.disconnect().await;
        }
        next
    }
}

/// Runs an agreement until its server stops or it is disabled: the
/// incremental protocol, and a total update whenever one is asked for.
pub(crate) async fn run(node: Arc<Node389>, name: String) {
    loop {
        let (stop, events, long_name, enabled, init) = {
            let mut data = node.data();
            let Some(a) = data.agmt_mut(&name) else { break };
            if a.stop.is_cancelled() {
                a.stop = node.core.cancel.child_token();
            }
            a.running = true;
            (a.stop.clone(), a.events.clone(), a.long_name.clone(), a.cfg.is_enabled(), a.init_requested)
        };
        if node.core.cancel.is_cancelled() || !enabled {
            break;
        }
        if init {
            super::send::total(&node, &name, &long_name, &events).await;
            if let Some(a) = node.data().agmt_mut(&name) {
                a.init_requested = false;
            }
            continue;
        }
        Protocol::new(node.clone(), &name, long_name, events, stop).run().await;
    }
    if let Some(a) = node.data().agmt_mut(&name) {
        a.running = false;
    }
    node.core.notify();
}

//! The crate's one error type. [`Error::Invalid`] is a scenario file that is
//! not valid, with its place (`FILE:LINE:COL`) and the [`Problem`]; the other
//! bad-input variants (unreadable path, no match, bad command line) exit 2;
//! the rest are what can go wrong while a scenario runs, which fails that
//! scenario (exit 1). `anyhow` is used only by the binary.

use std::fmt;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

use fault_proxy::FieldError;

/// A place in a scenario file: 1-based line and column (in characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Place {
    pub file: String,
    pub line: usize,
    pub col: usize,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

/// What is wrong in a scenario file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Problem {
    /// TOML syntax, an unknown key, a missing field or a value of the wrong
    /// type, in the parser's words.
    #[error("{0}")]
    Shape(String),
    #[error("{text:?} is not a duration such as 500ms, 10s, 2m ({reason})")]
    BadDuration { text: String, reason: String },
    #[error("{text:?} is longer than {}, the longest duration a scenario takes", crate::duration::MAX_TEXT)]
    DurationTooLong { text: String },
    #[error("time_scale must be a number from 1 to {max}, not {}", show_number(*.value))]
    TimeScale { value: f64, max: f64 },
    #[error("{field} must be 0 or more, not {value}")]
    Negative { field: &'static str, value: i64 },
    #[error("tag {0:?}: a tag is a lowercase word of letters, digits, - and _ (such as \"firewall\")")]
    BadTag(String),
    #[error("topology.servers is empty: a scenario needs at least one server")]
    NoServers,
    #[error("two servers are named {0:?}")]
    DuplicateServer(String),
    #[error("no server named {name:?} (servers: {known})")]
    UnknownServer { name: String, known: String },
    #[error("{0}")]
    BadVersion(String),
    #[error("{0:?} is not a loopback address: the harness runs on loopback only")]
    NotLoopback(String),
    #[error("cert {0:?}: expected none, expired, not-yet-valid, foreign-ca or missing-name")]
    BadCert(String),
    #[error("cert needs tls = true")]
    CertWithoutTls,
    #[error("link {0:?} is not \"A -> B\" or \"A <-> B\"")]
    BadLink(String),
    #[error("link {link} does not go through the fault proxy ({why}; see [topology.proxy])")]
    NotProxied { link: String, why: &'static str },
    #[error("fault type {given:?}: expected one of {known}")]
    UnknownFaultType { given: String, known: String },
    /// A field of the fault refused by the fault proxy's own checks
    /// (bounds, unknown attribute, wrong type), named as the file names it.
    #[error("{field}: {}", detail(.error))]
    FaultField { field: String, error: FieldError },
    /// Anything else the fault proxy refuses in a fault.
    #[error("fault: {0}")]
    Fault(String),
    #[error("flap.{which}: {text} is under 1 ms of real time at time_scale {scale}")]
    FlapTooShort { which: &'static str, text: String, scale: f64 },
    #[error("a fault takes flap or schedule, not both")]
    FlapAndSchedule,
    #[error("until takes exactly one of logged, link_up, link_down")]
    UntilShape,
    #[error("until.logged needs until.server")]
    LoggedWithoutServer,
    #[error("until.{0} goes with until.logged only")]
    UntilStray(&'static str),
    #[error("action \"dns\" takes unresolvable = true or address = \"127.0.0.N\"")]
    DnsShape,
    #[error("unknown verdict id {0:?} (see `replharness verdicts`)")]
    UnknownVerdict(String),
    #[error("each [[expect]] takes exactly one of id or absent")]
    ExpectShape,
    /// A step (or key) the chosen network cannot play; `why` names the
    /// network and the way out.
    #[error("{why}")]
    NotOnNetwork { network: &'static str, why: String },
    /// A kernel-only fault written wrong (`loss`, `reject_with`).
    #[error("{0}")]
    KernelFault(String),
    /// `[topology.proxy] api`: not a proxy API address.
    #[error("{0}")]
    ProxyApi(String),
}

/// A number as people write it: `1e300`, not three hundred digits.
pub fn show_number(x: f64) -> String {
    if x.is_finite() && x.abs() < 1e9 {
        x.to_string()
    } else {
        format!("{x:e}")
    }
}

/// A fault proxy field error without its own field prefix (the file's name
/// for the field is printed instead).
fn detail(e: &FieldError) -> String {
    let text = e.to_string();
    text.strip_prefix(&format!("{}: ", e.field())).map(str::to_owned).unwrap_or(text)
}

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A scenario file that is not valid.
    #[error(transparent)]
    Invalid(Box<Invalid>),
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("no scenario matches {0}")]
    NoMatch(String),
    #[error("--analyzer {command:?}: {reason}")]
    AnalyzerCommand { command: String, reason: String },
    /// Two scenarios of one run share a name (shards, reports and JUnit key on names).
    #[error("two scenarios are named {name:?}: {first} and {second} (names must be unique in a run)")]
    DuplicateName { name: String, first: String, second: String },
    /// A JSON Lines report that cannot be read back whole (`report merge`).
    #[error("{file}{}: {problem}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Report { file: String, line: Option<usize>, problem: String },
    /// Shard reports that do not make one run together.
    #[error("the shard reports do not make one run: {0}")]
    Shards(String),
    /// An external proxy API: an address refused (bad input), or what went
    /// wrong with it while a scenario ran.
    #[error(transparent)]
    ProxyApi(#[from] crate::proxy_api::ApiError),

    // While a scenario runs: the scenario fails with this.
    #[error(transparent)]
    Harness(#[from] harness::HarnessError),
    /// The kernel network (`--network netns`): the machine cannot run it or
    /// a flag goes against it (bad input), or a lab or rule failed while a
    /// scenario ran.
    #[error(transparent)]
    Network(#[from] crate::network::NetworkError),
    #[error("the topology did not come up: {}", .0.join(", "))]
    NotUp(Vec<String>),
    #[error("proxy {link}: {source}")]
    Proxy { link: String, source: fault_proxy::ProxyError },
    /// A step that failed while it ran, with the step's place in its file.
    #[error("{place}: step {action}: {source}")]
    Step { place: Place, action: &'static str, source: Box<Error> },
    #[error("waited {}s for {what}", waited.as_secs_f64())]
    WaitTimedOut { waited: Duration, what: String },
    #[error("deadline passed during {0}")]
    Deadline(String),
    #[error("case folder {}: {source}", path.display())]
    CaseFolder { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Diagnosis(#[from] diagnosis::DiagnosisError),
    #[error("analyzer {program:?} could not start: {source}")]
    AnalyzerStart { program: String, source: std::io::Error },
    #[error("analyzer exited with {status}{}", if stderr_tail.is_empty() { String::new() } else { format!(": {stderr_tail}") })]
    AnalyzerExit { status: ExitStatus, stderr_tail: String },
    #[error("analyzer timed out after {}s", .0.as_secs_f64())]
    AnalyzerTimeout(Duration),
    #[error("analyzer printed more than {} MiB on its standard output (the limit)", limit / (1024 * 1024))]
    AnalyzerOutputTooLarge { limit: usize },
    #[error("analyzer printed invalid JSON: {0}")]
    AnalyzerJson(#[source] serde_json::Error),
    #[error("analyzer: reading its output: {0}")]
    AnalyzerIo(#[source] std::io::Error),
}

/// A scenario file that is not valid: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{place}: {problem}")]
pub struct Invalid {
    pub place: Place,
    pub problem: Problem,
}

impl Error {
    /// A scenario file that is not valid at `place`.
    pub fn invalid(place: Place, problem: Problem) -> Error {
        Error::Invalid(Box::new(Invalid { place, problem }))
    }

    /// Bad input (exit 2), as opposed to a scenario that failed (exit 1).
    pub fn is_bad_input(&self) -> bool {
        if let Error::Network(e) = self {
            return e.is_bad_input();
        }
        matches!(
            self,
            Error::Invalid(_)
                | Error::Read { .. }
                | Error::NoMatch(_)
                | Error::AnalyzerCommand { .. }
                | Error::DuplicateName { .. }
                | Error::Report { .. }
                | Error::Shards(_)
        ) || matches!(self, Error::ProxyApi(e) if e.is_bad_input())
    }

    /// The place and problem of an invalid file.
    pub fn problem(&self) -> Option<(&Place, &Problem)> {
        match self {
            Error::Invalid(i) => Some((&i.place, &i.problem)),
            _ => None,
        }
    }
}

/// What went wrong with the user's input, for the binary's other
/// subcommands (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

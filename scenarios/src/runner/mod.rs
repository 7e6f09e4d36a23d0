//! Runs one planned scenario: brings the topology up in-process on loopback
//! with the fault proxy on the planned links ([`world`]), plays the timeline
//! on the virtual clock ([`act`]), runs the probes, writes the case folder
//! ([`case`]), asks the engine (or an external analyzer) for verdicts and
//! compares them with the expectations. Waits are on conditions (a line
//! logged, a link up), bounded by the step's timeout and the deadline.

pub(crate) mod act;
pub(crate) mod case;
pub(crate) mod r389;
pub(crate) mod world;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tracing::Instrument as _;

use crate::error::Error;
use crate::plan::Plan;
use crate::{analyzer, expect, probe};

/// How scenarios are judged.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub seed: u64,
    /// An external analyzer's command words; `None`: the built-in engine.
    pub analyzer: Option<Vec<String>>,
    pub analyzer_timeout: Duration,
    /// Keep each case folder under this directory.
    pub keep: Option<PathBuf>,
    /// Link proxies on an external API (`--proxy-api`), and its settings.
    pub proxy_api: crate::proxy_api::Settings,
}

impl RunOptions {
    /// The built-in engine, case folders not kept, the in-process proxy.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            analyzer: None,
            analyzer_timeout: Duration::from_secs(60),
            keep: None,
            proxy_api: crate::proxy_api::Settings::default(),
        }
    }
}

/// What happened to one scenario.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub name: String,
    pub file: String,
    pub tags: Vec<String>,
    pub seed: u64,
    pub passed: bool,
    /// Expected vs got, one entry per unmet expectation, or the error.
    pub failures: Vec<String>,
    pub verdicts: Vec<diagnosis::Verdict>,
    pub seconds: f64,
    pub case_dir: Option<PathBuf>,
}

/// A seed when none is given: the clock's nanoseconds and the process id.
pub fn seed_from_clock() -> u64 {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    (t.as_nanos() as u64) ^ u64::from(std::process::id())
}

/// The per-scenario seed: the file's own, or one drawn from the run's seed and the name.
pub fn scenario_seed(run_seed: u64, plan: &Plan) -> u64 {
    plan.seed.unwrap_or_else(|| {
        plan.name
            .bytes()
            .fold(run_seed ^ 0x9E37_79B9_7F4A_7C15, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
    })
}

/// What the scenario is doing now, for a deadline's message.
#[derive(Debug, Clone, Default)]
pub(crate) struct Stage(Arc<Mutex<String>>);

impl Stage {
    pub(crate) fn set(&self, what: impl Into<String>) {
        if let Ok(mut g) = self.0.lock() {
            *g = what.into();
        }
    }

    pub(crate) fn get(&self) -> String {
        self.0.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// Runs one scenario, in a `scenario{name,seed}` span.
pub async fn run(plan: &Plan, opts: &RunOptions) -> Outcome {
    let seed = scenario_seed(opts.seed, plan);
    let span = tracing::info_span!("scenario", name = %plan.name, seed);
    run_seeded(plan, opts, seed).instrument(span).await
}

async fn run_seeded(plan: &Plan, opts: &RunOptions, seed: u64) -> Outcome {
    let started = Instant::now();
    let stage = Stage::default();
    let mut outcome = Outcome {
        name: plan.name.clone(),
        file: plan.file.clone(),
        tags: plan.tags.clone(),
        seed,
        passed: false,
        failures: Vec::new(),
        verdicts: Vec::new(),
        seconds: 0.0,
        case_dir: None,
    };
    let until = tokio::time::Instant::now() + plan.deadline;
    // The deadline is enforced inside (so the topology is always shut down);
    // this bound only catches a shutdown that itself hangs.
    match tokio::time::timeout(plan.deadline + Duration::from_secs(30), play(plan, seed, opts, &stage, until)).await {
        Ok(Ok(judged)) => {
            outcome.passed = judged.failures.is_empty();
            outcome.failures = judged.failures;
            outcome.verdicts = judged.verdicts;
            outcome.case_dir = judged.kept;
        }
        Ok(Err(e)) => outcome.failures.push(e.to_string()),
        Err(_) => outcome.failures.push(format!(
            "deadline of {}s passed during {}, and the shutdown did not finish",
            plan.deadline.as_secs_f64(),
            stage.get()
        )),
    }
    tracing::debug!(passed = outcome.passed, "scenario done");
    outcome.seconds = started.elapsed().as_secs_f64();
    outcome
}

/// Verdicts, unmet expectations, the kept case folder.
struct Judged {
    verdicts: Vec<diagnosis::Verdict>,
    failures: Vec<String>,
    kept: Option<PathBuf>,
}

async fn play(
    plan: &Plan,
    seed: u64,
    opts: &RunOptions,
    stage: &Stage,
    until: tokio::time::Instant,
) -> Result<Judged, Error> {
    if let Some(p) = &plan.r389 {
        return r389::play(plan, p, seed, opts, stage, until).await;
    }
    if let Some(ex) = &plan.exchange {
        let (verdicts, failures, kept) = crate::exchange::runner::play(plan, ex, seed, opts, stage, until).await?;
        return Ok(Judged { verdicts, failures, kept });
    }
    let world = world::World::up_with(plan, seed, &opts.proxy_api).await?;
    let body = async {
        act::timeline(plan, &world, stage).await?;
        stage.set("probes");
        let probes = match plan.probe_timeout {
            Some(wait) => probe::run(&world.mesh, wait).await,
            None => Vec::new(),
        };
        stage.set("writing the case folder");
        let case = case::CaseDir::new(opts.keep.as_deref(), &plan.name)?;
        case.write(&world.mesh, &probes)?;
        case.note_network(&world.network_note().await)?;
        if let Some(e) = world.kernel().and_then(|k| k.late_error()) {
            return Err(Error::Network(crate::network::NetworkError::Rule(e)));
        }
        stage.set("diagnosis");
        let verdicts = match &opts.analyzer {
            None => diagnosis::diagnose(case.path(), &diagnosis::Options::default())?.verdicts,
            Some(words) => analyzer::run(words, case.path(), opts.analyzer_timeout).await?,
        };
        let failures = expect::check(&plan.expect, &verdicts);
        Ok(Judged { verdicts, failures, kept: case.kept() })
    };
    let result = match tokio::time::timeout_at(until, body).await {
        Ok(r) => r,
        Err(_) => Err(Error::Deadline(stage.get())),
    };
    stage.set("shutdown");
    world.shutdown().await;
    result
}

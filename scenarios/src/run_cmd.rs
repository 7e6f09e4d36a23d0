//! `replharness run`: loads and filters the suite, runs it `--jobs` at a
//! time, prints a line per scenario as it finishes and a summary, writes the
//! reports. A closed standard output stops the run quietly, unless report
//! files are still to be written: then the run goes on without printing.

use std::path::Path;
use std::time::Instant;

use crate::cli::RunArgs;
use crate::error::BadInput;
use crate::out::Progress;
use crate::report::{RunReport, Scored};
use crate::runner::{self, Outcome, RunOptions};
use crate::{analyzer, external, report, selection};

/// Runs the suite; the exit code is 0 when every scenario passed, else 1.
pub async fn run(args: RunArgs) -> anyhow::Result<u8> {
    let mut selection = selection::select(&args.paths, &args.filter, args.partition)?;
    let network = network_first(&mut selection.plans, &args).await?;
    let analyzer_words = args.analyzer.as_deref().map(analyzer::split_command).transpose()?;
    let seed = args.seed.unwrap_or_else(runner::seed_from_clock);
    let mut out = Progress::new(args.report_json.is_some() || args.junit.is_some());
    let proxy_api = crate::proxy_api::Settings {
        url: args.proxy_api.clone(),
        allow_remote: args.allow_remote_proxy_api,
        timeout: args.proxy_api_timeout,
    };
    let servers = external::preflight(&proxy_api, &selection.plans).await?;
    out.print(&format!("seed: {seed} ({}, {} at a time)\n", selection.describe(), args.jobs))?;
    if let Some(line) = network {
        out.print(&format!("{line}\n"))?;
    }
    for server in servers.values() {
        out.print(&format!("link proxies on {server} ({})\n", server.abilities()))?;
    }
    let plans = &selection.plans;
    let opts = RunOptions {
        seed,
        analyzer: analyzer_words,
        analyzer_timeout: args.analyzer_timeout,
        keep: args.keep.clone(),
        proxy_api: proxy_api.clone(),
    };
    let started = Instant::now();
    let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(usize::from(args.jobs)));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, Outcome)>();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, plan) in plans.iter().cloned().enumerate() {
        let (sem, tx, opts) = (sem.clone(), tx.clone(), opts.clone());
        tasks.spawn(async move {
            let Ok(_permit) = sem.acquire().await else { return };
            let o = runner::run(&plan, &opts).await;
            let _ = tx.send((i, o));
        });
    }
    drop(tx);
    let mut outcomes: Vec<Option<Outcome>> = vec![None; plans.len()];
    while let Some((i, o)) = rx.recv().await {
        out.print(&report::progress(&o))?;
        outcomes[i] = Some(o);
    }
    while tasks.join_next().await.is_some() {}
    let outcomes: Vec<Outcome> = outcomes.into_iter().flatten().collect();
    let seconds = started.elapsed().as_secs_f64();
    out.print(&report::summary(&outcomes, seconds))?;
    let scenarios = outcomes
        .into_iter()
        .zip(selection.indices.iter().zip(plans))
        .map(|(outcome, (&index, plan))| Scored {
            outcome,
            index,
            shard: selection.partition,
            proxy_api: external::effective(&proxy_api, plan).map(ToString::to_string),
        })
        .collect();
    let run = RunReport {
        seed,
        analyzer: args.analyzer.clone(),
        seconds,
        partition: selection.partition,
        total: selection.total,
        proxy_api: proxy_api.url.as_ref().map(ToString::to_string),
        shards: Vec::new(),
        scenarios,
    };
    write_reports(&run, args.report_json.as_deref(), args.junit.as_deref())?;
    Ok(run.exit_code())
}

/// `--network` over the files' own choice; for a run with any scenario on
/// the netns network, the machine's check, the signal guard and the sweep
/// of killed runs' leftovers (a line to print about it).
async fn network_first(plans: &mut Vec<crate::plan::Plan>, args: &RunArgs) -> Result<Option<String>, crate::Error> {
    use crate::network::{Network, NetworkError};
    if let Some(n) = args.net.network {
        *plans = std::mem::take(plans).into_iter().map(|p| p.on_network(n)).collect::<Result<_, _>>()?;
    }
    if !plans.iter().any(|p| p.network == Network::Netns) {
        return Ok(None);
    }
    if args.proxy_api.is_some() {
        return Err(NetworkError::Refused(
            "--proxy-api goes with the proxy network: the netns network has no link proxies".into(),
        )
        .into());
    }
    Ok(Some(crate::network::prepare(std::time::Duration::ZERO).await?))
}

/// Writes `--report-json` and `--junit` where asked.
pub fn write_reports(run: &RunReport, json: Option<&Path>, junit: Option<&Path>) -> Result<(), BadInput> {
    if let Some(p) = json {
        std::fs::write(p, report::json_lines(run))
            .map_err(|e| BadInput(format!("--report-json {}: {e}", p.display())))?;
    }
    if let Some(p) = junit {
        std::fs::write(p, report::junit(run)).map_err(|e| BadInput(format!("--junit {}: {e}", p.display())))?;
    }
    Ok(())
}

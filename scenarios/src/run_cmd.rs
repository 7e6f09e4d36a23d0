//! `replharness run`: loads the suite, runs it with `--jobs` at once, prints a
//! line per scenario as it finishes and a summary, writes the reports.

use std::io::Write as _;
use std::time::Instant;

use crate::cli::RunArgs;
use crate::mesh_cmd::BadInput;
use crate::runner::{self, Outcome, RunOptions};
use crate::{analyzer, report, suite};

/// Runs the suite; the exit code is 0 when every scenario passed, else 1.
pub async fn run(args: RunArgs) -> anyhow::Result<u8> {
    let loaded = suite::load(&args.paths).map_err(|e| BadInput(e.to_string()))?;
    let chosen: Vec<_> = loaded
        .into_iter()
        .filter(|l| args.filter.as_ref().is_none_or(|f| l.scenario.name.contains(f.as_str())))
        .collect();
    if chosen.is_empty() {
        return Err(BadInput(format!("no scenario matches {:?}", args.filter.as_deref().unwrap_or(""))).into());
    }
    let analyzer_words = match &args.analyzer {
        Some(a) => {
            let w = analyzer::split_words(a).map_err(|e| BadInput(format!("--analyzer: {e}")))?;
            if w.is_empty() {
                return Err(BadInput("--analyzer is empty".into()).into());
            }
            Some(w)
        }
        None => None,
    };
    let seed = args.seed.unwrap_or_else(|| {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        t.as_nanos() as u64 ^ u64::from(std::process::id())
    });
    println!("seed: {seed} ({} scenarios, {} at a time)", chosen.len(), args.jobs);
    let opts =
        RunOptions { seed, analyzer: analyzer_words, analyzer_timeout: args.analyzer_timeout, keep: args.keep.clone() };
    let started = Instant::now();
    let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(usize::from(args.jobs)));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, Outcome)>();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, l) in chosen.iter().cloned().enumerate() {
        let (sem, tx, opts) = (sem.clone(), tx.clone(), opts.clone());
        tasks.spawn(async move {
            let Ok(_permit) = sem.acquire().await else { return };
            let span = tracing::info_span!("scenario", name = %l.scenario.name, seed = runner::scenario_seed(opts.seed, &l.scenario));
            let _e = span.enter();
            let o = runner::run(&l.scenario, &l.file, &l.text, &opts).await;
            let _ = tx.send((i, o));
        });
    }
    drop(tx);
    let mut outcomes: Vec<Option<Outcome>> = vec![None; chosen.len()];
    while let Some((i, o)) = rx.recv().await {
        print!("{}", report::progress(&o));
        let _ = std::io::stdout().flush();
        outcomes[i] = Some(o);
    }
    while tasks.join_next().await.is_some() {}
    let outcomes: Vec<Outcome> = outcomes.into_iter().flatten().collect();
    let seconds = started.elapsed().as_secs_f64();
    print!("{}", report::summary(&outcomes, seconds));
    if let Some(p) = &args.report_json {
        std::fs::write(p, report::json_lines(&outcomes, seed, args.analyzer.as_deref(), seconds))
            .map_err(|e| BadInput(format!("--report-json {}: {e}", p.display())))?;
    }
    if let Some(p) = &args.junit {
        std::fs::write(p, report::junit(&outcomes, seconds))
            .map_err(|e| BadInput(format!("--junit {}: {e}", p.display())))?;
    }
    Ok(if outcomes.iter().all(|o| o.passed) { 0 } else { 1 })
}

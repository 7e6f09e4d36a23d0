//! `replharness`: a thin binary over the `scenarios` library. Errors are
//! printed once here; bad input exits 2, a failed run 1, and a closed
//! standard output ends the program quietly with 0 (`scenarios::out`).

use std::io::IsTerminal as _;
use std::process::ExitCode;

use clap::Parser;
use scenarios::cli::{Cli, Command, ReportCommand};
use scenarios::mesh_cmd::{self, BadInput, MeshSettings};
use scenarios::out;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("replharness: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(dispatch(cli.command)) {
        Ok(code) => code,
        Err(e) if out::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("replharness: {e:#}");
            let bad_input =
                e.is::<BadInput>() || e.downcast_ref::<scenarios::Error>().is_some_and(scenarios::Error::is_bad_input);
            ExitCode::from(if bad_input { 2 } else { 1 })
        }
    }
}

async fn dispatch(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Run(args) => Ok(ExitCode::from(scenarios::run_cmd::run(args).await?)),
        Command::List(args) => scenarios::list_cmd::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Report(args) => match args.command {
            ReportCommand::Merge(m) => Ok(ExitCode::from(scenarios::merge_cmd::run(&m)?)),
        },
        Command::Lab(args) => {
            let settings = scenarios::lab::LabSettings::from_args(args)?;
            scenarios::lab::serve::run(settings, scenarios::lab::serve::stop_signal()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Diagnose(args) => {
            let mut options = diagnosis::Options::default();
            options.r389.lag_threshold =
                time::Duration::try_from(args.stall_lag_389).map_err(|e| BadInput(format!("--389-stall-lag: {e}")))?;
            let report =
                diagnosis::diagnose(&args.case, &options).map_err(|e| anyhow::Error::new(BadInput(e.to_string())))?;
            // spec/cli.md: nothing recognised is no verdict and bad input, with the files listed.
            if report.recognised_nothing() {
                return Err(anyhow::Error::new(BadInput(format!(
                    "nothing recognised in {}, so no verdict is given; what each file gave:\n{}",
                    args.case.display(),
                    diagnosis::report::nothing_recognised(&report).trim_end()
                ))));
            }
            if args.json {
                out::line(&serde_json::to_string_pretty(&report)?)?;
            } else {
                out::print(&diagnosis::report::human(&report))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Verdicts(args) => {
            if args.json {
                out::line(&serde_json::to_string_pretty(diagnosis::catalog::CATALOG)?)?;
            } else {
                let mut text = String::new();
                for d in diagnosis::catalog::CATALOG {
                    text.push_str(&format!("{:34} {:8} {}\n", d.id, d.severity.name(), d.when));
                }
                out::print(&text)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Mesh(args) if args.flavor == "exchange" => scenarios::exchange::mesh::command(args).await,
        Command::Mesh(args) if args.flavor == "389" => scenarios::r389::mesh::command(args).await,
        Command::ExchangeDay(args) => scenarios::exchange::day_command(args).await,
        Command::Mesh(args) => {
            let settings = MeshSettings::try_from(args)?;
            out::line(&format!("seed: {}", settings.seed))?;
            let report = mesh_cmd::run(&settings).await?;
            let mut text = mesh_cmd::render(&report);
            if let Some(dir) = &settings.case_out {
                text.push_str(&format!("\ncase folder: {}\n", dir.display()));
            }
            if report.missing.is_empty() {
                text.push_str("\nall links up\n");
                out::print(&text)?;
                Ok(ExitCode::SUCCESS)
            } else {
                out::print(&text)?;
                eprintln!("\nnot up after {:?}:", settings.settle_timeout);
                for m in &report.missing {
                    eprintln!("  {m}");
                }
                Ok(ExitCode::from(1))
            }
        }
    }
}

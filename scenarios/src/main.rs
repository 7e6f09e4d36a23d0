//! `replharness`: a thin binary over the `scenarios` library.

use std::process::ExitCode;

use clap::Parser;
use scenarios::cli::{Cli, Command};
use scenarios::mesh_cmd::{self, BadInput, MeshSettings};

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
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
        Err(e) => {
            eprintln!("replharness: {e:#}");
            ExitCode::from(if e.is::<BadInput>() { 2 } else { 1 })
        }
    }
}

async fn dispatch(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Run(args) => Ok(ExitCode::from(scenarios::run_cmd::run(args).await?)),
        Command::Diagnose(args) => {
            let report = diagnosis::diagnose(&args.case, &diagnosis::Options::default())
                .map_err(|e| anyhow::Error::new(BadInput(e.to_string())))?;
            // spec/cli.md: nothing recognised is no verdict and bad input, with the files listed.
            if report.recognised_nothing() {
                return Err(anyhow::Error::new(BadInput(format!(
                    "nothing recognised in {}, so no verdict is given; what each file gave:\n{}",
                    args.case.display(),
                    diagnosis::report::nothing_recognised(&report).trim_end()
                ))));
            }
            if args.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", diagnosis::report::human(&report));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Verdicts(args) => {
            if args.json {
                println!("{}", serde_json::to_string_pretty(diagnosis::catalog::CATALOG)?);
            } else {
                for d in diagnosis::catalog::CATALOG {
                    println!("{:34} {:8} {}", d.id, d.severity.name(), d.when);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Mesh(args) => {
            let settings = MeshSettings::try_from(args)?;
            println!("seed: {}", settings.seed);
            let report = mesh_cmd::run(&settings).await?;
            print!("{}", mesh_cmd::render(&report));
            if let Some(dir) = &settings.case_out {
                println!("\ncase folder: {}", dir.display());
            }
            if report.missing.is_empty() {
                println!("\nall links up");
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("\nnot up after {:?}:", settings.settle_timeout);
                for m in &report.missing {
                    eprintln!("  {m}");
                }
                Ok(ExitCode::from(1))
            }
        }
    }
}

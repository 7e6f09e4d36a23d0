//! `fault-proxy`: the standalone TCP fault proxy with its control API.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use fault_proxy::{api, config, Options, ProxyServer};

#[derive(Debug, Parser)]
#[command(
    name = "fault-proxy",
    version,
    about = "A Toxiproxy-compatible TCP fault proxy that also blocks ports like a firewall"
)]
struct Args {
    /// Address of the control API.
    #[arg(long, default_value = "127.0.0.1:8474")]
    api: SocketAddr,
    /// JSON file of proxies (Toxiproxy's format), with their toxics.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Seed for every random choice (default: from the clock; printed at start).
    #[arg(long)]
    seed: Option<u64>,
    /// Allow the API and proxies to listen on non-loopback addresses.
    #[arg(long)]
    allow_remote: bool,
    /// How long an upstream dial may take, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    dial_timeout_ms: u64,
    /// Threads that move bytes and serve the API (default 1: measured on 2
    /// cores, one thread opened connections faster, moved bulk as fast and
    /// spent half the CPU per round trip of two).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    threads: Option<u16>,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        // Colours for a terminal only: a log file or a pipe gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let args = Args::parse();
    // Two descriptors per connection: take every one the hard limit allows.
    match fault_proxy::fds::raise_limit() {
        Ok(l) => tracing::info!(
            "descriptor limit: {} (soft, was {}; hard {}): about {} connections",
            show(l.soft),
            show(l.before),
            show(l.hard),
            l.soft.map_or("unlimited".to_owned(), |n| fault_proxy::fds::max_connections(n).to_string())
        ),
        Err(e) => tracing::warn!("cannot raise the descriptor limit: {e}"),
    }
    let threads = args.threads.map_or(1, usize::from);
    let built = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build()
    };
    let rt = match built {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("fault-proxy: {e}");
            return ExitCode::from(1);
        }
    };
    match rt.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fault-proxy: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn show(n: Option<u64>) -> String {
    n.map_or("unlimited".to_owned(), |n| n.to_string())
}

async fn run(args: Args) -> anyhow::Result<()> {
    if !args.api.ip().is_loopback() && !args.allow_remote {
        anyhow::bail!("--api {} is not a loopback address: pass --allow-remote to expose the API", args.api);
    }
    let seed = args.seed.unwrap_or_else(|| {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        t.as_nanos() as u64 ^ u64::from(std::process::id())
    });
    let server = ProxyServer::new(Options {
        seed,
        dial_timeout: Duration::from_millis(args.dial_timeout_ms),
        allow_remote: args.allow_remote,
    });
    if let Some(path) = &args.config {
        let specs = config::load(path)?;
        let proxies =
            server.populate(specs).await.map_err(|(e, _)| e).with_context(|| format!("{}", path.display()))?;
        for p in proxies {
            println!(
                "proxy {}: {} -> {} ({} faults)",
                p.name(),
                p.listen_addr().map(|a| a.to_string()).unwrap_or_default(),
                p.upstream(),
                p.faults().len()
            );
        }
    }
    let listener = tokio::net::TcpListener::bind(args.api).await.with_context(|| format!("API on {}", args.api))?;
    println!("fault-proxy {} API on http://{} seed {seed}", env!("CARGO_PKG_VERSION"), listener.local_addr()?);
    let app = api::app(server.clone());
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    server.shutdown().await;
    Ok(())
}

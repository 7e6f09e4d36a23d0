//! `replharness lab` as a program: bind the page's address, bring the lab
//! up, print the URL as standard output's first line, serve until the stop
//! signal (Ctrl-C or SIGTERM), then shut everything down cleanly: event
//! streams end, the web server drains, every server stops, every proxy closes.

use std::fmt::Write as _;
use std::future::{Future, IntoFuture};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::net::TcpListener;

use super::api::app;
use super::args::LabSettings;
use super::state::Lab;

/// How long open HTTP connections get to finish at shutdown.
const DRAIN: Duration = Duration::from_secs(5);

/// Why the lab could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: SocketAddr, source: std::io::Error },
    #[error(transparent)]
    Start(#[from] crate::Error),
    #[error("the web server failed: {0}")]
    Serve(std::io::Error),
}

/// The address a browser opens: a wildcard listen is reached on loopback.
pub fn url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}/", SocketAddr::new(ip, addr.port()))
}

/// Ctrl-C or SIGTERM, whichever comes first.
pub async fn stop_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!("cannot wait for Ctrl-C ({e}); SIGTERM still stops the lab");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            },
            Err(e) => {
                tracing::warn!("cannot wait for SIGTERM ({e}); Ctrl-C still stops the lab");
                ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await;
}

/// What standard output says after the URL.
fn banner(lab: &Lab) -> String {
    let s = lab.settings();
    let mut text = format!("seed: {}\n", s.seed);
    let _ = writeln!(text, "lab: {} at time scale {}", s.source, s.plan.time_scale);
    let _ = writeln!(text, "case folder: {}", lab.case_folder().display());
    for c in &s.plan.servers {
        let _ = writeln!(text, "  {:10} {} ({})", c.name, c.bind_ip(), c.host);
    }
    text.push_str("Ctrl-C stops the lab\n");
    text
}

/// Runs the lab until `stop` resolves.
pub async fn run(settings: LabSettings, stop: impl Future<Output = ()>) -> Result<(), ServeError> {
    let addr = settings.listen;
    let listener = TcpListener::bind(addr).await.map_err(|source| ServeError::Listen { addr, source })?;
    let bound = listener.local_addr().map_err(|source| ServeError::Listen { addr, source })?;
    let lab = Lab::start(settings).await?;
    // The URL first: scripts read one line and open it. A reader that goes
    // away afterwards does not stop the lab.
    if let Err(e) = crate::out::line(&url(bound)).and_then(|()| crate::out::print(&banner(&lab))) {
        tracing::debug!("standard output closed: {e}");
    }
    let cancel = lab.cancel_token();
    let server = axum::serve(listener, app(lab.clone()))
        .with_graceful_shutdown(async move { cancel.cancelled().await })
        .into_future();
    let mut serving = tokio::spawn(server);
    let failed = tokio::select! {
        _ = stop => None,
        r = &mut serving => Some(r),
    };
    eprintln!("replharness lab: stopping");
    lab.shutdown().await;
    let result = match failed {
        Some(Ok(Err(e))) => Err(ServeError::Serve(e)),
        Some(_) => Ok(()),
        None => match tokio::time::timeout(DRAIN, &mut serving).await {
            Ok(Ok(Err(e))) => Err(ServeError::Serve(e)),
            Ok(_) => Ok(()),
            Err(_) => {
                tracing::warn!("HTTP connections still open after {DRAIN:?}; closing them");
                serving.abort();
                Ok(())
            }
        },
    };
    eprintln!("replharness lab: stopped");
    result
}

//! Prometheus text (format 0.0.4, as Toxiproxy serves it) of a registry's
//! counters, encoded by `prometheus-client`:
//!
//! - `toxiproxy_proxy_received_bytes_total` and `toxiproxy_proxy_sent_bytes_total`,
//!   counters labelled `direction`, `listener`, `proxy`, `upstream`, as Toxiproxy names them;
//! - `fault_proxy_connections`, `fault_proxy_tasks` and `fault_proxy_toxics`,
//!   gauges labelled `proxy`;
//! - `fault_proxy_refused_connections_total`, a counter labelled `proxy`:
//!   clients closed at once because descriptors ran out ([`crate::fds`]).
//!
//! The proxies keep their own atomic counters (the pumps count every chunk;
//! proxies come and go at run time), so a scrape reads them into a
//! [`Collector`] of constant metrics rather than keeping a second set of
//! counters in step: series come out in the registry's order (proxies by
//! name, `upstream` before `downstream`), the same at every scrape.

use std::fmt;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::Registry;

use crate::registry::ProxyServer;
use crate::toxic::Direction;

/// The `Content-Type` of [`render`]'s text.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// One proxy's numbers at the moment of a scrape.
#[derive(Debug)]
struct Row {
    proxy: String,
    listener: String,
    upstream: String,
    /// Per direction, upstream then downstream.
    received: [u64; 2],
    sent: [u64; 2],
    connections: usize,
    tasks: usize,
    toxics: usize,
    refused: u64,
}

/// Every proxy's numbers at the moment of a scrape.
#[derive(Debug)]
struct Scrape(Vec<Row>);

const DIRECTIONS: [Direction; 2] = [Direction::Upstream, Direction::Downstream];

/// A metric's name (without `_total`), help, and its value in a row.
type Metric<T> = (&'static str, &'static str, fn(&Row) -> T);

const BYTES: [Metric<[u64; 2]>; 2] = [
    ("toxiproxy_proxy_received_bytes", "Bytes read from the source side.", |r| r.received),
    ("toxiproxy_proxy_sent_bytes", "Bytes written to the destination side.", |r| r.sent),
];

const GAUGES: [Metric<usize>; 3] = [
    ("fault_proxy_connections", "Live proxied connections.", |r| r.connections),
    ("fault_proxy_tasks", "Running tasks of a proxy.", |r| r.tasks),
    ("fault_proxy_toxics", "Installed toxics.", |r| r.toxics),
];

impl Collector for Scrape {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        for (name, help, pick) in BYTES {
            let mut metric = encoder.encode_descriptor(name, help, None, ConstCounter::<u64>::TYPE)?;
            for row in &self.0 {
                for dir in DIRECTIONS {
                    let labels = [
                        ("direction", dir.name()),
                        ("listener", row.listener.as_str()),
                        ("proxy", row.proxy.as_str()),
                        ("upstream", row.upstream.as_str()),
                    ];
                    ConstCounter::new(pick(row)[dir as usize]).encode(metric.encode_family(&labels)?)?;
                }
            }
        }
        let mut metric = encoder.encode_descriptor(
            "fault_proxy_refused_connections",
            "Clients closed at once because descriptors ran out.",
            None,
            ConstCounter::<u64>::TYPE,
        )?;
        for row in &self.0 {
            ConstCounter::new(row.refused).encode(metric.encode_family(&[("proxy", row.proxy.as_str())])?)?;
        }
        for (name, help, pick) in GAUGES {
            let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            for row in &self.0 {
                let value = i64::try_from(pick(row)).unwrap_or(i64::MAX);
                ConstGauge::new(value).encode(metric.encode_family(&[("proxy", row.proxy.as_str())])?)?;
            }
        }
        Ok(())
    }
}

/// The Prometheus text of every proxy of `server`.
pub fn render(server: &ProxyServer) -> String {
    let rows = server
        .list()
        .iter()
        .map(|p| {
            let counters = p.counters();
            let bytes = &p.0.bytes;
            Row {
                proxy: p.name().to_owned(),
                listener: p.0.listen(),
                upstream: p.upstream(),
                received: DIRECTIONS.map(|d| bytes.received(d)),
                sent: DIRECTIONS.map(|d| bytes.sent(d)),
                connections: counters.live_connections,
                tasks: counters.tasks,
                toxics: p.faults().len(),
                refused: counters.refused_connections,
            }
        })
        .collect();
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Scrape(rows)));
    let mut out = String::new();
    // Writing to a String cannot fail; an encoder error would be a bug in it.
    if let Err(e) = prometheus_client::encoding::prometheus_text::encode(&mut out, &registry) {
        tracing::error!("encoding metrics: {e}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{Options, ProxySpec};

    /// The text a scrape gave before prometheus-client (hand-written
    /// formatting): every name, label and value the same.
    #[tokio::test]
    async fn the_text_keeps_its_public_names_labels_and_escapes() {
        let server = ProxyServer::new(Options::default());
        let spec = ProxySpec { enabled: false, ..ProxySpec::new("a\"b\\c", "127.0.0.1:0", "up:1") };
        server.create(spec).await.expect("proxy");
        let text = render(&server);
        let want = r#"# HELP toxiproxy_proxy_received_bytes_total Bytes read from the source side.
# TYPE toxiproxy_proxy_received_bytes_total counter
toxiproxy_proxy_received_bytes_total{direction="upstream",listener="127.0.0.1:0",proxy="a\"b\\c",upstream="up:1"} 0
toxiproxy_proxy_received_bytes_total{direction="downstream",listener="127.0.0.1:0",proxy="a\"b\\c",upstream="up:1"} 0
# HELP toxiproxy_proxy_sent_bytes_total Bytes written to the destination side.
# TYPE toxiproxy_proxy_sent_bytes_total counter
toxiproxy_proxy_sent_bytes_total{direction="upstream",listener="127.0.0.1:0",proxy="a\"b\\c",upstream="up:1"} 0
toxiproxy_proxy_sent_bytes_total{direction="downstream",listener="127.0.0.1:0",proxy="a\"b\\c",upstream="up:1"} 0
# HELP fault_proxy_refused_connections_total Clients closed at once because descriptors ran out.
# TYPE fault_proxy_refused_connections_total counter
fault_proxy_refused_connections_total{proxy="a\"b\\c"} 0
# HELP fault_proxy_connections Live proxied connections.
# TYPE fault_proxy_connections gauge
fault_proxy_connections{proxy="a\"b\\c"} 0
# HELP fault_proxy_tasks Running tasks of a proxy.
# TYPE fault_proxy_tasks gauge
fault_proxy_tasks{proxy="a\"b\\c"} 0
# HELP fault_proxy_toxics Installed toxics.
# TYPE fault_proxy_toxics gauge
fault_proxy_toxics{proxy="a\"b\\c"} 0
"#;
        assert_eq!(text, want);
        server.shutdown().await;
    }
}

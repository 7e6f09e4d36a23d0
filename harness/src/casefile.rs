//! The case folder, as `spec/cli.md` defines it: `topology.toml` with
//! `collected_at`, and per server `servers/NAME/errors` and
//! `servers/NAME/replication`.

use std::path::Path;

use serde::Serialize;
use time::format_description::well_known::Rfc3339;

use crate::ds::mesh::Mesh;
use crate::error::HarnessError;

#[derive(Debug, Serialize)]
struct CaseTopology {
    collected_at: String,
    servers: Vec<CaseServer>,
}

#[derive(Debug, Serialize)]
struct CaseServer {
    name: String,
    flavor: &'static str,
    version: String,
    host: String,
    addresses: Vec<String>,
    server_id: String,
    domains: Vec<String>,
    ports: CasePorts,
}

#[derive(Debug, Serialize)]
struct CasePorts {
    #[serde(skip_serializing_if = "Option::is_none")]
    replication: Option<u16>,
    admin: u16,
}

fn write(path: &Path, text: &str) -> Result<(), HarnessError> {
    std::fs::write(path, text).map_err(|source| HarnessError::Write { path: path.to_owned(), source })
}

fn lines(lines: Vec<String>) -> String {
    let mut out = lines.join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

/// Writes the mesh's case folder into `dir` (created if missing) as it is now.
pub fn write_case(mesh: &Mesh, dir: &Path) -> Result<(), HarnessError> {
    let mkdir =
        |p: &Path| std::fs::create_dir_all(p).map_err(|source| HarnessError::Write { path: p.to_owned(), source });
    mkdir(dir)?;
    let collected_at = mesh.clock().now().format(&Rfc3339).unwrap_or_default();
    let mut servers = Vec::new();
    for s in mesh.servers() {
        let cfg = s.config();
        let sdir = dir.join("servers").join(&cfg.name);
        mkdir(&sdir)?;
        write(&sdir.join("errors"), &lines(s.log().errors_lines()))?;
        write(&sdir.join("replication"), &lines(s.log().replication_lines()))?;
        // Public certificates only, never private keys.
        if let (true, Some(pki)) = (cfg.tls, mesh.pki()) {
            let cdir = sdir.join("certs");
            mkdir(&cdir)?;
            if let Some(pem) = pki.cert_pem(&cfg.name) {
                write(&cdir.join("server.pem"), pem)?;
            }
            write(&cdir.join("ca.pem"), pki.ca_pem())?;
        }
        servers.push(CaseServer {
            name: cfg.name.clone(),
            flavor: "ds",
            version: cfg.version.to_string(),
            host: cfg.host.clone(),
            addresses: cfg.addresses.iter().map(|a| a.to_string()).collect(),
            server_id: cfg.server_id.clone(),
            domains: cfg.domains.iter().map(|d| d.base_dn.clone()).collect(),
            ports: CasePorts { replication: cfg.rs.then_some(cfg.replication_port), admin: cfg.admin_port },
        });
    }
    let topo = CaseTopology { collected_at, servers };
    let text = toml::to_string(&topo).map_err(|e| HarnessError::Config(format!("topology.toml: {e}")))?;
    write(&dir.join("topology.toml"), &text)
}

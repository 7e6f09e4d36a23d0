//! Fix steps filled in from the case: host names, ports, base DNs, server ids,
//! version-specific reinitialize commands. What the case cannot know stays a
//! placeholder in angle brackets.

use crate::case::TopoServer;

/// How guidance names a DS server: what the case knows, or a placeholder.
impl TopoServer {
    pub fn host(&self) -> String {
        self.host.clone().unwrap_or_else(|| format!("<host of {}>", self.name))
    }

    pub fn repl_port(&self) -> String {
        self.replication_port.map_or_else(|| "<replication port>".into(), |p| p.to_string())
    }

    pub fn admin(&self) -> String {
        self.admin_port.map_or_else(|| "<admin port>".into(), |p| p.to_string())
    }

    pub fn id(&self) -> String {
        self.server_id.clone().unwrap_or_else(|| self.name.clone())
    }

    /// `ds-2 (ds-2.example.com)`, or the name alone.
    pub fn shown(&self) -> String {
        match &self.host {
            Some(h) if *h != self.name => format!("{} ({h})", self.name),
            _ => self.name.clone(),
        }
    }

    fn major_minor(&self) -> Option<(u32, u32)> {
        let v = self.version.as_deref()?;
        let mut it = v.split('.');
        Some((it.next()?.trim().parse().ok()?, it.next().and_then(|m| m.trim().parse().ok()).unwrap_or(0)))
    }
}

/// The reinitialize command(s) for `base_dn`, run against `source` (a server
/// with good data), initializing `target`. Without a version: the 7.1+ and
/// the 6.x shapes.
pub fn reinit(base_dn: &str, source: &TopoServer, target: &TopoServer) -> Vec<String> {
    let truststore = source.truststore.clone().unwrap_or_else(|| "<truststore path>".into());
    let ds7 = |pw_flag: &str| {
        format!(
            "dsrepl initialize --bindDN uid=admin --bindPassword <admin password> --baseDN {base_dn} --toServer {} --hostname {} --port {} --trustStorePath {truststore} {pw_flag} <truststore password file> --no-prompt",
            target.id(),
            source.host(),
            source.admin()
        )
    };
    let ds6 = format!(
        "dsreplication initialize --adminUID admin --adminPassword <admin password> --baseDN {base_dn} --hostSource {} --portSource {} --hostDestination {} --portDestination {} --trustAll --no-prompt",
        source.host(),
        source.admin(),
        target.host(),
        target.admin()
    );
    let version = target.major_minor().or_else(|| source.major_minor());
    match version {
        Some((major, minor)) if major > 7 || (major == 7 && minor >= 1) => vec![ds7("--trustStorePassword:file")],
        Some((7, _)) => vec![ds7("--trustStorePasswordFile")],
        Some(_) => vec![ds6],
        None => vec![format!("DS 7.1 and later: {}", ds7("--trustStorePassword:file")), format!("DS 6.x: {ds6}")],
    }
}

/// "From every server" connectivity tests of `host:port`.
pub fn connectivity(host: &str, port: &str) -> String {
    format!("From every server, test the port: openssl s_client -connect {host}:{port} and telnet {host} {port}")
}

/// `dsconf` reinitialization of a 389 agreement.
pub fn reinit_389(instance: &str, suffix: &str, agreement: &str) -> String {
    format!("dsconf {instance} repl-agmt init --suffix {suffix} {agreement}")
}

/// Messages a day across an Exchange 5.5 organization: N × ((N−1) × 2 × F × 2).
pub fn exchange_messages_a_day(sites: u64, activations: u64) -> u64 {
    sites * (sites.saturating_sub(1) * 2 * activations * 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn srv(name: &str, version: Option<&str>) -> TopoServer {
        TopoServer {
            name: name.into(),
            server_id: Some(name.into()),
            host: Some(format!("{name}.example.com")),
            version: version.map(str::to_owned),
            admin_port: Some(4444),
            replication_port: Some(8989),
            ..TopoServer::default()
        }
    }

    #[test]
    fn commands_follow_the_version() {
        let c = reinit("dc=example,dc=com", &srv("ds-1", Some("7.1.2")), &srv("ds-2", Some("7.1.2")));
        assert_eq!(c.len(), 1);
        assert!(c[0].starts_with("dsrepl initialize --bindDN uid=admin --bindPassword <admin password> --baseDN dc=example,dc=com --toServer ds-2 --hostname ds-1.example.com --port 4444"));
        assert!(c[0].contains("--trustStorePassword:file"));
        let c = reinit("dc=x", &srv("a", Some("7.0")), &srv("b", Some("7.0")));
        assert!(c[0].contains("--trustStorePasswordFile"));
        let c = reinit("dc=x", &srv("a", Some("6.5")), &srv("b", Some("6.5")));
        assert!(c[0].starts_with("dsreplication initialize --adminUID admin"));
        assert!(c[0].contains(
            "--hostSource a.example.com --portSource 4444 --hostDestination b.example.com --portDestination 4444"
        ));
        let c = reinit("dc=x", &srv("a", None), &srv("b", None));
        assert_eq!(c.len(), 2, "no version: both shapes");
    }

    #[test]
    fn the_messages_a_day_table() {
        assert_eq!(exchange_messages_a_day(10, 8), 2880);
        assert_eq!(exchange_messages_a_day(20, 8), 12160);
        assert_eq!(exchange_messages_a_day(30, 8), 27840);
    }
}

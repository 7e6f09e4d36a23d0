//! DS fix steps: the first step for each cause of `ds.rs-peer-unreachable`,
//! and the version-specific reinitialize commands, filled from the case.

use time::OffsetDateTime;

use crate::case::TopoServer;

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
    match target.major_minor().or_else(|| source.major_minor()) {
        Some((major, minor)) if major > 7 || (major == 7 && minor >= 1) => vec![ds7("--trustStorePassword:file")],
        Some((7, _)) => vec![ds7("--trustStorePasswordFile")],
        Some(_) => vec![ds6],
        None => vec![format!("DS 7.1 and later: {}", ds7("--trustStorePassword:file")), format!("DS 6.x: {ds6}")],
    }
}

/// `192.0.2.10, 192.0.2.11`, or a placeholder.
fn addresses(s: &TopoServer) -> String {
    if s.addresses.is_empty() {
        "<its address>".into()
    } else {
        s.addresses.join(", ")
    }
}

/// The steps for the cause found, before the connectivity test: `s` is the
/// subject's server, `p` the peer; `detail` what the cause names (the wrong
/// address, the TLS defect).
pub fn unreachable_steps(
    cause: &str,
    detail: Option<&str>,
    s: &TopoServer,
    p: &TopoServer,
    failed_at: Option<OffsetDateTime>,
) -> Vec<String> {
    let port = p.repl_port();
    let host = p.host();
    let first = match cause {
        "remote-down" => format!(
            "Start the replication server on {} and check that it listens on port {port}: nothing answers there and its log shows no listener running{}",
            p.shown(),
            failed_at.map(|t| format!(" since {}", crate::fmt_time(t))).unwrap_or_default()
        ),
        "firewall-reject" => format!(
            "Open TCP port {port} from {} to {host} in the firewall between the two hosts: connections are refused while the replication server on {} runs",
            s.shown(),
            p.name
        ),
        "firewall-drop" => format!(
            "Open TCP port {port} from {} to {host} in the firewall between the two hosts: connections get no answer (a firewall drops them)",
            s.shown()
        ),
        "dns-unresolvable" => format!(
            "Fix name resolution: {host} does not resolve from {}; add its DNS record (or a hosts entry) with {}'s own address {}",
            s.name,
            p.name,
            addresses(p)
        ),
        "dns-wrong-address" => format!(
            "Fix the DNS record of {host}: from {} it resolves to {}, which is not an address of {} ({})",
            s.name,
            detail.unwrap_or("another address"),
            p.name,
            addresses(p)
        ),
        "tls-handshake" => format!(
            "Fix the certificate or the truststore: the TLS handshake from {} with {host}:{port} fails ({}); check it with openssl s_client -connect {host}:{port} -showcerts",
            s.name,
            detail.unwrap_or("see the probe")
        ),
        _ => format!(
            "Confirm the replication server on {} runs; check the firewalls between {} and {} for the replication port {port} and the admin port {}; check that {host} resolves, from {}, to an address of {}",
            p.shown(),
            s.name,
            p.name,
            p.admin(),
            s.name,
            p.name
        ),
    };
    let mut steps = vec![first];
    if cause.starts_with("firewall") {
        steps.push(format!("Open the admin port {} as well: the reinitialize command below uses it", p.admin()));
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guidance::command_flags;

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

    fn flag<'a>(flags: &[(&str, &'a str)], name: &str) -> Option<&'a str> {
        flags.iter().find(|(f, _)| *f == name).map(|(_, v)| *v)
    }

    #[test]
    fn commands_follow_the_version() {
        let c = reinit("dc=example,dc=com", &srv("ds-1", Some("7.1.2")), &srv("ds-2", Some("7.1.2")));
        assert_eq!(c.len(), 1);
        let f = command_flags(&c[0], "dsrepl initialize").expect("dsrepl from 7.1");
        assert_eq!(flag(&f, "--baseDN"), Some("dc=example,dc=com"));
        assert_eq!(flag(&f, "--toServer"), Some("ds-2"), "the target");
        assert_eq!(flag(&f, "--hostname"), Some("ds-1.example.com"), "run against the source");
        assert_eq!(flag(&f, "--port"), Some("4444"), "the source's admin port");
        assert_eq!(flag(&f, "--bindPassword"), Some("<admin password>"), "what the case cannot know");
        assert!(flag(&f, "--trustStorePassword:file").is_some());
        assert!(flag(&f, "--trustStorePasswordFile").is_none());

        let c = reinit("dc=x", &srv("a", Some("7.0")), &srv("b", Some("7.0")));
        let f = command_flags(&c[0], "dsrepl initialize").expect("dsrepl in 7.0");
        assert!(flag(&f, "--trustStorePasswordFile").is_some(), "7.0's flag");

        let c = reinit("dc=x", &srv("a", Some("6.5")), &srv("b", Some("6.5")));
        let f = command_flags(&c[0], "dsreplication initialize").expect("dsreplication before 7");
        assert_eq!(flag(&f, "--hostSource"), Some("a.example.com"));
        assert_eq!(flag(&f, "--portSource"), Some("4444"));
        assert_eq!(flag(&f, "--hostDestination"), Some("b.example.com"));
        assert_eq!(flag(&f, "--portDestination"), Some("4444"));

        let c = reinit("dc=x", &srv("a", None), &srv("b", None));
        assert_eq!(c.len(), 2, "no version: both shapes");
        assert!(
            command_flags(&c[0], "dsrepl initialize").is_some()
                && command_flags(&c[1], "dsreplication initialize").is_some()
        );
    }

    #[test]
    fn a_firewall_cause_also_opens_the_admin_port() {
        let (s, p) = (srv("ds-1", None), srv("ds-2", None));
        let steps = unreachable_steps("firewall-drop", None, &s, &p, None);
        assert!(steps[0].contains("8989") && steps[0].contains("ds-2.example.com") && steps[0].contains("firewall"));
        assert!(steps[1].contains("4444"));
        let steps = unreachable_steps("dns-wrong-address", Some("127.0.0.99"), &s, &p, None);
        assert_eq!(steps.len(), 1);
        assert!(steps[0].contains("127.0.0.99") && steps[0].contains("ds-2.example.com"));
    }
}

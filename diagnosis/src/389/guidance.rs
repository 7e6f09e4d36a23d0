//! 389 fix steps, per verdict, with the agreement's own names: the
//! consumer's host and port, the suffix, the bind DN, `dsconf` commands.

use super::status::Status;
use crate::guidance::connectivity;

/// `dsconf` reinitialization of a 389 agreement.
pub fn reinit_389(instance: &str, suffix: &str, agreement: &str) -> String {
    format!("dsconf {instance} repl-agmt init --suffix {suffix} {agreement}")
}

/// The steps for `s` on agreement `agmt` of supplier `server`.
pub fn steps(
    s: &Status,
    server: &str,
    agmt: &str,
    host: &str,
    port: &str,
    suffix: &str,
    bind_dn: Option<&str>,
) -> Vec<String> {
    let reinit = reinit_389(server, suffix, agmt);
    let test = connectivity(host, port);
    let bind = bind_dn.unwrap_or("<bind DN>");
    match s.id {
        "389.healthy" | "389.protocol-stopped" => Vec::new(),
        "389.agreement-disabled" => vec![format!("Enable the agreement if replication is wanted: dsconf {server} repl-agmt enable --suffix {suffix} {agmt}")],
        "389.no-session-yet" => vec![format!(
            "Nothing to do while nothing changed: {server} restarted and has had nothing to send to {host}:{port} since. If changes made since do not reach the consumer, start a session by hand (dsconf {server} repl-agmt poke --suffix {suffix} {agmt}) and treat a status that stays like this as a stalled agreement"
        )],
        "389.replica-disabled" => vec![
            format!("Enable the consumer's replica for {suffix} on {host}:{port}: it answers the supplier that replication is disabled there"),
            "Then restart the consumer, as the server's own message says, for replication to take place".to_owned(),
        ],
        "389.connection-error" => {
            let how = match s.cause {
                Some("refused") => format!("the connection to {host}:{port} is refused: the consumer is down or a firewall rejects"),
                Some("timeout") => format!("the connection to {host}:{port} gets no answer: a firewall drops it, or the consumer is overloaded"),
                _ => format!("the supplier cannot reach {host}:{port}"),
            };
            vec![
                format!("Check that the consumer runs and that its port is reachable from {server} (firewall, DNS): {how}"),
                test,
                "Retries continue by themselves; once connected the agreement catches up".to_owned(),
            ]
        }
        "389.bind-failed" => vec![
            format!(
                "Not a network problem: the consumer refuses the agreement's password (LDAP error 49). Set the agreement's nsDS5ReplicaCredentials to the password of {bind} on the consumer {host}:{port}: dsconf {server} repl-agmt set --suffix {suffix} --bind-passwd <password> {agmt}, or reset that password on the consumer"
            ),
            format!("Check it: ldapsearch -H ldap://{host}:{port} -D \"{bind}\" -W -b \"\" -s base"),
        ],
        // conn_connect fails before any packet: TLS is not set up on the supplier
        // itself (its NSS is not initialized), whatever the consumer has.
        "389.ssl-not-enabled" => vec![
            format!(
                "Set up TLS on the supplier {server} (a server certificate in its NSS database, nsslapd-security: on, then a restart): without it the agreement {agmt} cannot open its LDAPS or StartTLS connection to {host}:{port}"
            ),
            format!("Or run the agreement over LDAP: dsconf {server} repl-agmt set --suffix {suffix} --conn-protocol LDAP {agmt}"),
            format!("Check that the consumer {host}:{port} accepts the transport chosen (its LDAPS port, or StartTLS)"),
        ],
        "389.timeout" => vec![format!("Check latency and load between {server} and {host}:{port}"), test],
        "389.transient-error" => vec!["None if it clears; investigate if it repeats".to_owned()],
        "389.remote-internal-error" => vec![format!("Read the consumer's errors log on {host}")],
        "389.permission-denied" => vec![format!(
            "Give the agreement's bind DN {bind} replication rights on the consumer {host}:{port} (the replica's bind DN or bind group for {suffix})"
        )],
        "389.no-replicated-area" => vec![format!("Enable replication for {suffix} on the consumer {host}:{port}")],
        "389.decode-error" => vec![format!("Check that {server} and {host} run compatible versions")],
        "389.replica-busy" | "389.backoff" => vec!["None: the supplier retries later".to_owned()],
        "389.legacy-supplier" => vec![format!("Remove the legacy supplier configuration on {host}")],
        "389.duplicate-replica-id" => vec![format!(
            "Give every supplier a unique replica id: {server} and {host} share one (nsDS5ReplicaId)"
        )],
        "389.acquire-failed" => vec![format!("Read both errors logs: {server}'s and {host}'s")],
        "389.csn-unavailable" => vec![format!("Restart the supplier {server}; check its changelog")],
        "389.consumer-not-initialized" => vec![format!("Initialize the consumer from the supplier: {reinit}")],
        "389.generation-id-mismatch" => vec![format!(
            "A data problem, not a network one: the consumer's data has another generation id. Reinitialize the consumer (or the supplier) so both share a generation: {reinit}"
        )],
        "389.needs-reinit" => vec![format!("Reinitialize the consumer: {reinit}")],
        "389.time-skew" => vec![format!("Synchronize the clocks (NTP) of {server} and {host}")],
        "389.csn-generator-error" => vec![format!("Restart {server}; check the clocks of both servers")],
        "389.changelog-error" => vec![format!("Check the changelog database of {server}; recreate it if it is corrupt")],
        "389.changelog-purged" => vec![
            format!("Reinitialize the consumer: {reinit}"),
            format!("Consider a longer changelog max age on {server} (nsslapd-changelogmaxage)"),
        ],
        "389.changelog-missing" => vec![format!("Reinitialize the consumer: {reinit}")],
        "389.send-failed" => vec![format!("Restart the supplier {server}; check its resources (threads, memory, disk)")],
        "389.agreement-corrupted" => vec![format!("Recreate the agreement {agmt} for {suffix}")],
        _ => Vec::new(),
    }
}

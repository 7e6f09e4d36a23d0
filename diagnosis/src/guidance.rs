//! Guidance helpers every family uses: how a server is named in a fix step
//! (what the case knows, or a placeholder in angle brackets) and the
//! connectivity test. Family-specific commands live in the family folders
//! (`ds/guidance.rs`, `389/guidance.rs`).

use crate::case::TopoServer;

/// How guidance names a server: what the case knows, or a placeholder.
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

    /// `7.1.2` → (7, 1); `6` → (6, 0).
    pub fn major_minor(&self) -> Option<(u32, u32)> {
        let v = self.version.as_deref()?;
        let mut it = v.split('.');
        Some((it.next()?.trim().parse().ok()?, it.next().and_then(|m| m.trim().parse().ok()).unwrap_or(0)))
    }
}

/// "From every server" connectivity tests of `host:port`.
pub fn connectivity(host: &str, port: &str) -> String {
    format!("From every server, test the port: openssl s_client -connect {host}:{port} and telnet {host} {port}")
}

/// The `--flag value` pairs of a command inside a guidance step (a value
/// in angle brackets may hold spaces: `<admin password>`). For tests that
/// assert facts rather than copied sentences.
pub fn command_flags<'a>(step: &'a str, command: &str) -> Option<Vec<(&'a str, &'a str)>> {
    let at = step.find(command)?;
    let mut rest = &step[at + command.len()..];
    let mut out = Vec::new();
    let mut flag: Option<&str> = None;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        let end = if rest.starts_with('<') {
            rest.find('>').map_or(rest.len(), |i| i + 1)
        } else {
            rest.find(char::is_whitespace).unwrap_or(rest.len())
        };
        let (tok, tail) = rest.split_at(end);
        rest = tail;
        if tok.starts_with("--") {
            if let Some(f) = flag.replace(tok) {
                out.push((f, ""));
            }
        } else if let Some(f) = flag.take() {
            out.push((f, tok));
        } else if !out.is_empty() {
            break; // the command ended: prose follows
        }
    }
    if let Some(f) = flag {
        out.push((f, ""));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_of_a_command_with_placeholders() {
        let step =
            "Run: dsrepl initialize --bindDN uid=admin --bindPassword <admin password> --toServer ds-2 --no-prompt";
        let f = command_flags(step, "dsrepl initialize").expect("found");
        assert_eq!(
            f,
            [
                ("--bindDN", "uid=admin"),
                ("--bindPassword", "<admin password>"),
                ("--toServer", "ds-2"),
                ("--no-prompt", "")
            ]
        );
        assert_eq!(command_flags(step, "dsreplication"), None);
    }

    #[test]
    fn placeholders_for_what_the_case_does_not_know() {
        let s = TopoServer { name: "ds-9".into(), ..TopoServer::default() };
        assert_eq!(
            (s.host(), s.repl_port(), s.admin(), s.id()),
            ("<host of ds-9>".into(), "<replication port>".into(), "<admin port>".into(), "ds-9".into())
        );
        let v = |v: &str| TopoServer { version: Some(v.into()), ..TopoServer::default() }.major_minor();
        assert_eq!((v("7.1.2"), v("6"), v("x")), (Some((7, 1)), Some((6, 0)), None));
    }
}

//! Namespace names and who owns them.
//!
//! Every namespace a lab makes is named
//! `replharness-PID-START-LAB-ROLE`: the owning process's id and its start
//! time (field 22 of `/proc/PID/stat`, clock ticks since boot, so a reused
//! process id is not taken for the owner), the lab's number in that process,
//! and `sw` (the switch) or `hN-NAME` (test host N, the server's name made
//! safe). A run that finds such names whose owner is gone removes them;
//! a live owner's are never touched.

use std::fmt;

/// The prefix of every namespace this crate makes.
pub const PREFIX: &str = "replharness-";

/// A process, told apart from a later one that reuses its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Owner {
    pub pid: u32,
    /// Start time in clock ticks since boot.
    pub start: u64,
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.pid, self.start)
    }
}

/// Field 22 (`starttime`) of a `/proc/PID/stat` line. The command name
/// (field 2) is in parentheses and may hold spaces or parentheses itself,
/// so fields are counted after the last `)`.
pub fn start_time(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // After the name: field 3 (state) is the first; starttime is field 22.
    rest.split_whitespace().nth(22 - 3)?.parse().ok()
}

impl Owner {
    /// This process.
    pub fn me() -> Owner {
        let pid = std::process::id();
        let start = std::fs::read_to_string("/proc/self/stat").ok().as_deref().and_then(start_time).unwrap_or(0);
        Owner { pid, start }
    }

    /// Whether the process is still running (the same one: same start time).
    pub fn alive(&self) -> bool {
        match std::fs::read_to_string(format!("/proc/{}/stat", self.pid)) {
            Ok(stat) => start_time(&stat) == Some(self.start),
            Err(_) => false,
        }
    }
}

/// What a namespace's name says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub owner: Owner,
    pub lab: u64,
    pub role: String,
}

/// Reads a name made by [`name`]; `None` for any other name.
pub fn parse(name: &str) -> Option<Parsed> {
    let rest = name.strip_prefix(PREFIX)?;
    let mut parts = rest.splitn(4, '-');
    let pid = parts.next()?.parse().ok()?;
    let start = parts.next()?.parse().ok()?;
    let lab = parts.next()?.parse().ok()?;
    let role = parts.next().filter(|r| !r.is_empty())?.to_owned();
    Some(Parsed { owner: Owner { pid, start }, lab, role })
}

/// A server name as part of a namespace name: ASCII letters, digits and
/// `-`, at most 40 characters.
pub fn safe(server: &str) -> String {
    let s: String =
        server.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).take(40).collect();
    if s.is_empty() {
        "host".into()
    } else {
        s
    }
}

/// The name of a lab's namespace.
pub fn name(owner: Owner, lab: u64, role: &str) -> String {
    format!("{PREFIX}{owner}-{lab}-{role}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_is_field_22_even_with_spaces_in_the_command_name() {
        let stat = "4242 (tokio (runtime) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 3 0 987654 1000 50";
        assert_eq!(start_time(stat), Some(987654));
        assert_eq!(start_time("garbage"), None);
        assert_eq!(start_time("1 (x) S 1"), None);
    }

    #[test]
    fn this_process_is_alive_and_a_changed_start_time_is_not() {
        let me = Owner::me();
        assert!(me.start > 0, "/proc/self/stat readable");
        assert!(me.alive());
        assert!(!Owner { start: me.start + 1, ..me }.alive(), "a reused pid is another process");
        assert!(!Owner { pid: u32::MAX - 1, start: 1 }.alive());
    }

    #[test]
    fn names_round_trip_and_others_are_not_ours() {
        let o = Owner { pid: 31337, start: 123456 };
        let n = name(o, 7, &format!("h2-{}", safe("ds-Paris_1")));
        assert_eq!(n, "replharness-31337-123456-7-h2-ds-paris-1");
        assert_eq!(parse(&n), Some(Parsed { owner: o, lab: 7, role: "h2-ds-paris-1".into() }));
        assert_eq!(parse(&name(o, 0, "sw")).map(|p| p.role), Some("sw".into()));
        for other in
            ["replharness", "replharness-x-1-1-sw", "replharness-1-2-3", "replharness-1-2-3-", "docker-1-2-3-sw"]
        {
            assert_eq!(parse(other), None, "{other}");
        }
        assert_eq!(safe(""), "host");
        assert_eq!(safe(&"x".repeat(90)).len(), 40);
    }
}

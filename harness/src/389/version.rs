//! 389-DS versions and what each writes differently, as the 389-ds-base
//! source history dates it (tags of `389ds/389-ds-base`).
//!
//! | from | change |
//! |---|---|
//! | 1.3.5.14 | `Error (N)` status shape and one status per acquisition cause (Ticket 48957); before: `N MESSAGELDAP error: …` |
//! | 1.3.6.1 | errors-log severities and `function - ` prefixes (Ticket 48978) |
//! | 1.3.7.2 | the legacy-supplier answer (10) is gone (Ticket 49038) |
//! | 1.3.9.1, 1.4.0.20 | `transient error` becomes `transient warning` (Ticket 49864) |
//! | 1.4.1.4 | JSON twin; `Can't acquire busy replica (…)`; 18 and 14 amber `Can't acquire replica (…)` (Issue 49602) |
//! | 2.0.2 (1.4.4.9, 1.4.3.32) | the start/end-replication response wait never times out (Issue 4384) |
//! | 2.2.3 | periodic keep-alive updates; the `missing suffix` case is gone (Issue 3903) |
//! | 3.1.0 | the UTC offset's minutes are printed right (Issue 6117) |

use std::fmt;

use crate::error::HarnessError;

/// A 389-DS version such as `2.3.1` or `1.3.5.10`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version389 {
    parts: [u32; 4],
    /// How many parts were written (for display).
    len: usize,
}

impl Default for Version389 {
    /// 2.3.1, the version the reference measurements were taken on.
    fn default() -> Self {
        Self { parts: [2, 3, 1, 0], len: 3 }
    }
}

const fn v(a: u32, b: u32, c: u32, d: u32) -> [u32; 4] {
    [a, b, c, d]
}

impl Version389 {
    /// `MAJOR.MINOR[.PATCH[.BUILD]]`; `1.4.3-32` (a distribution build) reads as `1.4.3.32`.
    pub fn parse(text: &str) -> Result<Self, HarnessError> {
        let bad = || HarnessError::Config(format!("389 version {text:?} is not MAJOR.MINOR[.PATCH[.BUILD]]"));
        let mut parts = [0u32; 4];
        let mut len = 0;
        for p in text.trim().split(['.', '-']) {
            if len == 4 {
                return Err(bad());
            }
            parts[len] = p.parse().map_err(|_| bad())?;
            len += 1;
        }
        if len < 2 {
            return Err(bad());
        }
        Ok(Self { parts, len })
    }

    fn at_least(&self, min: [u32; 4]) -> bool {
        self.parts >= min
    }

    fn within(&self, from: [u32; 4], below: [u32; 4]) -> bool {
        self.parts >= from && self.parts < below
    }

    /// Statuses as `Error (N) …` (1.3.5.14 on); before, `N …` with one
    /// generic acquisition message.
    pub fn error_shape(&self) -> bool {
        self.at_least(v(1, 3, 5, 14))
    }

    /// Errors-log lines with a severity and the function's name (1.3.6.1 on).
    pub fn log_severities(&self) -> bool {
        self.at_least(v(1, 3, 6, 1))
    }

    /// `transient warning` (1.3.9.1 and 1.4.0.20 on) rather than `transient error`.
    pub fn transient_warning(&self) -> bool {
        self.within(v(1, 3, 9, 1), v(1, 4, 0, 0)) || self.at_least(v(1, 4, 0, 20))
    }

    /// The JSON twin, the amber wordings and `Can't acquire busy replica (…)` (1.4.1.4 on).
    pub fn json_and_amber(&self) -> bool {
        self.at_least(v(1, 4, 1, 4))
    }

    /// The start- and end-replication response waits never time out
    /// (2.0.2 on, and the 1.4.4.9 and 1.4.3.32 backports).
    pub fn unbounded_response_wait(&self) -> bool {
        self.at_least(v(2, 0, 2, 0))
            || self.within(v(1, 4, 4, 9), v(1, 4, 5, 0))
            || self.within(v(1, 4, 3, 32), v(1, 4, 4, 0))
    }

    /// Every updatable replica updates its keep-alive entry 30 s after start
    /// and then every keep-alive interval (2.2.3 on).
    pub fn periodic_keepalive(&self) -> bool {
        self.at_least(v(2, 2, 3, 0))
    }

    /// `send_updates` still has the `missing suffix` case (before 2.2.3).
    pub fn missing_suffix_case(&self) -> bool {
        !self.periodic_keepalive()
    }

    /// Consumers can answer "supplied by a legacy supplier" (1.3.5.14 to 1.3.7.1).
    pub fn legacy_consumer_answer(&self) -> bool {
        self.within(v(1, 3, 5, 14), v(1, 3, 7, 2))
    }

    /// Functions named `multisupplier_…` in the errors log (2.0.5 on; `multimaster_…` before).
    pub fn multisupplier_names(&self) -> bool {
        self.at_least(v(2, 0, 5, 0))
    }

    /// The UTC offset's minute field prints the leftover seconds (before 3.1.0).
    pub fn offset_minutes_bug(&self) -> bool {
        !self.at_least(v(3, 1, 0, 0))
    }

    /// The build tag of the title line and start-up line (`B2025.016.1616`
    /// for 2.3.1, the Debian 12 package measured).
    pub fn build(&self) -> String {
        if self.parts == v(2, 3, 1, 0) {
            return "B2025.016.1616".into();
        }
        // A stable, plausible build tag per version: year, day of year, time.
        let year = match self.parts[0] {
            1 => 2016 + self.parts[1].saturating_sub(3) + self.parts[2] / 3,
            2 => 2020 + self.parts[1],
            _ => 2024 + self.parts[1],
        };
        let day = 1 + (self.parts[2] * 37 + self.parts[3] * 11) % 360;
        format!("B{year}.{day:03}.{:02}{:02}", (self.parts[2] * 7) % 24, (self.parts[3] * 13) % 60)
    }

    /// `389-Directory/2.3.1`.
    pub fn product(&self) -> String {
        format!("389-Directory/{self}")
    }
}

impl fmt::Display for Version389 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.parts[..self.len].iter().map(u32::to_string).collect();
        f.write_str(&parts.join("."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ver(s: &str) -> Version389 {
        Version389::parse(s).expect("version")
    }

    #[test]
    fn features_follow_the_source_history() {
        let now = Version389::default();
        assert_eq!(now.to_string(), "2.3.1");
        assert!(now.error_shape() && now.log_severities() && now.json_and_amber() && now.unbounded_response_wait());
        assert!(now.periodic_keepalive() && !now.missing_suffix_case() && !now.legacy_consumer_answer());
        let old = ver("1.3.5.10");
        assert!(!old.error_shape() && !old.log_severities() && !old.json_and_amber());
        let mid = ver("1.3.5.14");
        assert!(mid.error_shape() && !mid.log_severities() && mid.legacy_consumer_answer());
        assert!(!ver("1.3.9.0").transient_warning() && ver("1.3.9.1").transient_warning());
        assert!(!ver("1.4.0.19").transient_warning() && ver("1.4.0.20").transient_warning());
        assert!(ver("1.4.3-32").unbounded_response_wait() && !ver("1.4.3.31").unbounded_response_wait());
        assert!(ver("1.4.4.9").unbounded_response_wait() && !ver("2.0.1").unbounded_response_wait());
        assert!(!ver("3.1.0").offset_minutes_bug() && ver("3.0.9").offset_minutes_bug());
        assert_eq!(now.build(), "B2025.016.1616");
        assert_eq!(old.product(), "389-Directory/1.3.5.10");
    }

    #[test]
    fn bad_versions_are_refused() {
        for bad in ["", "2", "2.x", "1.2.3.4.5", "-1.2"] {
            assert!(Version389::parse(bad).is_err(), "{bad}");
        }
    }
}

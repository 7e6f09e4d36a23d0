//! Durations as people write them, for scenario files and flags: humantime's
//! `250ms`, `1.5s`, `10s`, `2m`, `1h 30m`, and, as before humantime, a bare
//! number of seconds (`30`). At most 24 hours, the fault proxy's own bound
//! for every duration it takes ([`fault_proxy::bounds::MAX_MS`]).

use std::time::Duration;

/// The longest duration a scenario file or a flag takes: 24 h.
pub const MAX: Duration = Duration::from_millis(fault_proxy::bounds::MAX_MS);

/// [`MAX`] as messages write it.
pub const MAX_TEXT: &str = "24h";

/// Why a text is not a duration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DurationError {
    /// Not a duration at all; the reason in humantime's words.
    Bad(String),
    /// Longer than [`MAX`].
    TooLong,
}

/// Parses a duration of at most [`MAX`].
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let t = text.trim();
    let d = match t.parse::<f64>() {
        // A bare number is seconds (the format took it before humantime).
        Ok(secs) if t.bytes().all(|b| b.is_ascii_digit() || b == b'.') => {
            Duration::try_from_secs_f64(secs).map_err(|_| DurationError::TooLong)?
        }
        _ => humantime::parse_duration(t).map_err(|e| match e {
            humantime::DurationError::NumberOverflow => DurationError::TooLong,
            e => DurationError::Bad(e.to_string()),
        })?,
    };
    if d > MAX {
        return Err(DurationError::TooLong);
    }
    Ok(d)
}

/// For clap's `value_parser`: the same rules, the message as a string.
pub fn parse_flag(text: &str) -> Result<Duration, String> {
    parse(text).map_err(|e| match e {
        DurationError::Bad(reason) => format!("{text:?} is not a duration such as 500ms, 10s, 2m ({reason})"),
        DurationError::TooLong => format!("{text:?} is longer than {MAX_TEXT}, the longest a duration may be"),
    })
}

/// A duration as humantime writes it (`1m 30s`).
pub fn show(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("0.25"), Ok(Duration::from_millis(250)));
        assert!(matches!(parse("ten"), Err(DurationError::Bad(_))));
        assert!(matches!(parse("5 parsecs"), Err(DurationError::Bad(_))));
        assert!(matches!(parse("-1s"), Err(DurationError::Bad(_))));
        assert!(matches!(parse(""), Err(DurationError::Bad(_))));
    }

    #[test]
    fn durations_over_24h_are_refused() {
        assert_eq!(parse("24h"), Ok(MAX));
        assert_eq!(parse("86400"), Ok(MAX));
        assert_eq!(parse("24h 1ms"), Err(DurationError::TooLong));
        assert_eq!(parse("86401"), Err(DurationError::TooLong));
        assert!(matches!(parse("1e300"), Err(DurationError::Bad(_))));
        assert_eq!(parse("99999999999999999999999999s"), Err(DurationError::TooLong));
        assert_eq!(parse("1000000000000000000000000000000"), Err(DurationError::TooLong));
        assert!(parse_flag("25h").expect_err("too long").contains("longer than 24h"), "{:?}", parse_flag("25h"));
    }
}

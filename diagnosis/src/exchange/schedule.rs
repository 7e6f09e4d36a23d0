//! Connector schedules as `topology.toml` writes them (`[[connectors]]`
//! `schedule`, `detail_view`): activations a day, or a weekly grid of
//! entries such as `"Mon-Fri 09:00-17:00"` (docs/exchange.md). The shared
//! topology reader keeps only the number; this reads the grid too.
//!
//! What an entry selects depends on the detail view: in the 1-hour view a
//! block is an hour and activates four times (once per 15 minutes), in the
//! 15-minute view once. A number in the 1-hour view is that many hour blocks
//! a day. Tolerant, as readers of other tools' files are: an entry it cannot
//! read is skipped, a connector whose schedule it cannot read has none.

use std::collections::BTreeMap;

use time::Weekday;

use crate::case::Case;

/// One connector's schedule.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectorSchedule {
    /// `1h`, `15m`, or none given.
    pub one_hour_view: bool,
    /// Activations on each day of the week (Monday first).
    pub activations: [u32; 7],
    /// Blocks the administrator selected each day (what was meant).
    pub blocks: [u32; 7],
}

impl ConnectorSchedule {
    /// Activations on `day`.
    pub fn on(&self, day: Weekday) -> u32 {
        self.activations[usize::from(day.number_days_from_monday())]
    }

    pub fn meant_on(&self, day: Weekday) -> u32 {
        self.blocks[usize::from(day.number_days_from_monday())]
    }

    /// Activations on an average day, at least 1.
    pub fn per_day(&self) -> u32 {
        (self.activations.iter().sum::<u32>() / 7).max(1)
    }
}

/// Every connector's schedule, by bridgehead (lower case).
pub fn read(case: &Case) -> BTreeMap<String, ConnectorSchedule> {
    let mut out = BTreeMap::new();
    let Ok(text) = std::fs::read_to_string(case.path("topology.toml")) else { return out };
    let Ok(table) = text.parse::<toml::Table>() else { return out };
    let Some(connectors) = table.get("connectors").and_then(|c| c.as_array()) else { return out };
    for c in connectors {
        let Some(bh) = c.get("bridgehead").and_then(|b| b.as_str()) else { continue };
        let one_hour_view = c.get("detail_view").and_then(|v| v.as_str()).is_some_and(|v| v.trim() == "1h");
        let parsed = match c.get("schedule") {
            Some(toml::Value::Integer(n)) => u32::try_from(*n).ok().map(|n| per_day(n, one_hour_view)),
            Some(toml::Value::Array(entries)) => {
                let entries: Vec<&str> = entries.iter().filter_map(|e| e.as_str()).collect();
                Some(grid(&entries, one_hour_view))
            }
            _ => None,
        };
        if let Some(s) = parsed {
            out.insert(bh.to_ascii_lowercase(), s);
        }
    }
    out
}

fn per_day(n: u32, one_hour_view: bool) -> ConnectorSchedule {
    let cells = if one_hour_view { 4 } else { 1 };
    ConnectorSchedule { one_hour_view, activations: [n.saturating_mul(cells); 7], blocks: [n; 7] }
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn day(s: &str) -> Option<usize> {
    DAYS.iter().position(|d| d.eq_ignore_ascii_case(s.trim()))
}

fn days(s: &str) -> Option<Vec<usize>> {
    if s.eq_ignore_ascii_case("daily") {
        return Some((0..7).collect());
    }
    let mut out = Vec::new();
    for part in s.split(',') {
        match part.split_once('-') {
            Some((a, b)) => out.extend(day(a)?..=day(b)?),
            None => out.push(day(part)?),
        }
    }
    Some(out)
}

/// `HH:MM` as minutes of the day (24:00 allowed).
fn minutes(s: &str) -> Option<u32> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && h * 60 + m <= 1440).then_some(h * 60 + m)
}

fn grid(entries: &[&str], one_hour_view: bool) -> ConnectorSchedule {
    let block = if one_hour_view { 60 } else { 15 };
    // 15-minute cells of the week, as the product stores them.
    let mut cells = [[false; 96]; 7];
    let mut blocks = [0u32; 7];
    for e in entries {
        let Some((d, t)) = e.trim().split_once(' ') else { continue };
        let Some(d) = days(d) else { continue };
        let (start, end) = match t.split_once('-') {
            Some((a, b)) => match (minutes(a), minutes(b)) {
                (Some(a), Some(b)) if a < b => (a, b),
                _ => continue,
            },
            None => match minutes(t) {
                Some(a) if a < 1440 => (a, a + block),
                _ => continue,
            },
        };
        let (start, end) = (start - start % block, end.min(1440));
        for day in d {
            blocks[day] += (end - start).div_ceil(block);
            for cell in (start / 15)..end.div_ceil(15) {
                cells[day][cell as usize] = true;
            }
        }
    }
    let mut activations = [0u32; 7];
    for (i, day) in cells.iter().enumerate() {
        activations[i] = day.iter().filter(|c| **c).count() as u32;
    }
    ConnectorSchedule { one_hour_view, activations, blocks }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_hour_block_in_the_one_hour_view_is_four_activations() {
        let s = grid(&["Mon-Fri 09:00-17:00", "daily 12:00"], true);
        assert_eq!(s.on(Weekday::Monday), 32, "12:00 is inside 09:00-17:00 already");
        assert_eq!(s.on(Weekday::Sunday), 4);
        assert_eq!(s.meant_on(Weekday::Sunday), 1);
        let q = grid(&["daily 12:00"], false);
        assert_eq!((q.on(Weekday::Sunday), q.meant_on(Weekday::Sunday)), (1, 1));
        assert_eq!(per_day(24, true).on(Weekday::Friday), 96);
        assert_eq!(per_day(8, false).per_day(), 8);
        assert_eq!(grid(&["nonsense", "Mon 25:00"], true).per_day(), 1, "unreadable entries are skipped");
    }
}

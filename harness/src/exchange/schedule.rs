//! Connector schedules as administrators set them.
//!
//! Exchange 5.5 keeps a schedule as one bit per 15 minutes of the week (672
//! cells); the connector activates at the start of every selected cell. The
//! Administrator program shows it in a 1-hour or a 15-minute detail view.
//! In the 1-hour view a selected hour block sets its four cells, so the
//! connector activates four times in that hour: the seed's trap. In the
//! 15-minute view a selected block is one cell, one activation.
//!
//! Written forms (scenario files, `topology.toml`, `--schedule`):
//! - activations a day, `schedule = 8`: that many blocks a day spread evenly
//!   from midnight (8: every 3 hours, the default). In the 15-minute view
//!   1 to 96 (96 is 4 an hour, the most); in the 1-hour view 1 to 24 hour
//!   blocks, each activating 4 times.
//! - named (`--schedule`): `every-3h`, `every-30m`, `hourly`, `4-per-hour`,
//!   `always` (every 15 minutes).
//! - a weekly grid, `schedule = ["Mon-Fri 09:00-17:00", "daily 12:00"]`:
//!   each entry names days (`Mon`, `Mon-Fri`, `Mon,Wed`, `daily`) and either
//!   one block of the detail view starting at `HH:MM` or every block of a
//!   range `HH:MM-HH:MM` (end up to `24:00`); times fall on the view's grid.

use std::fmt;

use time::{Duration, OffsetDateTime, Weekday};

use crate::error::HarnessError;

/// Cells a day and a week.
const PER_DAY: usize = 96;
const PER_WEEK: usize = 7 * PER_DAY;
const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// The Administrator's detail view of the schedule grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DetailView {
    /// `1h`: a block is an hour, four cells.
    OneHour,
    /// `15m`: a block is one cell.
    #[default]
    FifteenMinutes,
}

impl DetailView {
    pub fn parse(s: &str) -> Option<DetailView> {
        match s.trim() {
            "1h" => Some(DetailView::OneHour),
            "15m" => Some(DetailView::FifteenMinutes),
            _ => None,
        }
    }

    /// As `topology.toml` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            DetailView::OneHour => "1h",
            DetailView::FifteenMinutes => "15m",
        }
    }

    /// Cells one block of the view covers.
    fn cells(self) -> usize {
        match self {
            DetailView::OneHour => 4,
            DetailView::FifteenMinutes => 1,
        }
    }
}

/// What the administrator wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    /// Blocks a day, spread evenly from midnight.
    PerDay(u32),
    /// Weekly grid entries, as written.
    Grid(Vec<String>),
}

/// A connector's schedule: what was written, in which view, and the cells it selects.
#[derive(Clone, PartialEq, Eq)]
pub struct Schedule {
    written: Written,
    view: DetailView,
    cells: [u64; PER_WEEK.div_ceil(64)],
}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Schedule")
            .field("written", &self.written)
            .field("view", &self.view)
            .field("per_week", &self.per_week())
            .finish()
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.written {
            Written::PerDay(n) => write!(f, "{n} a day")?,
            Written::Grid(g) => write!(f, "[{}]", g.join(", "))?,
        }
        write!(f, " in the {} view", self.view.as_str())
    }
}

impl Default for Schedule {
    /// Every 3 hours (8 a day), the product's default.
    fn default() -> Self {
        Schedule::per_day(8, DetailView::FifteenMinutes).unwrap_or_else(|_| Schedule::empty(Written::PerDay(8)))
    }
}

fn bad(what: impl fmt::Display) -> HarnessError {
    HarnessError::Config(format!("schedule: {what}"))
}

impl Schedule {
    fn empty(written: Written) -> Self {
        Self { written, view: DetailView::FifteenMinutes, cells: [0; PER_WEEK.div_ceil(64)] }
    }

    fn set(&mut self, cell: usize) {
        let c = cell % PER_WEEK;
        self.cells[c / 64] |= 1 << (c % 64);
    }

    fn is_set(&self, cell: usize) -> bool {
        let c = cell % PER_WEEK;
        self.cells[c / 64] & (1 << (c % 64)) != 0
    }

    /// `n` blocks a day of the view, spread evenly from midnight.
    pub fn per_day(n: u32, view: DetailView) -> Result<Schedule, HarnessError> {
        let blocks = PER_DAY / view.cells();
        if n == 0 || n as usize > blocks {
            let what = match view {
                DetailView::OneHour => "hour blocks a day in the 1-hour view",
                DetailView::FifteenMinutes => "activations a day (the most is 4 an hour)",
            };
            return Err(bad(format!("{n} {what}: give 1 to {blocks}")));
        }
        let mut s = Schedule { view, ..Schedule::empty(Written::PerDay(n)) };
        for day in 0..7 {
            for i in 0..n as usize {
                let block = i * blocks / n as usize;
                for c in 0..view.cells() {
                    s.set(day * PER_DAY + block * view.cells() + c);
                }
            }
        }
        Ok(s)
    }

    /// A weekly grid (see the module doc for the entry syntax).
    pub fn grid(entries: &[String], view: DetailView) -> Result<Schedule, HarnessError> {
        let mut s = Schedule { view, ..Schedule::empty(Written::Grid(entries.to_vec())) };
        for e in entries {
            let (days, times) = e.trim().split_once(' ').ok_or_else(|| {
                bad(format!("{e:?}: write days and a time, as \"Mon-Fri 09:00\" or \"daily 09:00-17:00\""))
            })?;
            let days = parse_days(days).ok_or_else(|| {
                bad(format!("{e:?}: days are Mon..Sun, a range (Mon-Fri), a list (Mon,Wed) or daily"))
            })?;
            let (first, end) = parse_blocks(times.trim(), view).map_err(|why| bad(format!("{e:?}: {why}")))?;
            for day in days {
                for cell in first..end {
                    s.set(day * PER_DAY + cell);
                }
            }
        }
        if s.per_week() == 0 {
            return Err(bad("the grid selects no time: the connector would never run"));
        }
        Ok(s)
    }

    /// `--schedule`: activations a day as a number, or `every-3h`, `every-30m`,
    /// `hourly`, `4-per-hour`, `always`.
    pub fn parse_spec(spec: &str, view: DetailView) -> Result<Schedule, HarnessError> {
        let s = spec.trim().to_ascii_lowercase();
        let n = match s.as_str() {
            "hourly" => 24,
            "4-per-hour" | "always" => 96,
            _ => match s.strip_prefix("every-") {
                Some(every) => {
                    let minutes = parse_every(every).ok_or_else(|| {
                        bad(format!(
                            "{spec:?}: every-N takes a multiple of 15 minutes that divides a day (every-15m, every-3h)"
                        ))
                    })?;
                    1440 / minutes
                }
                None => s.parse::<u32>().map_err(|_| {
                    bad(format!(
                        "{spec:?} is not a schedule: give activations a day (1 to 96), every-3h, hourly, 4-per-hour or always"
                    ))
                })?,
            },
        };
        Schedule::per_day(n, view)
    }

    pub fn written(&self) -> &Written {
        &self.written
    }

    pub fn view(&self) -> DetailView {
        self.view
    }

    /// Activations in a week.
    pub fn per_week(&self) -> u32 {
        self.cells.iter().map(|w| w.count_ones()).sum()
    }

    /// Activations on one day of the week.
    pub fn on(&self, day: Weekday) -> u32 {
        let d = usize::from(day.number_days_from_monday());
        (d * PER_DAY..(d + 1) * PER_DAY).filter(|c| self.is_set(*c)).count() as u32
    }

    /// Activations the administrator meant on a day: blocks chosen in the view.
    pub fn meant_on(&self, day: Weekday) -> u32 {
        self.on(day) / self.view.cells() as u32
    }

    /// The first activation at `t` or after it (in `t`'s offset).
    pub fn next_at_or_after(&self, t: OffsetDateTime) -> Option<OffsetDateTime> {
        let minute_of_week =
            i64::from(t.weekday().number_days_from_monday()) * 1440 + i64::from(t.hour()) * 60 + i64::from(t.minute());
        let into_minute = Duration::seconds(i64::from(t.second())) + Duration::nanoseconds(i64::from(t.nanosecond()));
        let week_start = t - Duration::minutes(minute_of_week) - into_minute;
        let on_boundary = minute_of_week % 15 == 0 && into_minute.is_zero();
        let first = (minute_of_week / 15) as usize + usize::from(!on_boundary);
        (first..first + PER_WEEK + 1).find(|c| self.is_set(*c)).map(|c| week_start + Duration::minutes(15 * c as i64))
    }
}

fn parse_day(s: &str) -> Option<usize> {
    DAYS.iter().position(|d| d.eq_ignore_ascii_case(s.trim()))
}

fn parse_days(s: &str) -> Option<Vec<usize>> {
    if s.eq_ignore_ascii_case("daily") {
        return Some((0..7).collect());
    }
    let mut out = Vec::new();
    for part in s.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (parse_day(a)?, parse_day(b)?);
                if a > b {
                    return None;
                }
                out.extend(a..=b);
            }
            None => out.push(parse_day(part)?),
        }
    }
    Some(out)
}

/// `HH:MM` as minutes of the day (24:00 allowed).
fn parse_time(s: &str) -> Option<usize> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (usize, usize) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
}

/// The cells of the day a time or a range selects: `[first, end)`.
fn parse_blocks(s: &str, view: DetailView) -> Result<(usize, usize), String> {
    let block = 15 * view.cells();
    let on_grid = |t: &str| -> Result<usize, String> {
        let m = parse_time(t).ok_or_else(|| format!("{t:?} is not a time (HH:MM)"))?;
        if m % block != 0 {
            return Err(format!("{t} is not on the {} view's grid (every {block} minutes)", view.as_str()));
        }
        Ok(m / 15)
    };
    match s.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (on_grid(a)?, on_grid(b)?);
            if a >= b {
                return Err(format!("{s}: the range ends before it starts"));
            }
            Ok((a, b))
        }
        None => {
            let a = on_grid(s)?;
            if a >= PER_DAY {
                return Err("24:00 only ends a range".into());
            }
            Ok((a, a + view.cells()))
        }
    }
}

/// `3h`, `30m`, `1h30m` as minutes, when a multiple of 15 that divides a day.
fn parse_every(s: &str) -> Option<u32> {
    let mut minutes = 0u32;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        let n: u32 = rest[..digits].parse().ok()?;
        let unit = rest[digits..].chars().next()?;
        minutes = minutes.checked_add(match unit {
            'h' => n.checked_mul(60)?,
            'm' => n,
            _ => return None,
        })?;
        rest = &rest[digits + 1..];
    }
    (minutes > 0 && minutes % 15 == 0 && 1440 % minutes == 0).then_some(minutes)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn grid(entries: &[&str], view: DetailView) -> Result<Schedule, HarnessError> {
        Schedule::grid(&entries.iter().map(|e| e.to_string()).collect::<Vec<_>>(), view)
    }

    #[test]
    fn the_default_is_every_three_hours_from_midnight() {
        let s = Schedule::default();
        assert_eq!(s.on(Weekday::Monday), 8);
        // 2026-11-23 is a Monday.
        let t = datetime!(2026-11-23 00:00:00 UTC);
        assert_eq!(s.next_at_or_after(t), Some(t));
        assert_eq!(s.next_at_or_after(t + Duration::SECOND), Some(datetime!(2026-11-23 03:00:00 UTC)));
        assert_eq!(s.next_at_or_after(datetime!(2026-11-29 22:00:00 UTC)), Some(datetime!(2026-11-30 00:00:00 UTC)));
    }

    #[test]
    fn an_hour_block_in_the_one_hour_view_activates_four_times_in_the_fifteen_minute_view_once() {
        let hour = grid(&["Mon 09:00"], DetailView::OneHour).expect("valid");
        let quarter = grid(&["Mon 09:00"], DetailView::FifteenMinutes).expect("valid");
        assert_eq!((hour.on(Weekday::Monday), hour.meant_on(Weekday::Monday)), (4, 1));
        assert_eq!((quarter.on(Weekday::Monday), quarter.meant_on(Weekday::Monday)), (1, 1));
        let mut t = datetime!(2026-11-23 08:00:00 UTC);
        let mut seen = Vec::new();
        while let Some(next) = hour.next_at_or_after(t).filter(|n| *n < datetime!(2026-11-23 12:00:00 UTC)) {
            seen.push(next.minute());
            t = next + Duration::SECOND;
        }
        assert_eq!(seen, [0, 15, 30, 45]);
        // A number in the 1-hour view is hour blocks.
        let s = Schedule::per_day(24, DetailView::OneHour).expect("valid");
        assert_eq!((s.on(Weekday::Friday), s.meant_on(Weekday::Friday)), (96, 24));
    }

    #[test]
    fn named_specs_and_bounds() {
        let n = |s: &str| Schedule::parse_spec(s, DetailView::FifteenMinutes).map(|s| s.on(Weekday::Monday));
        assert_eq!(n("8").expect("8"), 8);
        assert_eq!(n("every-3h").expect("3h"), 8);
        assert_eq!(n("every-30m").expect("30m"), 48);
        assert_eq!(n("hourly").expect("hourly"), 24);
        assert_eq!(n("4-per-hour").expect("4"), 96);
        assert_eq!(n("always").expect("always"), 96);
        for bad in ["0", "97", "-1", "every-7m", "every-5h", "sometimes", "every-", "every-1x"] {
            let e = n(bad).expect_err(bad).to_string();
            assert!(e.contains(bad.trim_start_matches('-')) || e.contains("1 to 96"), "{bad}: {e}");
        }
        let e = Schedule::parse_spec("4-per-hour", DetailView::OneHour).expect_err("96 hour blocks").to_string();
        assert!(e.contains("1 to 24"), "{e}");
    }

    #[test]
    fn grids_take_days_ranges_and_lists_and_refuse_what_the_view_cannot_select() {
        let s = grid(&["Mon-Fri 09:00-17:00", "Sat,Sun 12:00"], DetailView::OneHour).expect("valid");
        assert_eq!(s.on(Weekday::Wednesday), 32);
        assert_eq!(s.on(Weekday::Sunday), 4);
        assert_eq!(s.per_week(), 5 * 32 + 2 * 4);
        let d = grid(&["daily 23:45-24:00"], DetailView::FifteenMinutes).expect("valid");
        assert_eq!(d.per_week(), 7);
        for (entry, why) in [
            ("Mon 09:15", "not on the 1h view's grid"),
            ("Funday 09:00", "days are"),
            ("Mon", "write days and a time"),
            ("Mon 10:00-09:00", "ends before"),
            ("Mon 24:00", "only ends a range"),
            ("Mon 9", "not a time"),
        ] {
            let e = grid(&[entry], DetailView::OneHour).expect_err(entry).to_string();
            assert!(e.contains(why) && e.contains(entry.split(' ').next().unwrap_or(entry)), "{entry}: {e}");
        }
        assert!(grid(&[], DetailView::OneHour).is_err(), "a grid that selects nothing");
    }
}

//! `exchange.schedule-quadrupled`: a connector that activates four times in
//! an hour where once was meant, the seed's trap: an hour block chosen in
//! the 1-hour detail view is four 15-minute activations.
//!
//! Suspect connectors: those set in the 1-hour view, and those whose
//! schedule says at most 24 a day. Their activations are read from the
//! requester's 1068 records: an activation is a minute in which it asks for
//! both contexts of a site (`/o=O/ou=S` and `/o=O/ou=S/cn=Configuration`);
//! a follow-up for the next 512 objects asks for one context. Four or more
//! such minutes in one clock hour give the verdict.

use std::collections::{BTreeMap, BTreeSet};

use super::events::{Ev, Rec};
use super::rules::{messages_a_day, Ctx};
use crate::catalog;
use crate::model::Verdict;

pub fn quadrupled(ctx: &Ctx, recs: &[Rec], out: &mut Vec<Verdict>) {
    let Some(t) = &ctx.case.topology else { return };
    for c in &t.connectors {
        let Some(bh) = &c.bridgehead else { continue };
        let schedule = ctx.schedule(bh);
        let one_hour_view = c.detail_view.as_deref() == Some("1h");
        let meant_hourly = one_hour_view || c.schedule.is_some_and(|s| s <= 24);
        if !meant_hourly {
            continue;
        }
        // Minute → the contexts asked in it, and its first record.
        let mut minutes: BTreeMap<i64, (BTreeSet<&str>, &Rec)> = BTreeMap::new();
        for r in recs.iter().filter(|r| r.computer.eq_ignore_ascii_case(bh)) {
            if let Ev::Ask { nc, .. } = &r.ev {
                minutes.entry(r.at.unix_timestamp() / 60).or_insert_with(|| (BTreeSet::new(), r)).0.insert(nc);
            }
        }
        let mut per_hour: BTreeMap<i64, Vec<&Rec>> = BTreeMap::new();
        for (minute, (asked, first)) in &minutes {
            let both = asked.iter().any(|nc| asked.contains(format!("{nc}/cn=Configuration").as_str()));
            if both {
                per_hour.entry(minute / 60).or_default().push(first);
            }
        }
        let Some(hour) = per_hour.values().find(|a| a.len() >= 4) else { continue };
        let day = hour[0].at.weekday();
        let meant = match schedule {
            Some(s) if one_hour_view => u64::from(s.meant_on(day)),
            _ => u64::from(c.schedule.unwrap_or(24)),
        };
        let n = ctx.sites(recs);
        let mut v = Verdict::new("exchange.schedule-quadrupled", catalog::severity("exchange.schedule-quadrupled"))
            .with_subject(&[("server", bh), ("site", &c.site)]);
        v.evidence = hour.iter().take(4).map(|r| r.evidence.clone()).collect();
        v.guidance = vec![
            format!(
                "The connector of site {} activates 4 times an hour at {bh}: an hour block chosen in the 1-hour detail view means every 15 minutes. Set the schedule in the 15-minute detail view",
                c.site
            ),
            format!(
                "With {n} sites that is {} messages a day instead of {} ({} activations a day instead of {meant})",
                messages_a_day(n, meant * 4),
                messages_a_day(n, meant),
                meant * 4
            ),
        ];
        out.push(v);
    }
}

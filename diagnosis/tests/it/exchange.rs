//! Family `exchange`: one fixture per verdict.

use crate::support::*;

#[test]
fn answered_requests_are_healthy() {
    assert_eq!(ids(&run("exchange/healthy")), ["exchange.healthy"]);
}

#[test]
fn an_unanswered_request_past_the_interval() {
    let r = run("exchange/no-reply");
    assert_eq!(ids(&r), ["exchange.no-reply"]);
    let v = one(&r, "exchange.no-reply", &[("server", "BH-LONDON"), ("site", "LONDON"), ("peer", "BH-PARIS")]);
    step_with(v, &["BH-LONDON", "BH-PARIS", "180 minutes"]);
    assert_eq!(v.evidence.len(), 2, "the two requests of the last activation");
}

#[test]
fn a_growing_backlog_is_an_overloaded_bridgehead_with_the_messages_a_day_figures() {
    let r = run("exchange/bridgehead-overloaded");
    let v = one(&r, "exchange.bridgehead-overloaded", &[("server", "BH-PARIS"), ("site", "PARIS")]);
    // 3 sites × ((3−1) × 2 × F × 2): 96 activations a day now, 8 proposed.
    step_with(v, &["2304 messages a day", "96 activations", "192"]);
    assert!(!ids(&r).contains(&"exchange.no-reply"), "the primary cause, not its symptom");
}

#[test]
fn a_full_reply_without_a_follow_up() {
    let r = run("exchange/paging-stalled");
    let v = one(&r, "exchange.paging-stalled", &[("server", "BH-LONDON"), ("peer", "BH-PARIS")]);
    assert!(v.evidence[0].text.contains("More objects remain."));
}

#[test]
fn an_hour_block_in_the_one_hour_view_runs_four_times_an_hour() {
    let r = run("exchange/schedule-quadrupled");
    assert_eq!(ids(&r), ["exchange.schedule-quadrupled"]);
    let v = one(&r, "exchange.schedule-quadrupled", &[("server", "BH-LONDON"), ("site", "LONDON")]);
    step_with(v, &["LONDON", "15-minute detail view"]);
    step_with(v, &["2304", "576"]);
}

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

/// Both ends' logs: the partner took the requests and answered them, and the
/// replies never arrived. The guidance says which way messages are lost.
#[test]
fn replies_lost_on_the_way_back_are_no_reply_with_the_direction() {
    let r = run("exchange/no-reply-return-path");
    assert_eq!(ids(&r), ["exchange.no-reply"], "{}", diagnosis::report::human(&r));
    let v = one(&r, "exchange.no-reply", &[("server", "BH-LONDON"), ("peer", "BH-PARIS")]);
    step_with(v, &["15 minutes", "since 00:00"]);
    step_with(v, &["arriving and answered", "from BH-PARIS to BH-LONDON"]);
    assert!(r.input.unknown_lines.is_empty(), "every record read: {:?}", r.input.unknown_lines);
}

/// A full reply that never reached the requester is a missing reply, not a
/// stalled page: the requester cannot ask for the rest of what it never got.
#[test]
fn a_full_reply_that_never_arrived_is_no_reply_not_paging() {
    let r = run("exchange/paging-reply-lost");
    assert_eq!(ids(&r), ["exchange.no-reply"], "{}", diagnosis::report::human(&r));
    step_with(one(&r, "exchange.no-reply", &[("peer", "BH-PARIS")]), &["lost on the way back"]);
}

/// Follow-up requests for the next 512 objects ask one context each; four
/// of them in an hour are not four activations.
#[test]
fn follow_ups_in_one_hour_are_not_a_quadrupled_schedule() {
    let r = run("exchange/follow-ups-are-not-activations");
    assert_eq!(ids(&r), ["exchange.healthy"], "{}", diagnosis::report::human(&r));
}

/// Regression: activations were counted per clock hour, and per minute. A
/// bridgehead that logs late (its 09:00 hour block at 09:05, 09:20, 09:35,
/// 10:02, one activation's two contexts either side of a minute) still
/// activates 4 times within an hour, as the 1-hour view's block says.
#[test]
fn regression_a_late_hour_block_still_counts_four_activations() {
    let r = run("exchange/schedule-quadrupled-late");
    assert_eq!(ids(&r), ["exchange.schedule-quadrupled"], "{}", diagnosis::report::human(&r));
    let v = one(&r, "exchange.schedule-quadrupled", &[("server", "BH-LONDON")]);
    assert_eq!(v.evidence.len(), 4);
    // 2 sites: meant 1 a day (one hour block on Mondays), activated 4.
    step_with(v, &["32 messages a day instead of 8"]);
}

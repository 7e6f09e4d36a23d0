use super::*;

/// The 2.x msgIDs the reference lists (and the colleague's check of the
/// source gives), computed from ordinal and masks.
#[test]
fn legacy_msg_ids_match_the_reference_table() {
    let expected = [
        (&REPLICATION_SERVER_LISTENING, 15139020),
        (&CONNECTION_TO_RS, 14680269),
        (&CONNECTION_FROM_RS, 14680270),
        (&CONNECTION_FROM_DS, 14680271),
        (&NOW_FOUND_SAME_GENERATION, 15138878),
        (&NOW_FOUND_BAD_GENERATION, 14811232),
        (&NO_AVAILABLE_CHANGELOGS, 14811344),
        (&REPLICATION_SERVER_PROPERLY_DISCONNECTED, 14745663),
        (&REPLICATION_SERVER_BADLY_DISCONNECTED, 14811316),
        (&HEARTBEAT_FAILURE, 14811233),
        (&RS_BADLY_DISCONNECTED, 14942389),
        (&DS_BADLY_DISCONNECTED, 14942419),
        (&DS_DISCONNECTED_DURING_HANDSHAKE, 14942386),
        (&RS_DISCONNECTED_DURING_HANDSHAKE, 14942387),
        (&BAD_GENERATION_ID_FROM_RS, 14811213),
        (&BAD_GENERATION_ID_FROM_DS, 14745746),
        (&IGNORING_UPDATE_FROM_DS_BADGENID, 14811271),
        (&IGNORING_UPDATE_TO_DS_BADGENID, 14811272),
        (&IGNORING_UPDATE_FROM_RS, 14811216),
        (&IGNORING_UPDATE_TO_RS, 14811217),
        (&EXCEPTION_LISTENING, 14942294),
        (&SSL_SERVER_CON_ATTEMPT_ERROR, 14680169),
        (&READER_EXCEPTION, 15138869),
        (&COULD_NOT_BIND_CHANGELOG, 14876678),
        (&NO_CHANGELOG_SERVER_LISTENING, 14811153),
        (&COULD_NOT_FIND_CHANGELOG, 14811159),
        (&DUPLICATE_SERVER_ID, 14942262),
        (&ERROR_MSG_RECEIVED, 14876751),
        (&EXCEPTION_STARTING_SESSION_PHASE, 14811255),
        (&DIRECTORY_SERVER_CHANGED_STATUS, 15138947),
        (&TIMEOUT_WHEN_CROSS_CONNECTION, 14811281),
        (&REPLICATION_PROTOCOL_MESSAGE_TYPE, 14942365),
        (&TIMEOUT_CONNECTING_TO_RS, 14811348),
        (&DIRECTORY_SERVER_STARTING, 458886),
        (&DIRECTORY_SERVER_STARTED, 458887),
        (&SENT_ALERT_NOTIFICATION, 458891),
        (&SERVER_SHUTDOWN, 458893),
        (&SERVER_STOPPED, 458955),
    ];
    for (def, id) in expected {
        assert_eq!(def.msg_id(Dialect::Legacy), id.to_string(), "{}", def.key);
        assert_eq!(def.msg_id(Dialect::Modern), def.ordinal.to_string(), "{}", def.key);
    }
}

#[test]
fn the_3_0_dialect_prints_the_resource_name_and_the_ordinal() {
    assert_eq!(RS_BADLY_DISCONNECTED.msg_id(Dialect::Dotted), "org.opends.messages.replication.181");
    assert_eq!(SENT_ALERT_NOTIFICATION.msg_id(Dialect::Dotted), "org.opends.messages.core.139");
    let r = RS_BADLY_DISCONNECTED.render(Dialect::Dotted, &[&1, &2, &"x", &"d"]).expect("3.0 has 181");
    assert_eq!((r.severity, r.to_errors, r.to_replication), ("ERROR", true, true), "3.0 severities and files");
}

#[test]
fn a_raw_message_is_minus_one_and_unwritten_by_2x() {
    assert_eq!(RAW_ERROR.msg_id(Dialect::Dotted), "null.-1");
    assert_eq!(RAW_ERROR.msg_id(Dialect::Modern), "-1");
    let r = RAW_ERROR.render(Dialect::Modern, &[&"Connection reset"]).expect("4.x writes it");
    assert_eq!((r.category, r.severity, r.text.as_str()), ("SYNC", "ERROR", "Connection reset"));
    assert!(RAW_ERROR.render(Dialect::Legacy, &[&"x"]).is_none(), "USER_DEFINED INFORMATION: not in 2.x's files");
}

#[test]
fn seed_line_renders_verbatim() {
    let r =
        RS_BADLY_DISCONNECTED.render(Dialect::Legacy, &[&1234, &5678, &"", &"dc=example,dc=com"]).expect("2.x has 181");
    assert_eq!(r.severity, "SEVERE_ERROR");
    assert_eq!(r.msg_id, "14942389");
    // The seed article redacted the address; an empty one leaves "at  for".
    assert_eq!(
        r.text,
        "The connection from this replication server RS(1234) to replication server RS(5678) at  for domain \"dc=example,dc=com\" has failed"
    );
}

#[test]
fn two_x_words_53_134_139_and_141_its_own_way() {
    let l = READER_EXCEPTION.fill(Dialect::Legacy, &[&"Replication server RS(2) for domain \"d\"", &"ignored"]);
    assert_eq!(l, "Exception when reading messages from Replication server RS(2) for domain \"d\"");
    assert_eq!(READER_EXCEPTION.fill(Dialect::Modern, &[&"x", &"y"]), "Exception when reading messages from x: y");
    assert_eq!(
        DIRECTORY_SERVER_STARTING.fill(Dialect::Legacy, &[&"OpenDJ 2.6.0", &"20130626200000Z", &9086]),
        "OpenDJ 2.6.0 (build 20130626200000Z, R9086) starting up"
    );
    assert!(SENT_ALERT_NOTIFICATION.template(Dialect::Legacy).ends_with("alert ID %s):  %s"), "two spaces in 2.x");
    assert!(SENT_ALERT_NOTIFICATION.template(Dialect::Dotted).ends_with("alert ID %s): %s"));
    assert!(SERVER_SHUTDOWN.template(Dialect::Legacy).contains("process.  The shutdown"));
    assert!(SERVER_SHUTDOWN.template(Dialect::Dotted).contains("process. The shutdown"));
    assert!(SHUTDOWN_DUE_TO_SHUTDOWN_HOOK.template(Dialect::Legacy).contains("down.  This"));
}

#[test]
fn files_follow_each_dialects_config() {
    // INFORMATION connect lines: replication log only, every dialect.
    for d in Dialect::ALL {
        let r = CONNECTION_TO_RS.render(d, &[&1, &2, &"x", &"y"]).expect("render");
        assert!(!r.to_errors && r.to_replication);
    }
    // 181: 3+ writes ERROR to both; 2.x SEVERE_ERROR to errors only.
    let m = RS_BADLY_DISCONNECTED.render(Dialect::Modern, &[]).expect("render");
    assert!(m.to_errors && m.to_replication);
    let l = RS_BADLY_DISCONNECTED.render(Dialect::Legacy, &[]).expect("render");
    assert!(l.to_errors && !l.to_replication);
    // 63 and 79: 2.x MILD_* lands in the replication log only.
    for def in [&REPLICATION_SERVER_PROPERLY_DISCONNECTED, &ERROR_MSG_RECEIVED] {
        let l = def.render(Dialect::Legacy, &[]).expect("render");
        assert!(!l.to_errors && l.to_replication, "{}", def.key);
    }
    // CORE notices: errors log only.
    let c = DIRECTORY_SERVER_STARTED.render(Dialect::Modern, &[]).expect("render");
    assert!(c.to_errors && !c.to_replication);
}

#[test]
fn messages_missing_from_older_catalogs_do_not_render() {
    assert!(UNEXPECTED_MESSAGE.render(Dialect::Legacy, &[]).is_none());
    assert!(UNEXPECTED_MESSAGE.render(Dialect::Dotted, &[]).is_none(), "300 came with 4.0 (OPENDJ-3309)");
    assert!(UNEXPECTED_MESSAGE.render(Dialect::Modern, &[&"a", &"b"]).is_some());
}

#[test]
fn every_key_is_unique_and_no_template_has_two_placeholders_side_by_side() {
    let mut keys = std::collections::BTreeSet::new();
    for def in ALL {
        assert!(keys.insert(def.key), "{} twice", def.key);
        for d in Dialect::ALL {
            assert!(!def.template(d).contains("%s%s"), "{}", def.key);
        }
    }
}

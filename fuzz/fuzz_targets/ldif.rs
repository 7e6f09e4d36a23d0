//! LDIF as a 389 case holds it (the agreements' and the replica's cn=config
//! entries: folded lines, base64 values, comments), read by `diagnose`;
//! also the 389 errors-log line parser on every line of the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for (n, line) in text.lines().enumerate() {
        let _ = diagnosis::r389::errlog::parse_line(n as u64 + 1, line);
    }
    let _ = diagnosis::ldif::base64(&text);
    let root = replharness_fuzz::case_copy("389/folded-base64");
    replharness_fuzz::diagnose_with(root, "servers/slapd-a/agreements.ldif", data);
});

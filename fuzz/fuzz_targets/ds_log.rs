//! DS/OpenDJ log lines (`errors`, `replication`: `[stamp] category=…
//! severity=… msgID=… msg=…` and the older shapes), line by line and as the
//! errors log of a case that `diagnose` reads whole.
#![no_main]

use diagnosis::ds::log;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for line in text.lines() {
        if let Some((stamp, _)) = log::split_stamp(line) {
            let _ = log::parse_stamp(stamp);
        }
        let _ = log::parse_line(line);
    }
    let root = replharness_fuzz::case_copy("ds/cause-firewall-drop");
    replharness_fuzz::diagnose_with(root, "servers/ds-1/errors", data);
});

//! Exchange 5.5 directory-service event records (`events.log`: Event
//! Viewer's tab-delimited export), each record's id and description through
//! the classifier, and the whole file through `diagnose`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() >= 9 {
            let _ = diagnosis::exchange::events::classify(f[5].trim(), f[8]);
        }
    }
    let root = replharness_fuzz::case_copy("exchange/no-reply-return-path");
    replharness_fuzz::diagnose_with(root, "servers/BH-PARIS/events.log", data);
});

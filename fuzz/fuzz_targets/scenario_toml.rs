//! Scenario files, as `replharness run` reads them (every flavor: ds, 389,
//! exchange): a plan or an error that names the file; a plan is then
//! checked against the kernel network as `--network netns` does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scenarios::network::Network;

const FILE: &str = "fuzz-case.toml";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match scenarios::plan::load(FILE, text) {
        Ok(plan) => {
            if let Err(e) = plan.on_network(Network::Netns) {
                assert!(e.to_string().contains(FILE), "a refusal names the file: {e}");
            }
        }
        Err(e) => assert!(e.to_string().contains(FILE), "an error names the file: {e}"),
    }
});

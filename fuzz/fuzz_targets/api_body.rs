//! The fault-proxy API's request bodies, as the handlers read them: a proxy
//! to create (`POST /proxies`, `/populate`, the `-config` file), a toxic to
//! add (`POST .../toxics`), a toxic patch and a proxy patch. Whatever the
//! bytes: a value or a clear error, never a panic; an accepted toxic reads
//! back from its JSON as itself; the proxy serves on after every body.
//!
//! One proxy (loopback, port 0) lives for the whole run; a proxy patch's
//! `listen` is left out so no input binds a port of its choosing, and after
//! each input the proxy is put back (upstream, buffer, toxics).
#![no_main]

use std::sync::OnceLock;

use fault_proxy::{Options, Proxy, ProxyServer, ProxySpec, Toxic};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

const UPSTREAM: &str = "127.0.0.1:9";

struct World {
    rt: tokio::runtime::Runtime,
    server: ProxyServer,
    proxy: Proxy,
    base: Toxic,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let server = ProxyServer::new(Options::default());
        let proxy = rt.block_on(server.create(ProxySpec::new("p", "127.0.0.1:0", UPSTREAM))).expect("proxy");
        let base = Toxic::from_json(&json!({"name": "base", "type": "latency", "attributes": {"latency": 5}}))
            .expect("a latency toxic");
        World { rt, server, proxy, base }
    })
}

fuzz_target!(|data: &[u8]| {
    let w = world();
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = fault_proxy::config::parse(text);
    }
    let Ok(v) = serde_json::from_slice::<Value>(data) else { return };
    let _ = ProxySpec::from_json(&v);
    if let Ok(merged) = w.base.merged(&v) {
        assert_eq!(Toxic::from_json(&merged.to_json()).expect("a merged toxic reads back"), merged);
    }
    w.rt.block_on(async {
        if let Ok(t) = Toxic::from_json(&v) {
            assert_eq!(Toxic::from_json(&t.to_json()).expect("an accepted toxic reads back"), t);
            let name = t.name.clone();
            if w.proxy.add_fault(t).await.is_ok() {
                let _ = w.proxy.update_fault(&name, &v).await;
                w.proxy.remove_fault(&name).await.expect("the added toxic is there");
            }
        }
        if let Value::Object(mut patch) = v {
            patch.remove("listen");
            let _ = w.server.update("p", &Value::Object(patch)).await;
            w.server
                .update("p", &json!({"upstream": UPSTREAM, "enabled": true, "buffer_bytes": 1 << 20}))
                .await
                .expect("the proxy put back");
            w.server.reset().await.expect("reset");
        }
        assert!(w.server.get("p").expect("p").enabled());
    });
});

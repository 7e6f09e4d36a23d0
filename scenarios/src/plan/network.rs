//! The network side of a plan: the kernel-only faults a file can write
//! (`type = "loss"`, and `reject` with `reject_with = "icmp-port-unreachable"`),
//! and the check that every step of a plan can be played on the network it
//! will run on, with the place of the first one that cannot.
//!
//! The keys a kernel-only fault shares with a toxic (`stream`, `toxicity`,
//! `target`, `schedule`, `flap`) are checked by building the toxic they
//! would make (`drop` for `loss`, the `reject` itself): the same bounds and
//! messages as every other fault.

use serde_json::{Map, Value};

use super::{fault, Action, Ctx, Plan};
use crate::error::{Error, Problem};
use crate::format::{FaultStep, Seg};
use crate::network::fault::{KernelFault, KernelKind, RejectWith};
use crate::network::Network;
use crate::path;

/// The attributes a `loss` fault takes.
const LOSS_ATTRIBUTES: &str = "probability";

/// A kernel-only fault, or `None` for a fault of the proxy's vocabulary
/// (whose `reject_with = "tcp-reset"`, the proxy's own answer, is taken off).
pub(super) fn kernel_only(ctx: &Ctx<'_>, i: usize, step: &FaultStep) -> Result<Option<KernelFault>, Error> {
    let spec = &step.fault;
    match spec.type_name.as_str() {
        "loss" => loss(ctx, i, step).map(Some),
        "reject" if spec.attributes.contains_key("reject_with") => reject(ctx, i, step),
        _ => Ok(None),
    }
}

fn attr_path(i: usize, key: &str) -> Vec<Seg<'_>> {
    path!["steps", i, "fault", "attributes", key].to_vec()
}

fn loss(ctx: &Ctx<'_>, i: usize, step: &FaultStep) -> Result<KernelFault, Error> {
    let attrs = &step.fault.attributes;
    if let Some(k) = attrs.keys().find(|k| k.as_str() != LOSS_ATTRIBUTES) {
        let problem = Problem::KernelFault(format!(
            "fault.attributes.{k}: unknown key (a loss fault takes {LOSS_ATTRIBUTES}, 0 to 1: the chance a packet is dropped)"
        ));
        return Err(ctx.key_err(&attr_path(i, k), problem));
    }
    let probability = match attrs.get("probability") {
        Some(Value::Number(n)) => n.as_f64().filter(|p| (0.0..=1.0).contains(p)),
        None => None,
        Some(_) => None,
    };
    let Some(probability) = probability else {
        let problem = Problem::KernelFault(
            "fault.attributes.probability: a loss fault needs the chance a packet is dropped, a number from 0 to 1"
                .into(),
        );
        let at = if attrs.contains_key("probability") {
            attr_path(i, "probability")
        } else {
            path!["steps", i, "fault"].to_vec()
        };
        return Err(ctx.err(&at, problem));
    };
    // The shared keys, checked as a drop's.
    let mut carrier = step.clone();
    carrier.fault.type_name = "drop".into();
    carrier.fault.attributes = Map::new();
    let toxic = fault::toxic(ctx, i, &carrier)?;
    let name = step.name.clone().unwrap_or_else(|| format!("loss_{}", stream_name(toxic.stream)));
    Ok(KernelFault {
        name,
        kind: KernelKind::Loss { probability },
        stream: toxic.stream,
        schedule: toxic.schedule,
        client_ports: toxic.target.client_ports,
    })
}

fn reject(ctx: &Ctx<'_>, i: usize, step: &FaultStep) -> Result<Option<KernelFault>, Error> {
    let given = &step.fault.attributes["reject_with"];
    let with = given.as_str().and_then(RejectWith::parse).ok_or_else(|| {
        ctx.err(
            &attr_path(i, "reject_with"),
            Problem::KernelFault(format!(
                "fault.attributes.reject_with: {given} is not {}",
                RejectWith::NAMES.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(" or ")
            )),
        )
    })?;
    if with == RejectWith::TcpReset {
        return Ok(None);
    }
    let mut carrier = step.clone();
    carrier.fault.attributes.remove("reject_with");
    let toxic = fault::toxic(ctx, i, &carrier)?;
    let mut k = KernelFault::from_toxic(&toxic)
        .map_err(|why| ctx.err(&path!["steps", i, "fault"], Problem::KernelFault(why)))?;
    if let KernelKind::Reject { reset_existing, .. } = k.kind {
        k.kind = KernelKind::Reject { with, reset_existing };
    }
    Ok(Some(k))
}

/// A `fault` step without the kernel-only key `reject_with = "tcp-reset"`.
pub(super) fn proxy_form(step: &FaultStep) -> std::borrow::Cow<'_, FaultStep> {
    if step.fault.type_name == "reject" && step.fault.attributes.contains_key("reject_with") {
        let mut s = step.clone();
        s.fault.attributes.remove("reject_with");
        std::borrow::Cow::Owned(s)
    } else {
        std::borrow::Cow::Borrowed(step)
    }
}

fn stream_name(s: fault_proxy::Stream) -> &'static str {
    match s {
        fault_proxy::Stream::Upstream => "upstream",
        fault_proxy::Stream::Downstream => "downstream",
        fault_proxy::Stream::Both => "both",
    }
}

/// Every step of `plan` can be played on `network`; else the first that
/// cannot, with its place.
pub(super) fn check(plan: &Plan, network: Network) -> Result<(), Error> {
    let at_step = |s: &super::PlannedStep, why: String| {
        Error::invalid(s.place.clone(), Problem::NotOnNetwork { network: network.name(), why })
    };
    match network {
        Network::Proxy => {
            for s in &plan.steps {
                if let Action::KernelFault { fault, .. } = &s.action {
                    let what = match fault.kind {
                        KernelKind::Loss { .. } => {
                            "lose single packets (type = \"loss\"): the proxy moves bytes, not packets"
                        }
                        _ => "answer with ICMP port unreachable: the proxy's reject is a TCP reset",
                    };
                    return Err(at_step(s, format!("the proxy network cannot {what}; run it with --network netns")));
                }
            }
        }
        Network::Netns => {
            if let Some((_, place)) = &plan.proxy_api {
                return Err(Error::invalid(
                    place.clone(),
                    Problem::NotOnNetwork {
                        network: network.name(),
                        why: "the netns network has no link proxies: [topology.proxy] api goes with the proxy network"
                            .into(),
                    },
                ));
            }
            if let Some(place) = plan.fixed_addresses.first() {
                return Err(Error::invalid(
                    place.clone(),
                    Problem::NotOnNetwork {
                        network: network.name(),
                        why: "a server's address is its test host's (198.18.0.0/15), given by the run: leave addresses out".into(),
                    },
                ));
            }
            for s in &plan.steps {
                if let Action::Fault { toxic, .. } = &s.action {
                    KernelFault::from_toxic(toxic).map_err(|why| at_step(s, why))?;
                }
            }
            for s in plan.exchange.iter().flat_map(|ex| &ex.steps) {
                if let crate::exchange::plan::ExAction::Fault { toxic, .. } = &s.action {
                    KernelFault::from_toxic(toxic).map_err(|why| {
                        Error::invalid(s.place.clone(), Problem::NotOnNetwork { network: network.name(), why })
                    })?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::load;
    use super::*;

    const BASE: &str =
        "name = \"x\"\n[topology]\n[[topology.servers]]\nname = \"ds-1\"\n\n[[topology.servers]]\nname = \"ds-2\"\n";

    /// A file on the netns network (`network = "netns"` under `[topology]`).
    fn netns(steps: &str) -> String {
        format!("{}{steps}", BASE.replace("[topology]\n", "[topology]\nnetwork = \"netns\"\n"))
    }

    fn fault_step(body: &str) -> String {
        format!("[[steps]]\nat = \"1m\"\naction = \"fault\"\nlink = \"ds-1 <-> ds-2\"\n{body}\n")
    }

    fn refusal(text: &str) -> (String, String) {
        let e = load("x.toml", text).expect_err("refused");
        let (place, problem) = e.problem().unwrap_or_else(|| panic!("an invalid file, not {e}"));
        (place.to_string(), problem.to_string())
    }

    #[test]
    fn the_file_picks_the_network_and_proxy_is_the_default() {
        assert_eq!(load("x.toml", BASE).expect("valid").network, Network::Proxy);
        assert_eq!(load("x.toml", &netns("")).expect("valid").network, Network::Netns);
        let (at, p) = refusal(&BASE.replace("[topology]\n", "[topology]\nnetwork = \"wifi\"\n"));
        assert_eq!(at, "x.toml:3:11");
        assert!(p.contains("unknown variant `wifi`, expected `proxy` or `netns`"), "{p}");
    }

    #[test]
    fn loss_is_a_kernel_fault_with_the_proxys_shared_keys() {
        let p = load("x.toml", &netns(&fault_step("name = \"lossy\"\nfault = { type = \"loss\", stream = \"upstream\", attributes = { probability = 0.25 } }\nflap = { on = \"10s\", off = \"20s\" }"))).expect("valid");
        let Action::KernelFault { links, fault } = &p.steps[0].action else {
            panic!("a kernel fault: {:?}", p.steps[0].action)
        };
        assert_eq!(links.len(), 2);
        assert_eq!(fault.name, "lossy");
        assert_eq!(fault.kind, KernelKind::Loss { probability: 0.25 });
        assert_eq!(fault.stream, fault_proxy::Stream::Upstream);
        assert_eq!(
            fault.schedule.as_ref().and_then(|s| s.flap.as_ref()).map(|f| (f.on_ms, f.off_ms)),
            Some((100, 200))
        );
        let p = load("x.toml", &netns(&fault_step("fault = { type = \"loss\", attributes = { probability = 1 } }")))
            .expect("valid");
        let Action::KernelFault { fault, .. } = &p.steps[0].action else { panic!("a kernel fault") };
        assert_eq!(
            (fault.name.as_str(), fault.stream),
            ("loss_both", fault_proxy::Stream::Both),
            "both ways by default"
        );
    }

    #[test]
    fn a_loss_written_wrong_is_refused_at_its_place() {
        let (at, p) = refusal(&netns(&fault_step("fault = { type = \"loss\", attributes = { probabilty = 0.1 } }")));
        assert_eq!(at, "x.toml:13:41");
        assert!(p.contains("probabilty: unknown key") && p.contains("takes probability"), "{p}");
        let (at, p) = refusal(&netns(&fault_step("fault = { type = \"loss\", attributes = { probability = 1.5 } }")));
        assert_eq!(at, "x.toml:13:55");
        assert!(p.contains("a number from 0 to 1"), "{p}");
        let (_, p) = refusal(&netns(&fault_step("fault = { type = \"loss\" }")));
        assert!(p.contains("needs the chance a packet is dropped"), "{p}");
        let (_, p) = refusal(&netns(&fault_step(
            "fault = { type = \"loss\", stream = \"sideways\", attributes = { probability = 0.1 } }",
        )));
        assert!(p.contains("stream was invalid"), "the proxy's own check of the shared keys: {p}");
    }

    #[test]
    fn reject_with_icmp_is_kernel_only_and_tcp_reset_is_the_proxys_own_reject() {
        let p = load("x.toml", &netns(&fault_step("fault = { type = \"reject\", attributes = { reject_with = \"icmp-port-unreachable\", reset_existing = true } }"))).expect("valid");
        let Action::KernelFault { fault, .. } = &p.steps[0].action else { panic!("a kernel fault") };
        assert_eq!(fault.kind, KernelKind::Reject { with: RejectWith::IcmpPortUnreachable, reset_existing: true });
        let text = format!(
            "{BASE}{}",
            fault_step("fault = { type = \"reject\", attributes = { reject_with = \"tcp-reset\" } }")
        );
        let p = load("x.toml", &text).expect("valid on the proxy network");
        assert!(
            matches!(&p.steps[0].action, Action::Fault { toxic, .. } if toxic.kind == fault_proxy::Kind::Reject { reset_existing: false })
        );
        let (at, p) =
            refusal(&netns(&fault_step("fault = { type = \"reject\", attributes = { reject_with = \"rst\" } }")));
        assert_eq!(at, "x.toml:13:57");
        assert!(p.contains("\"rst\" is not \"tcp-reset\" or \"icmp-port-unreachable\""), "{p}");
    }

    #[test]
    fn kernel_only_faults_are_refused_on_the_proxy_network_naming_the_way_out() {
        let (at, p) = refusal(&format!(
            "{BASE}{}",
            fault_step("fault = { type = \"loss\", attributes = { probability = 0.1 } }")
        ));
        assert_eq!(at, "x.toml:8:1", "the step");
        assert!(p.contains("the proxy network cannot lose single packets") && p.contains("--network netns"), "{p}");
        let text = format!(
            "{BASE}{}",
            fault_step("fault = { type = \"reject\", attributes = { reject_with = \"icmp-port-unreachable\" } }")
        );
        let (_, p) = refusal(&text);
        assert!(p.contains("ICMP port unreachable"), "{p}");
        let plan =
            load("x.toml", &netns(&fault_step("fault = { type = \"loss\", attributes = { probability = 0.1 } }")))
                .expect("valid");
        let e = plan.on_network(Network::Proxy).expect_err("--network proxy wins, and cannot");
        assert!(e.to_string().contains("x.toml:9:1: the proxy network cannot"), "{e}");
    }

    #[test]
    fn what_the_kernel_cannot_do_is_refused_on_netns_at_the_step() {
        let (at, p) = refusal(&netns(&fault_step("fault = { type = \"latency\", attributes = { latency = 100 } }")));
        assert_eq!(at, "x.toml:9:1");
        assert!(p.contains("the netns network") && p.contains("tc netem") && p.contains("--network proxy"), "{p}");
        let on_proxy = load("x.toml", &format!("{BASE}{}", fault_step("fault = { type = \"hold\" }")))
            .expect("valid on the proxy");
        let e = on_proxy.clone().on_network(Network::Netns).expect_err("--network netns refuses it");
        assert!(e.to_string().contains("x.toml:8:1: the netns network") && e.to_string().contains("hold"), "{e}");
        assert_eq!(on_proxy.on_network(Network::Proxy).expect("same network").network, Network::Proxy);
        let fine = load("x.toml", &format!("{BASE}{}", fault_step("fault = { type = \"drop\" }"))).expect("valid");
        assert_eq!(fine.on_network(Network::Netns).expect("a drop runs on both").network, Network::Netns);
    }

    #[test]
    fn a_netns_server_takes_its_hosts_address_not_one_from_the_file() {
        let text = netns("").replace("name = \"ds-2\"\n", "name = \"ds-2\"\naddresses = [\"127.0.0.5\"]\n");
        let (at, p) = refusal(&text);
        assert_eq!(at, "x.toml:9:13");
        assert!(p.contains("198.18.0.0/15") && p.contains("leave addresses out"), "{p}");
    }
}

/// docs/network.md: its examples are what the code reads and writes.
#[cfg(test)]
mod docs {
    use super::super::load;
    use super::*;

    const MD: &str = include_str!("../../../docs/network.md");

    /// Every ```toml block of the page.
    fn blocks() -> Vec<&'static str> {
        MD.split("```toml\n").skip(1).filter_map(|b| b.split("\n```").next()).collect()
    }

    #[test]
    fn the_complete_kernel_only_file_loads_as_written() {
        let file = blocks().into_iter().find(|b| b.starts_with("name = ")).expect("the complete file");
        let p = load("docs/network.md", file).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.network, Network::Netns);
        assert!(
            matches!(&p.steps[0].action, Action::KernelFault { fault, .. } if fault.kind == KernelKind::Loss { probability: 0.05 })
        );
        let shipped = include_str!("../../library-netns/packet-loss.toml");
        let shipped = load("packet-loss.toml", shipped).expect("the shipped file");
        assert_eq!((shipped.name, shipped.tags), (p.name, p.tags), "the page shows the shipped file");
    }

    #[test]
    fn the_icmp_step_and_the_network_keys_load() {
        let step = blocks().into_iter().find(|b| b.contains("icmp-port-unreachable")).expect("the icmp step");
        let text = format!(
            "name = \"x\"\n[topology]\nnetwork = \"netns\"\n[[topology.servers]]\nname = \"ds-1\"\n[[topology.servers]]\nname = \"ds-2\"\n{step}\n"
        );
        let p = load("x.toml", &text).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            matches!(&p.steps[0].action, Action::KernelFault { fault, .. } if fault.kind == KernelKind::Reject { with: RejectWith::IcmpPortUnreachable, reset_existing: true })
        );
        let key = blocks().into_iter().find(|b| b.starts_with("[topology]\nnetwork")).expect("the key");
        let text = format!("name = \"x\"\n{key}\n[[topology.servers]]\nname = \"ds-1\"\n");
        assert_eq!(load("x.toml", &text).expect("valid").network, Network::Netns);
    }

    #[test]
    fn the_case_notes_shown_are_what_the_runner_writes() {
        let notes: Vec<toml::Table> = blocks()
            .into_iter()
            .filter(|b| b.starts_with("[network]"))
            .map(|b| toml::from_str(b).expect("TOML"))
            .collect();
        assert_eq!(notes.len(), 2);
        assert_eq!(notes[0]["network"]["kind"].as_str(), Some("proxy"));
        let host = notes[1]["network"]["hosts"][0].as_table().expect("a host");
        let mut shown: Vec<&str> = host.keys().map(String::as_str).collect();
        let mut written = crate::network::kernel::HOST_KEYS.to_vec();
        shown.sort_unstable();
        written.sort_unstable();
        assert_eq!(shown, written);
        let names: Vec<&str> = ["kind", "range", "switch", "hosts"].to_vec();
        assert!(names.iter().all(|k| notes[1]["network"].get(k).is_some()));
    }
}

//! The bundled suite's wall time, and how fast a 50-server, 3-domain full mesh
//! (no proxies) logs every accept. Writes its section of BENCHMARKS.md
//! (run: `cargo bench -p scenarios`). The 20-run soak is `scripts/soak.sh`.

#[path = "../../bench-support/report.rs"]
mod bench_report;
use bench_report::{today, write_section};

use std::time::{Duration, Instant};

use harness::{Mesh, MeshSpec, Version};
use scenarios::runner::{self, RunOptions};

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    // The suite, one scenario at a time and four at a time.
    let suite = scenarios::suite::load(&[]).expect("library");
    let mut times = Vec::new();
    let mut all_passed = true;
    for jobs in [1usize, 4] {
        let t = Instant::now();
        let outcomes = rt.block_on(async {
            let opts = RunOptions::new(1);
            let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(jobs));
            let mut set = tokio::task::JoinSet::new();
            for l in suite.clone() {
                let (sem, opts) = (sem.clone(), opts.clone());
                set.spawn(async move {
                    let _p = sem.acquire().await.expect("permit");
                    runner::run(&l, &opts).await
                });
            }
            let mut out = Vec::new();
            while let Some(o) = set.join_next().await {
                out.push(o.expect("task"));
            }
            out
        });
        all_passed &= outcomes.iter().all(|o| o.passed);
        times.push((jobs, t.elapsed().as_secs_f64(), outcomes.iter().filter(|o| o.passed).count()));
    }
    // Mesh scale.
    let (servers, elapsed, links) = rt.block_on(async {
        let mut spec = MeshSpec::full_mesh(50, &Version::parse("6.5").expect("v"), &["dc=example,dc=com"]);
        spec.time_scale = 1.0;
        let t = Instant::now();
        let mesh = Mesh::start(spec).await.expect("mesh");
        mesh.wait_all_up(Duration::from_secs(120)).await.expect("every link up");
        let elapsed = t.elapsed().as_secs_f64();
        let links = mesh.link_table().await.len();
        let servers = mesh.servers().len();
        mesh.shutdown().await;
        (servers, elapsed, links)
    });
    let yes = |b: bool| if b { "yes" } else { "**no**" };
    let (j1, j4) = (times[0], times[1]);
    let report = format!(
        "## scenarios (`cargo bench -p scenarios`)\n\n\
         Measured {date} on this machine ({cores} cores), everything in-process on loopback.\n\n\
         | measure | result | goal | met |\n\
         |---|---|---|---|\n\
         | bundled suite, `--jobs 1` | {a:.1} s, {pa}/{n} passed | < 60 s | {m1} |\n\
         | bundled suite, `--jobs 4` | {b:.1} s, {pb}/{n} passed | — | — |\n\
         | {servers}-server, 3-domain full mesh (no proxies): every accept logged | {elapsed:.2} s ({links} RS↔RS links + {ds} DS sessions) | < 5 s | {m2} |\n\n\
         The 20-run soak (`scripts/soak.sh`, not in the default run) reports its own count of failures.\n",
        date = today(),
        cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        a = j1.1,
        pa = j1.2,
        b = j4.1,
        pb = j4.2,
        n = suite.len(),
        m1 = yes(j1.1 < 60.0 && all_passed),
        ds = servers * 3,
        m2 = yes(elapsed < 5.0),
    );
    print!("{report}");
    write_section("scenarios", &report);
}

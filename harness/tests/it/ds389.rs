//! The 389 flavor on real loopback sockets: a supplier and a consumer
//! replicate, and each fault on the agreement's path gives the status and
//! the errors-log lines the real server gives.

use std::time::Duration;

use harness::ds389::{Lab389, Lab389Spec};

use crate::support::bounded;

const SUFFIX: &str = "dc=example,dc=com";
const WAIT: Duration = Duration::from_secs(15);

fn spec() -> Lab389Spec {
    let mut s = Lab389Spec::new(1, 1, SUFFIX);
    s.time_scale = 100.0;
    for c in &mut s.servers {
        if let Some(r) = c.replica.as_mut() {
            r.backoff_min = Duration::from_secs(1);
            r.backoff_max = Duration::from_secs(4);
        }
        for a in &mut c.agreements {
            a.timeout = Duration::from_secs(10);
        }
    }
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supplier_and_a_consumer_replicate_and_write_the_real_files() {
    bounded(async {
        let lab = Lab389::start(spec()).await.expect("lab");
        lab.wait_in_sync(WAIT).await.expect("first session (the keep-alive entry) reaches the consumer");
        let s = lab.server("slapd-s1").expect("supplier");
        let c = lab.server("slapd-c1").expect("consumer");
        let csns = s.write(5).await.expect("writes");
        lab.wait_in_sync(WAIT).await.expect("the writes reach the consumer");
        assert!(c.ruv_max(1) >= csns.last().copied());
        let rows = lab.agreements();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].status, "Error (0) Replica acquired successfully: Incremental update succeeded");
        let case = harness::casefile::CaseSource::case(&lab);
        let sup = case.servers.iter().find(|x| x.entry.name == "slapd-s1").expect("supplier files");
        let text = |f: &str| {
            String::from_utf8(sup.files.iter().find(|x| x.path.to_str() == Some(f)).expect(f).contents.clone()).expect("utf8")
        };
        let agmts = text("agreements.ldif");
        let unfolded = agmts.replace("\n ", "");
        assert!(unfolded.starts_with("dn: cn=s1-to-c1,cn=replica,cn=dc\\3Dexample\\2Cdc\\3Dcom,cn=mapping tree,cn=config\n"), "{agmts}");
        assert!(agmts.contains("nsds5replicaLastUpdateStatus: Error (0) Replica acquired successfully: Increme\n ntal update succeeded\n"), "{agmts}");
        assert!(agmts.lines().all(|l| l.len() <= 78));
        let errors = text("errors");
        assert!(errors.starts_with("\t389-Directory/2.3.1 B2025.016.1616\n"), "{errors}");
        assert!(errors.contains(" - NOTICE - NSMMReplicationPlugin - replica_subentry_check - Need to create replication keep alive entry <cn=repl keep alive 1,dc=example,dc=com>\n"), "{errors}");
        let replica = text("replica.ldif");
        assert!(replica.contains("nsds5AgmtMaxCSN: dc=example,dc=com;s1-to-c1;c1.example.com;"), "{replica}");
        eprintln!("{agmts}\n{replica}\n{errors}");
        lab.shutdown().await;
    })
    .await;
}

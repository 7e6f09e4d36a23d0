//! End-to-end: a mesh brought up by the harness writes a case folder laid out
//! as `spec/cli.md` defines it.

use std::time::Duration;

use harness::{Mesh, MeshSpec, Version};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mesh_case_folder_has_the_documented_layout() {
    tokio::time::timeout(Duration::from_secs(60), async {
        let mut spec = MeshSpec::full_mesh(2, &Version::parse("6.5").expect("v"), &["dc=example,dc=com"]);
        spec.time_scale = 100.0;
        let mesh = Mesh::start(spec).await.expect("mesh");
        mesh.wait_all_up(Duration::from_secs(15)).await.expect("up");
        let dir = tempfile::tempdir().expect("tempdir");
        harness::casefile::write_case(&mesh, dir.path()).expect("case");
        mesh.shutdown().await;
        let topo: toml::Value =
            toml::from_str(&std::fs::read_to_string(dir.path().join("topology.toml")).expect("read")).expect("toml");
        let servers = topo["servers"].as_array().expect("servers");
        assert_eq!(servers.len(), 2);
        for s in servers {
            assert_eq!(s["flavor"].as_str(), Some("ds"));
            assert_eq!(s["version"].as_str(), Some("6.5"));
            let id = s["server_id"].as_str().expect("id");
            assert!(id.parse::<u32>().is_ok(), "6.5 server ids are numbers: {id}");
            let domains: Vec<&str> =
                s["domains"].as_array().expect("domains").iter().filter_map(|d| d.as_str()).collect();
            assert_eq!(domains, ["cn=schema", "cn=admin data", "dc=example,dc=com"]);
            let port = s["ports"]["replication"].as_integer().expect("port");
            let host = s["host"].as_str().expect("host");
            let name = s["name"].as_str().expect("name");
            // The other server's replication log names this one's listener as really bound.
            let other = if name == "ds-1" { "ds-2" } else { "ds-1" };
            let repl =
                std::fs::read_to_string(dir.path().join("servers").join(other).join("replication")).expect("log");
            let addr = format!("{host}/{}:{port}", s["addresses"][0].as_str().expect("addr"));
            let connected = repl.lines().any(|l| l.contains("msgID=205 ") && l.contains(&addr));
            let accepted = repl.lines().any(|l| l.contains("msgID=206 ") && l.contains(&format!("RS({id})")));
            assert!(connected || accepted, "{other} has no link line for {name}:\n{repl}");
        }
    })
    .await
    .expect("bounded");
}

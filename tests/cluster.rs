//! The local namespace cluster and the control layer against real parts:
//! real namespaces, a real sshd per node, real SSH. Needs root: these tests
//! are ignored (with the reason) unless run with `-- --include-ignored`,
//! as `.ci/run` does as root.

mod common;

use common::{assert_gone, faultline, iptables_rules, require_root, rt, text, Cluster};
use faultline::control::docker::DockerRemote;
use faultline::control::ssh::{HostKeyCheck, SshOptions, SshRemote};
use faultline::control::{on_all, Cmd, Node, Remote, RemoteError, RemoteExt};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

#[test]
#[ignore = "needs root and openssh-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn nodes_are_separate_hosts_reachable_over_ssh() {
    require_root();
    let before = iptables_rules();
    let c = Cluster::up("tcsep", 3);
    let remotes = c.state.remotes();
    rt().block_on(async {
        // Hostnames differ.
        let names: Vec<String> = on_all(&remotes, &Cmd::argv(["hostname"]))
            .await
            .into_iter()
            .map(|(_, r)| r.unwrap().stdout_text())
            .collect();
        assert_eq!(names, ["n1", "n2", "n3"]);

        // A process started on n1 is invisible on n2.
        let start = Cmd::shell("setsid sleep 300 >/dev/null 2>&1 < /dev/null & echo started");
        remotes[0].run(&start).await.unwrap();
        let find = Cmd::shell("ps -eo comm | grep -cx sleep || true");
        assert_eq!(remotes[0].run(&find).await.unwrap().stdout_text(), "1");
        assert_eq!(remotes[1].run(&find).await.unwrap().stdout_text(), "0");

        // n1 reaches n2 by address.
        let n2 = &c.state.nodes[1].addr;
        let reach = Cmd::argv([
            "bash",
            "-c",
            &format!("exec 3<>/dev/tcp/{n2}/22 && echo ok"),
        ]);
        assert_eq!(remotes[0].run(&reach).await.unwrap().stdout_text(), "ok");

        // 10 MB round-trips byte-exact; the data dir is private to the node.
        let blob: Vec<u8> = (0..10u64 << 20)
            .map(|i| (i.wrapping_mul(0x9e37_79b9) >> 13) as u8)
            .collect();
        let path = "/var/lib/faultline/node/blob.bin";
        let t = Instant::now();
        remotes[0].upload(&blob, path).await.unwrap();
        let back = remotes[0].download(path).await.unwrap();
        eprintln!(
            "10 MB up and down in {:.0} ms",
            t.elapsed().as_secs_f64() * 1e3
        );
        assert!(back == blob, "downloaded bytes differ");
        let on_n2 = remotes[1]
            .exec(&Cmd::argv(["test", "-e", path]))
            .await
            .unwrap();
        assert_eq!(on_n2.status, Some(1), "n2 must not see n1's data dir");

        // A non-zero exit is reported with node, command, status and stderr.
        let e = remotes[2]
            .run(&Cmd::shell("echo oops >&2; exit 3"))
            .await
            .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("node n3") && msg.contains("status 3") && msg.contains("oops"),
            "{msg}"
        );

        // A command that overruns its timeout is killed and reported.
        let slow = Cmd::argv(["sleep", "30"]).timeout(std::time::Duration::from_millis(300));
        assert!(matches!(
            remotes[0].exec(&slow).await,
            Err(RemoteError::Timeout { .. })
        ));
    });
    drop(remotes);
    drop(c);
    assert_gone("tcsep");
    assert_eq!(
        iptables_rules(),
        before,
        "the root namespace's iptables rules must not change"
    );
}

#[test]
#[ignore = "needs root and openssh-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn five_nodes_in_parallel_and_errors_a_person_can_act_on() {
    require_root();
    let c = Cluster::up("tcpar", 5);
    let remotes = c.state.remotes();
    rt().block_on(async {
        let results = on_all(&remotes, &Cmd::argv(["hostname"])).await;
        assert_eq!(results.len(), 5);
        assert!(results
            .iter()
            .all(|(n, r)| r.as_ref().unwrap().stdout_text() == n.name));

        let layout = c.state.layout();
        let node = c.state.nodes[0].node();
        // Wrong key: an auth error naming the user and the key.
        let other_key = layout.dir().join("nodes/n1/hostkey");
        let opts = SshOptions {
            private_key: Some(other_key.clone()),
            ..c.state.ssh_options()
        };
        let e = SshRemote::new(node.clone(), Arc::new(opts))
            .exec(&Cmd::argv(["true"]))
            .await
            .unwrap_err();
        assert!(matches!(e, RemoteError::Auth { .. }), "{e}");
        assert!(
            e.to_string().contains(&*other_key.to_string_lossy()) && e.to_string().contains("root"),
            "{e}"
        );

        // Unknown host key under strict checking: names the known_hosts file.
        let empty = layout.dir().join("empty_known_hosts");
        std::fs::write(&empty, "").unwrap();
        let opts = SshOptions {
            known_hosts: Some(empty.clone()),
            ..c.state.ssh_options()
        };
        let e = SshRemote::new(node.clone(), Arc::new(opts))
            .exec(&Cmd::argv(["true"]))
            .await
            .unwrap_err();
        assert!(matches!(e, RemoteError::HostKey { .. }), "{e}");
        assert!(e.to_string().contains(&*empty.to_string_lossy()), "{e}");

        // Nothing listening: unreachable, naming node and address.
        let ghost_addr = format!("{}.150", c.state.subnet());
        let ghost = Node::new("ghost", ghost_addr.clone());
        let opts = SshOptions {
            host_key_check: HostKeyCheck::No,
            ..c.state.ssh_options()
        };
        let e = SshRemote::new(ghost, Arc::new(opts))
            .exec(&Cmd::argv(["true"]))
            .await
            .unwrap_err();
        assert!(matches!(e, RemoteError::Unreachable { .. }), "{e}");
        assert!(
            e.to_string().contains("ghost") && e.to_string().contains(&ghost_addr),
            "{e}"
        );
    });

    // The CLI: exec on all nodes and via the nodes file `up` wrote.
    let out = faultline(&["cluster", "exec", "--name", "tcpar", "--", "hostname"]);
    assert_eq!(
        text(&out.stdout).lines().count(),
        5,
        "{}",
        text(&out.stderr)
    );
    let nodes_file = c.state.layout().nodes_file();
    let out = faultline(&[
        "cluster",
        "exec",
        "--nodes-file",
        nodes_file.to_str().unwrap(),
        "--node",
        "n4",
        "--",
        "hostname",
    ]);
    assert_eq!(text(&out.stdout).trim(), "n4", "{}", text(&out.stderr));
    let status = faultline(&["cluster", "status", "--name", "tcpar"]);
    assert!(
        text(&status.stdout).contains("sshd up"),
        "{}",
        text(&status.stdout)
    );
}

#[test]
#[ignore = "needs root and openssh-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn a_dead_sshd_gives_a_clear_error_and_reconnects_after_repair() {
    require_root();
    let c = Cluster::up("tcssh", 2);
    let remote = c.state.remotes().remove(0);
    let rt = rt();
    assert_eq!(
        rt.block_on(remote.run(&Cmd::argv(["hostname"])))
            .unwrap()
            .stdout_text(),
        "n1"
    );
    // Kill every sshd of n1 (the listener and our session), from the host.
    let ns = &c.state.nodes[0].netns;
    let pids = text(
        &Command::new("ip")
            .args(["netns", "pids", ns])
            .output()
            .unwrap()
            .stdout,
    );
    for pid in pids.split_whitespace() {
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim() == "sshd" {
            Command::new("kill").args(["-9", pid]).status().unwrap();
        }
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    let e = rt
        .block_on(remote.exec(&Cmd::argv(["hostname"])))
        .unwrap_err();
    assert_eq!(e.node(), Some("n1"), "{e}");
    assert!(
        matches!(
            e,
            RemoteError::Unreachable { .. } | RemoteError::Disconnected { .. }
        ),
        "{e}"
    );
    // `up` repairs the node; the same remote reconnects.
    let again = faultline(&["cluster", "up", "--name", "tcssh", "--nodes", "2"]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    let out = rt.block_on(async {
        match remote.exec(&Cmd::argv(["hostname"])).await {
            Ok(o) => Ok(o),
            // The first call may still find the dead master; the next reconnects.
            Err(_) => remote.exec(&Cmd::argv(["hostname"])).await,
        }
    });
    assert_eq!(out.unwrap().stdout_text(), "n1");
}

#[test]
#[ignore = "needs root and openssh-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn down_cleans_up_after_a_killed_controller() {
    require_root();
    let mut child = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["cluster", "up", "--name", "tccrash", "--nodes", "4"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(250));
    let _ = child.kill();
    let _ = child.wait();
    let out = faultline(&["cluster", "down", "--name", "tccrash"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_gone("tccrash");
}

#[test]
#[ignore = "needs root and openssh-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn without_root_the_cluster_says_so_in_one_line() {
    require_root();
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            env!("CARGO_BIN_EXE_faultline"),
            "cluster",
            "up",
            "--name",
            "tcnoroot",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(254));
    let err = text(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("needs root"), "{err}");
    // `faultline test` on a local cluster says the same, without trying to clean up.
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            env!("CARGO_BIN_EXE_faultline"),
            "test",
            "workloads/register-demo.yaml",
        ])
        .args(["--store", "/tmp/faultline-noroot-store"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(254));
    let err = text(&out.stderr);
    assert!(
        err.contains("needs root") && !err.contains("warning"),
        "{err}"
    );
}

#[test]
fn docker_backend_runs_or_says_why_not() {
    let rt = rt();
    match rt.block_on(DockerRemote::available()) {
        Err(why) => {
            // No daemon here: the reason must be actionable, and exec must fail cleanly.
            eprintln!("no docker daemon ({why}): only the error path is checked");
            assert!(why.contains("docker"), "{why}");
            let r = DockerRemote::new(Node::new("c1", "faultline-no-such-container"));
            let e = rt.block_on(r.exec(&Cmd::argv(["true"]))).unwrap_err();
            assert!(e.to_string().contains("c1"), "{e}");
        }
        Ok(()) => {
            let r = DockerRemote::new(Node::new("c1", "faultline-no-such-container"));
            let e = rt.block_on(r.exec(&Cmd::argv(["true"]))).unwrap_err();
            assert!(e.to_string().contains("faultline-no-such-container"), "{e}");
        }
    }
}

#[test]
#[ignore = "needs root and openssh-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn list_shows_owners_and_the_clusters_of_dead_controllers_are_removed() {
    require_root();
    // A cluster root of its own: `down --all` here must not reach the
    // clusters of other tests (or people) on this machine.
    // Not under /tmp, /run or /root, which every node mounts a private one
    // over: so not under the target directory either, which is there when
    // the checkout is (`git clone` in root's home or in /tmp).
    let root =
        std::path::Path::new("/var/tmp").join(format!("faultline-orphans-{}", std::process::id()));
    let fl = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_faultline"))
            .env(faultline::cluster::ROOT_ENV, &root)
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap()
    };
    struct Cleanup<'a>(
        &'a dyn Fn(&[&str]) -> std::process::Output,
        &'a std::path::Path,
    );
    impl Drop for Cleanup<'_> {
        fn drop(&mut self) {
            (self.0)(&["cluster", "down", "--all"]);
            let _ = std::fs::remove_dir_all(self.1);
        }
    }
    let _cleanup = Cleanup(&fl, &root);
    let store = root.join("store");
    let store = store.to_str().unwrap();

    std::fs::create_dir_all(&root).unwrap();
    let out = fl(&["cluster", "up", "--name", "tckeep", "--nodes", "1"]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    // A `faultline test` killed mid-run leaves its cluster behind.
    let mut child = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .env(faultline::cluster::ROOT_ENV, &root)
        .args(["test", "workloads/register-demo.yaml", "--local", "1"])
        .args(["--time-limit", "60", "--store", store])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(root.join("killed.err")).unwrap())
        .spawn()
        .unwrap();
    let orphan = common::run_cluster(child.id());
    let history = root.join("store/register-demo/latest/history.jsonl");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    while std::fs::read_to_string(&history).map_or(0, |t| t.lines().count()) < 20 {
        assert!(
            std::time::Instant::now() < deadline && child.try_wait().unwrap().is_none(),
            "the test never ran: {}",
            std::fs::read_to_string(root.join("killed.err")).unwrap_or_default()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let out = fl(&["cluster", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let find = |name: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} not listed: {list}"))
    };
    assert_eq!(find("tckeep")["made_by"], "cluster up");
    assert_eq!(find("tckeep")["nodes_up"], 1);
    assert_eq!(find(&orphan)["made_by"], "faultline test");
    assert_eq!(find(&orphan)["owner_alive"], false, "{list}");
    let out = fl(&["cluster", "list"]);
    let table = text(&out.stdout);
    assert!(
        table.contains(&orphan) && table.contains("gone") && table.contains("kept until"),
        "{table}"
    );

    // The next `faultline test` removes it first, and leaves `tckeep` alone.
    let out = fl(&[
        "test",
        "workloads/register-demo.yaml",
        "--local",
        "1",
        "--time-limit",
        "3",
        "--store",
        store,
    ]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}\n{}", text(&out.stdout));
    assert!(
        err.contains(&format!(
            "removed local cluster {orphan}, left behind by faultline test pid"
        )),
        "{err}"
    );
    let names: Vec<String> =
        serde_json::from_slice::<serde_json::Value>(&fl(&["cluster", "list", "--json"]).stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect();
    assert_eq!(names, ["tckeep"]);
    let ns = common::netns_list();
    assert!(!ns.contains(&format!("{orphan}-")), "{ns}");

    // `down --all` removes every cluster of this root.
    let out = fl(&["cluster", "down", "--all"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("namespace tckeep-n1"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        text(&fl(&["cluster", "list"]).stdout).trim(),
        "no local clusters"
    );
    let ns = common::netns_list();
    assert!(!ns.contains("tckeep-"), "{ns}");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
#[ignore = "needs root and openssh-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn clusters_made_at_once_whose_names_share_a_subnet_get_different_ones() {
    require_root();
    // "sna1" and "sna50" hash to the same preferred /24.
    let (a, b) = (
        faultline::cluster::Layout::new("sna1").unwrap(),
        faultline::cluster::Layout::new("sna50").unwrap(),
    );
    assert_eq!(a.preferred_subnet(), b.preferred_subnet());
    let (ca, cb) = std::thread::scope(|s| {
        let ta = s.spawn(|| Cluster::up("sna1", 1));
        let tb = s.spawn(|| Cluster::up("sna50", 1));
        (ta.join().unwrap(), tb.join().unwrap())
    });
    assert_ne!(ca.state.subnet(), cb.state.subnet());
    // Each node is reachable on its own address.
    rt().block_on(async {
        for c in [&ca, &cb] {
            let out = c.state.remotes()[0]
                .run(&Cmd::argv(["hostname", "-I"]))
                .await
                .unwrap();
            assert!(out.stdout_text().contains(&c.state.nodes[0].addr));
        }
    });
}

//! Faults on the local cluster, against real iptables, real processes and
//! real libfaketime. Needs root (CI runs as root).

mod common;

use common::{faultline, iptables_rules, require_root, text, Cluster};
use std::process::Command;
use std::time::{Duration, Instant};

/// `faultline nemesis ARGS --name NAME`, which must succeed.
fn nemesis(name: &str, args: &[&str]) -> String {
    let mut all = vec!["nemesis"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--name", name]);
    let out = faultline(&all);
    assert!(
        out.status.success(),
        "nemesis {args:?}: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Runs a shell script on one node; returns stdout.
fn on(name: &str, node: &str, script: &str) -> String {
    let out = faultline(&[
        "cluster", "exec", "--name", name, "--node", node, "--", "bash", "-c", script,
    ]);
    text(&out.stdout).trim().to_string()
}

/// Can `from` open a TCP connection to `to`'s sshd?
fn connects(c: &Cluster, from: &str, to: &str) -> bool {
    let addr = &c.state.nodes.iter().find(|n| n.name == to).unwrap().addr;
    on(
        &c.name,
        from,
        &format!("timeout 1 bash -c 'exec 3<>/dev/tcp/{addr}/22' && echo yes || echo no"),
    ) == "yes"
}

#[test]
#[ignore = "needs root and openssh-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn partitions_cut_and_heal_and_leave_host_iptables_alone() {
    require_root();
    let before = iptables_rules();
    let c = Cluster::up("tnpart", 5);
    let out = nemesis(
        "tnpart",
        &["start", "partition", "--grudge", "halves", "--seed", "3"],
    );
    let grudge: serde_json::Value =
        serde_json::from_str(out.split_whitespace().nth(1).unwrap()).unwrap();
    let cut = |a: &str, b: &str| grudge[a].as_array().unwrap().iter().any(|x| x == b);
    let names: Vec<String> = (1..=5).map(|i| format!("n{i}")).collect();
    let (mut across, mut within) = (0, 0);
    for a in &names {
        for b in &names {
            if a == b {
                continue;
            }
            let ok = connects(&c, a, b);
            assert_eq!(ok, !cut(b, a) && !cut(a, b), "{a} -> {b} under {grudge}");
            if ok {
                within += 1
            } else {
                across += 1
            }
        }
    }
    assert!(across > 0 && within > 0);
    let t = Instant::now();
    nemesis("tnpart", &["stop", "partition"]);
    eprintln!("heal took {:?}", t.elapsed());
    for a in &names {
        for b in &names {
            if a != b {
                assert!(connects(&c, a, b), "{a} -> {b} after heal");
            }
        }
    }
    nemesis("tnpart", &["heal"]);
    drop(c);
    assert_eq!(iptables_rules(), before, "root namespace iptables changed");
}

#[test]
#[ignore = "needs root and openssh-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn packet_loss_drops_about_half() {
    require_root();
    let c = Cluster::up("tnloss", 2);
    nemesis(
        "tnloss",
        &["start", "loss", "--probability", "0.5", "--target", "n2"],
    );
    let n2 = &c.state.nodes[1].addr;
    let out = on(
        "tnloss",
        "n1",
        &format!("ping -c 1000 -i 0.002 -W 1 -q {n2} | grep -o '[0-9.]*% packet loss'"),
    );
    let loss: f64 = out
        .trim_end_matches("% packet loss")
        .parse()
        .unwrap_or_else(|_| panic!("ping said {out:?}"));
    assert!((38.0..=62.0).contains(&loss), "loss {loss}% for p=0.5");
    nemesis("tnloss", &["stop", "loss", "--target", "n2"]);
    let out = on(
        "tnloss",
        "n1",
        &format!("ping -c 100 -i 0.002 -W 1 -q {n2} | grep -o '[0-9.]*% packet loss'"),
    );
    assert_eq!(out, "0% packet loss");
}

const PIDFILE: &str = "/var/lib/faultline/node/db.pid";
const START: &str = "setsid sh -c 'echo $$ > /var/lib/faultline/node/db.pid; exec sleep 100000' >/dev/null 2>&1 < /dev/null &";

fn state_of(name: &str, node: &str) -> String {
    on(
        name,
        node,
        &format!(
            "pid=$(cat {PIDFILE}); echo $pid $(sed 's/.*) //' /proc/$pid/stat | cut -d' ' -f1)"
        ),
    )
}

#[test]
#[ignore = "needs root and openssh-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn kill_pause_and_restart_act_on_the_real_process() {
    require_root();
    let _c = Cluster::up("tnproc", 2);
    on("tnproc", "n1", START);
    std::thread::sleep(Duration::from_millis(100));
    let db = ["--pidfile", PIDFILE, "--start", START, "--target", "n1"];
    let first = state_of("tnproc", "n1");
    assert!(first.ends_with(" S"), "{first}");

    nemesis("tnproc", &[&["start", "pause"][..], &db].concat());
    assert!(state_of("tnproc", "n1").ends_with(" T"), "paused");
    nemesis("tnproc", &[&["stop", "pause"][..], &db].concat());
    assert_eq!(state_of("tnproc", "n1"), first, "resumed, same process");

    let t = Instant::now();
    nemesis("tnproc", &[&["start", "kill"][..], &db].concat());
    let pid = first.split_whitespace().next().unwrap();
    assert_eq!(
        on(
            "tnproc",
            "n1",
            &format!("test -e /proc/{pid} && echo alive || echo gone")
        ),
        "gone"
    );
    nemesis("tnproc", &[&["stop", "kill"][..], &db].concat());
    eprintln!("kill and restart took {:?} through the CLI", t.elapsed());
    std::thread::sleep(Duration::from_millis(100));
    let second = state_of("tnproc", "n1");
    assert!(
        second.ends_with(" S") && second != first,
        "restarted: {second}"
    );

    // heal_all resumes a paused DB without being told it was paused.
    nemesis("tnproc", &[&["start", "pause"][..], &db].concat());
    let out = nemesis("tnproc", &["heal", "--pidfile", PIDFILE, "--start", START]);
    assert!(out.contains("n1: resumed paused pid"), "{out}");
    assert!(state_of("tnproc", "n1").ends_with(" S"));
}

#[test]
#[ignore = "needs root and openssh-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn clock_bump_moves_only_the_faketime_clock_of_one_node() {
    require_root();
    let _c = Cluster::up("tnclock", 2);
    let file = "/var/lib/faultline/node/faketime";
    let date = format!(
        "LD_PRELOAD=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 FAKETIME_TIMESTAMP_FILE={file} FAKETIME_NO_CACHE=1 date +%s"
    );
    for n in ["n1", "n2"] {
        on("tnclock", n, &format!("echo +0 > {file}"));
    }
    let host_before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    nemesis(
        "tnclock",
        &[
            "start",
            "clock",
            "--delta-ms",
            "3600000",
            "--target",
            "n1",
            "--offset-file",
            file,
        ],
    );
    let n1: i64 = on("tnclock", "n1", &date).parse().unwrap();
    let n2: i64 = on("tnclock", "n2", &date).parse().unwrap();
    let host = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((n1 - host - 3600).abs() <= 5, "n1 {n1} vs host {host}");
    assert!((n2 - host).abs() <= 5, "n2 {n2} vs host {host}");
    assert!(host - host_before < 30, "the host clock did not move");
    let real = text(&Command::new("date").arg("+%s").output().unwrap().stdout)
        .trim()
        .parse::<i64>()
        .unwrap();
    assert!((real - host).abs() <= 5);
    let out = nemesis("tnclock", &["heal", "--offset-file", file]);
    assert!(out.contains("n1: reset clock offset +3600.000s"), "{out}");
    let n1: i64 = on("tnclock", "n1", &date).parse().unwrap();
    assert!((n1 - host).abs() <= 5);
}

#[test]
#[ignore = "needs root and openssh-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn heal_cleans_up_after_a_killed_controller() {
    require_root();
    let c = Cluster::up("tnkill", 3);
    let mut child = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args([
            "nemesis",
            "start",
            "partition",
            "--grudge",
            "isolate:n1",
            "--duration",
            "60",
            "--name",
            "tnkill",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while connects(&c, "n2", "n1") {
        assert!(Instant::now() < deadline, "partition never applied");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !connects(&c, "n2", "n1"),
        "the fault outlives the killed controller"
    );
    let out = nemesis("tnkill", &["heal"]);
    assert!(out.contains("removed"), "{out}");
    assert!(connects(&c, "n2", "n1") && connects(&c, "n1", "n3"));
    assert_eq!(
        on("tnkill", "n1", "iptables -S | grep -c FAULTLINE || true"),
        "0",
        "chains removed"
    );
}

#[test]
#[ignore = "needs root and openssh-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn unsupported_faults_are_reported_before_they_start() {
    require_root();
    let _c = Cluster::up("tnunsup", 2);
    let out = faultline(&["nemesis", "start", "delay", "--name", "tnunsup"]);
    // This kernel has no netem; where it has, the delay must really apply.
    if out.status.success() {
        faultline(&[
            "nemesis", "stop", "delay", "--target", "all", "--name", "tnunsup",
        ]);
    } else {
        assert_eq!(out.status.code(), Some(254));
        assert!(
            text(&out.stderr).contains("not supported here: tc netem"),
            "{}",
            text(&out.stderr)
        );
    }
    let out = faultline(&["nemesis", "start", "kill", "--name", "tnunsup"]);
    assert_eq!(out.status.code(), Some(254));
    assert!(
        text(&out.stderr).contains("pidfile"),
        "{}",
        text(&out.stderr)
    );
}

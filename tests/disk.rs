//! The fault filesystem's semantics on a real FUSE mount (`faultline disk
//! mount`, driven by this test as a DB would drive it, and `faultline disk
//! ctl`): data written and fsynced survives a power fault; written and not
//! fsynced is gone (the file stays, as its directory entry was not
//! cached); a process kill loses nothing; reads and sizes see unsynced
//! data; mmap writes followed by msync survive and those without are lost;
//! a torn power fault is seeded; new files get their creator's owner; the
//! layer refuses to mount outside the data directory and is unmounted by
//! SIGTERM. Needs root and /dev/fuse.

mod common;

use common::text;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
}

/// A layer mounted for one test; unmounted (SIGTERM) when dropped.
struct Mounted {
    root: PathBuf,
    mount: PathBuf,
    backing: PathBuf,
    socket: PathBuf,
    child: Option<Child>,
}

impl Mounted {
    fn new(tag: &str) -> Mounted {
        common::require_root();
        common::require("/dev/fuse", "fuse3 (or a kernel with FUSE)");
        let root = PathBuf::from(format!(
            "/var/tmp/faultline-disk-{tag}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let mut m = Mounted {
            mount: root.join("db"),
            backing: root.join("db.real"),
            socket: root.join("ctl.sock"),
            root,
            child: None,
        };
        let child = bin()
            .args(["disk", "mount", "--mount"])
            .arg(&m.mount)
            .arg("--backing")
            .arg(&m.backing)
            .arg("--socket")
            .arg(&m.socket)
            .arg("--within")
            .arg(&m.root)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        m.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while m.ctl(&["ping"]).is_err() {
            assert!(Instant::now() < deadline, "the layer did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(
            mounted(&m.mount),
            "{} is not in /proc/mounts",
            m.mount.display()
        );
        m
    }

    fn ctl(&self, cmd: &[&str]) -> Result<serde_json::Value, String> {
        let out = bin()
            .args(["disk", "ctl"])
            .arg(&self.socket)
            .args(cmd)
            .output()
            .unwrap();
        if !out.status.success() {
            return Err(text(&out.stderr));
        }
        serde_json::from_str(text(&out.stdout).trim()).map_err(|e| e.to_string())
    }

    fn path(&self, name: &str) -> PathBuf {
        self.mount.join(name)
    }

    fn unmount(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
            let deadline = Instant::now() + Duration::from_secs(10);
            while c.try_wait().unwrap().is_none() {
                if Instant::now() > deadline {
                    let _ = c.kill();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.wait();
        }
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        self.unmount();
        if mounted(&self.mount) {
            let _ = faultline_disk::unmount(&self.mount);
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn mounted(p: &Path) -> bool {
    std::fs::read_to_string("/proc/mounts")
        .unwrap()
        .lines()
        .any(|l| l.split(' ').nth(1) == Some(p.to_str().unwrap()))
}

fn read(p: &Path) -> Vec<u8> {
    let mut v = Vec::new();
    File::open(p).unwrap().read_to_end(&mut v).unwrap();
    v
}

fn write(p: &Path, data: &[u8], fsync: bool) {
    let mut f = File::create(p).unwrap();
    f.write_all(data).unwrap();
    if fsync {
        f.sync_all().unwrap();
    }
}

/// Maps `len` bytes of `path` shared, writes `data` at `at`, optionally
/// msyncs, unmaps.
fn mmap_write(path: &Path, len: usize, at: usize, data: &[u8], msync: bool) {
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    use std::os::unix::io::AsRawFd;
    // SAFETY: a fresh shared mapping of an open file of at least `len`
    // bytes, written within bounds and unmapped before the file closes.
    unsafe {
        let p = libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            f.as_raw_fd(),
            0,
        );
        assert_ne!(p, libc::MAP_FAILED);
        std::ptr::copy_nonoverlapping(data.as_ptr(), (p as *mut u8).add(at), data.len());
        if msync {
            assert_eq!(libc::msync(p, len, libc::MS_SYNC), 0);
        }
        libc::munmap(p, len);
    }
}

#[test]
#[ignore = "needs root and /dev/fuse: run with `-- --include-ignored` as root (.ci/run does)"]
fn power_loses_exactly_what_was_not_fsynced() {
    let m = Mounted::new("power");
    write(&m.path("synced"), b"synced data", true);
    write(&m.path("unsynced"), b"unsynced data", false);
    // Reads and sizes see the unsynced data; the backing file has none.
    assert_eq!(read(&m.path("unsynced")), b"unsynced data");
    assert_eq!(std::fs::metadata(m.path("unsynced")).unwrap().len(), 13);
    assert_eq!(
        std::fs::metadata(m.backing.join("unsynced")).unwrap().len(),
        0
    );
    assert_eq!(read(&m.backing.join("synced")), b"synced data");
    // Appending to a synced file: the new part is pending.
    let mut f = OpenOptions::new()
        .append(true)
        .open(m.path("synced"))
        .unwrap();
    f.write_all(b" and more").unwrap();
    drop(f);
    assert_eq!(read(&m.path("synced")), b"synced data and more");

    // A process kill is not a power failure: what it wrote stays.
    let mut c = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "printf killed > {}; sleep 100",
            m.path("killed").display()
        ))
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::metadata(m.path("killed")).map_or(0, |s| s.len()) < 6 {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(10));
    }
    c.kill().unwrap();
    c.wait().unwrap();
    assert_eq!(read(&m.path("killed")), b"killed");

    // mmap: msync makes it durable; without, it is lost with the rest.
    for name in ["mapped-synced", "mapped"] {
        let f = File::create(m.path(name)).unwrap();
        f.set_len(8192).unwrap();
        f.sync_all().unwrap();
    }
    mmap_write(&m.path("mapped-synced"), 8192, 5000, b"MMAP", true);
    mmap_write(&m.path("mapped"), 8192, 100, b"LOST", false);
    assert_eq!(&read(&m.path("mapped"))[100..104], b"LOST");

    let r = m.ctl(&["report"]).unwrap();
    assert!(r["pending"]["bytes"].as_u64().unwrap() >= 13 + 9 + 6, "{r}");

    let r = m.ctl(&["lose-unfsynced"]).unwrap();
    let dropped: Vec<&str> = r["dropped"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    for f in ["unsynced", "synced", "killed", "mapped"] {
        assert!(dropped.contains(&f), "{f} not dropped: {r}");
    }
    assert!(!dropped.contains(&"mapped-synced"), "{r}");
    assert_eq!(read(&m.path("synced")), b"synced data");
    assert_eq!(
        read(&m.path("unsynced")),
        b"",
        "created, never fsynced: empty"
    );
    assert_eq!(read(&m.path("killed")), b"");
    assert_eq!(&read(&m.path("mapped-synced"))[5000..5004], b"MMAP");
    assert_eq!(&read(&m.path("mapped"))[100..104], &[0, 0, 0, 0]);
    let r = m.ctl(&["report"]).unwrap();
    assert_eq!(r["pending"]["bytes"], 0, "{r}");

    // checkpoint writes everything out, as fsync would.
    write(&m.path("later"), b"checkpointed", false);
    let r = m.ctl(&["checkpoint"]).unwrap();
    assert_eq!(r["written"]["bytes"], 12, "{r}");
    assert_eq!(read(&m.backing.join("later")), b"checkpointed");
    m.ctl(&["lose-unfsynced"]).unwrap();
    assert_eq!(read(&m.path("later")), b"checkpointed");
    // Bad commands are errors, not silence.
    assert!(m
        .ctl(&["torn", "x"])
        .unwrap_err()
        .contains("expected a seed"));
}

#[test]
#[ignore = "needs root and /dev/fuse: run with `-- --include-ignored` as root (.ci/run does)"]
fn torn_power_keeps_a_seeded_subset_of_pages() {
    let m = Mounted::new("torn");
    let pages = 64usize;
    let data: Vec<u8> = (0..pages)
        .flat_map(|i| std::iter::repeat_n(i as u8 + 1, 4096))
        .collect();
    let kept = |dir: &str, seed: &str| -> Vec<bool> {
        std::fs::create_dir_all(m.path(dir)).unwrap();
        write(&m.path(&format!("{dir}/t.bin")), &data, false);
        let r = m.ctl(&["torn", seed]).unwrap();
        let after = read(&m.path(&format!("{dir}/t.bin")));
        let pattern: Vec<bool> = (0..pages)
            .map(|i| after.get(i * 4096).is_some_and(|&b| b == i as u8 + 1))
            .collect();
        let n = pattern.iter().filter(|&&k| k).count() as u64;
        assert_eq!(r["kept"]["pages"], n, "{r}");
        assert_eq!(r["dropped"]["pages"], pages as u64 - n, "{r}");
        // Kept pages are whole; the others read as zeros (or are past the end).
        for (i, k) in pattern.iter().enumerate() {
            if *k {
                assert!(after[i * 4096..(i + 1) * 4096]
                    .iter()
                    .all(|&b| b == i as u8 + 1));
            } else if let Some(page) = after.get(i * 4096..(i + 1) * 4096) {
                assert!(page.iter().all(|&b| b == 0), "page {i}");
            }
        }
        pattern
    };
    let a = kept("a", "42");
    let b = kept("b", "42");
    let c = kept("c", "43");
    assert_eq!(a, b, "the same seed keeps the same pages");
    assert_ne!(a, c, "another seed keeps others");
    let n = a.iter().filter(|&&k| k).count();
    assert!(n > 10 && n < 54, "about half kept: {n}");
}

#[test]
#[ignore = "needs root and /dev/fuse: run with `-- --include-ignored` as root (.ci/run does)"]
fn ownership_modes_and_renames_pass_through() {
    let m = Mounted::new("meta");
    // As PostgreSQL's initdb needs: a 0700 directory the DB user owns.
    let d = m.path("pg");
    std::fs::create_dir(&d).unwrap();
    std::os::unix::fs::chown(&d, Some(65534), Some(65534)).unwrap();
    std::fs::set_permissions(&d, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "sh",
            "-c",
        ])
        .arg(format!(
            "echo hi > {0}/f && mkdir {0}/sub && cat {0}/f",
            d.display()
        ))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "hi\n");
    let meta = std::fs::metadata(d.join("f")).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (65534, 65534));
    let real = std::fs::metadata(m.backing.join("pg/sub")).unwrap();
    assert_eq!(real.uid(), 65534);
    assert_eq!(std::fs::metadata(&d).unwrap().mode() & 0o777, 0o700);
    // Another user cannot get in (default_permissions).
    let out = Command::new("setpriv")
        .args(["--reuid=1", "--regid=1", "--clear-groups", "cat"])
        .arg(d.join("f"))
        .output()
        .unwrap();
    assert!(!out.status.success());

    // Renames carry pending data along (a WAL segment recycled, a file
    // written then renamed into place).
    write(&m.path("tmp"), b"pending", false);
    std::fs::rename(m.path("tmp"), m.path("final")).unwrap();
    assert_eq!(read(&m.path("final")), b"pending");
    let f = OpenOptions::new()
        .write(true)
        .open(m.path("final"))
        .unwrap();
    f.sync_all().unwrap();
    assert_eq!(read(&m.backing.join("final")), b"pending");
    // O_SYNC writes go through at once.
    let f = OpenOptions::new()
        .write(true)
        .create(true)
        .custom_flags_sync()
        .open(m.path("osync"))
        .unwrap();
    f.write_all_at(b"durable", 0).unwrap();
    assert_eq!(read(&m.backing.join("osync")), b"durable");
}

#[test]
#[ignore = "needs root and /dev/fuse: run with `-- --include-ignored` as root (.ci/run does)"]
fn the_layer_refuses_to_mount_outside_the_data_directory() {
    common::require_root();
    let out = bin()
        .args([
            "disk",
            "mount",
            "--mount",
            "/var/tmp/elsewhere/db",
            "--backing",
            "/var/tmp/elsewhere/db.real",
            "--socket",
            "/var/tmp/elsewhere.sock",
            "--within",
            "/var/lib/faultline/node",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(254), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("mounts only inside the node's data directory"),
        "{}",
        text(&out.stderr)
    );
    assert!(!Path::new("/var/tmp/elsewhere").exists());
}

/// `O_SYNC` for `OpenOptions`.
trait SyncOpen {
    fn custom_flags_sync(&mut self) -> &mut Self;
}

impl SyncOpen for OpenOptions {
    fn custom_flags_sync(&mut self) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt;
        self.custom_flags(libc::O_SYNC)
    }
}

#[test]
#[ignore = "needs root, openssh-server, /dev/fuse and redis-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn on_ssh_nodes_the_helper_is_uploaded_and_power_faults_lose_unsynced_writes() {
    common::require_root();
    common::require("/usr/bin/redis-server", "redis-server");
    // A cluster reached through its nodes file, as real machines are: the
    // controller does not know the nodes share its files, so it uploads
    // its helper to each.
    let c = common::Cluster::up("tcdisk", 1);
    let nodes_file = c.state.layout().nodes_file();
    let store = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("faultline-disk-ssh-{}", std::process::id()));
    let out = bin()
        .args([
            "test",
            "workloads/redis-everysec-power.yaml",
            "--nodes-file",
        ])
        .arg(&nodes_file)
        .args(["--time-limit", "12", "--store"])
        .arg(&store)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let log = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{log}");
    let results: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(store.join("redis-everysec-power/latest/results.json")).unwrap(),
    )
    .unwrap();
    let lost = results["checkers"]["set-full"]["lost_count"]
        .as_u64()
        .unwrap_or(0);
    assert!(lost > 0, "{log}");
    let listing = bin()
        .args(["cluster", "exec", "--name", "tcdisk", "--"])
        .args(["sh", "-c", "ls /var/lib/faultline/node/.faultline/bin; grep -c '^faultline /var/lib/faultline/node/' /proc/mounts || true"])
        .output()
        .unwrap();
    let listing = text(&listing.stdout);
    assert!(
        listing.contains("faultline-"),
        "the helper was uploaded: {listing}"
    );
    assert!(
        listing.trim_end().ends_with('0'),
        "nothing left mounted: {listing}"
    );
    let _ = std::fs::remove_dir_all(&store);
}

#[test]
#[ignore = "needs root, openssh-server, /dev/fuse and redis-server: run with `-- --include-ignored` as root (.ci/run does)"]
fn a_killed_controllers_layers_are_unmounted_by_nemesis_heal() {
    common::require_root();
    common::require("/usr/bin/redis-server", "redis-server");
    let c = common::Cluster::up("tcleft", 1);
    let nodes_file = c.state.layout().nodes_file();
    let store = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("faultline-disk-left-{}", std::process::id()));
    let mut child = bin()
        .args(["test", "workloads/redis-always-power.yaml", "--nodes-file"])
        .arg(&nodes_file)
        .args(["--time-limit", "60", "--store"])
        .arg(&store)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let history = store.join("redis-always-power/latest/history.jsonl");
    let deadline = Instant::now() + Duration::from_secs(120);
    while std::fs::read_to_string(&history).map_or(0, |t| t.lines().count()) < 50 {
        assert!(Instant::now() < deadline && child.try_wait().unwrap().is_none());
        std::thread::sleep(Duration::from_millis(200));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let on_node = |script: &str| -> String {
        let out = bin()
            .args([
                "cluster", "exec", "--name", "tcleft", "--", "sh", "-c", script,
            ])
            .output()
            .unwrap();
        text(&out.stdout).trim().to_string()
    };
    let mounts = "grep -c '^faultline /var/lib/faultline/node/redis fuse' /proc/mounts || true";
    assert_eq!(
        on_node(mounts),
        "1",
        "the dead controller's layer is still mounted"
    );
    let out = bin()
        .args(["nemesis", "heal", "--nodes-file"])
        .arg(&nodes_file)
        .args(["--data-dir", "/var/lib/faultline/node"])
        .output()
        .unwrap();
    let said = text(&out.stdout);
    assert!(out.status.success(), "{said}{}", text(&out.stderr));
    assert!(said.contains("the fault filesystem"), "{said}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while on_node(mounts) != "0" {
        assert!(Instant::now() < deadline, "still mounted after heal");
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = std::fs::remove_dir_all(&store);
}

#[test]
#[ignore = "needs root and /dev/fuse: run with `-- --include-ignored` as root (.ci/run does)"]
fn corruption_through_the_mount_changes_only_the_chosen_chunks_and_reaches_the_disk() {
    let m = Mounted::new("corrupt");
    let data: Vec<u8> = (0..3 * 4096u32).map(|i| (i % 253) as u8).collect();
    write(&m.path("f.bin"), &data, true);
    write(&m.path("other.txt"), b"untouched", true);
    let corrupt = |fault: &[&str]| -> Vec<serde_json::Value> {
        let out = bin()
            .args(["disk", "corrupt", "--root"])
            .arg(&m.mount)
            .args(["--file", "*.bin", "--seed", "1"])
            .args(fault)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    // Node 1 of 3 takes chunk 1 (1 mod 3): every bit of it flips.
    let done = corrupt(&["bitflip", "chunk=4096", "probability=1", "mod=3", "index=1"]);
    assert_eq!(done.len(), 1, "{done:?}");
    assert_eq!(done[0]["chunks"], serde_json::json!([1]));
    m.ctl(&["checkpoint"]).unwrap();
    let after = read(&m.backing.join("f.bin"));
    assert_eq!(&after[..4096], &data[..4096]);
    assert!(after[4096..8192]
        .iter()
        .zip(&data[4096..8192])
        .all(|(a, b)| *a == !*b));
    assert_eq!(&after[8192..], &data[8192..]);
    assert_eq!(read(&m.backing.join("other.txt")), b"untouched");
    // A snapshot, new writes, a restore: the chunks roll back.
    corrupt(&["snapshot", "chunk=4096"]);
    write(&m.path("f.bin"), &vec![7u8; 3 * 4096], true);
    corrupt(&["restore"]);
    m.ctl(&["checkpoint"]).unwrap();
    assert_eq!(read(&m.path("f.bin")), after);
    assert_eq!(read(&m.backing.join("f.bin")), after);
}

//! PID 1 of a local node (`faultline cluster node-init`, hidden).
//!
//! Runs inside the node's network namespace, in fresh UTS, mount and PID
//! namespaces made by `unshare`. It sets the hostname, bind-mounts the
//! node's private `/run`, `/tmp`, `/root` and data directory, starts the node's
//! sshd, and then reaps every process that gets reparented to it, forever.
//! When it is killed (by `cluster down`), the kernel kills every process in
//! the node's PID namespace with it.

use std::path::Path;
use std::process::{Command, Stdio};

/// Prepares the node and runs sshd; only returns on a setup failure.
pub fn run(dir: &Path, hostname: &str, data_mount: &str) -> Result<(), String> {
    sh(&["hostname", hostname])?;
    // A node has its own /root too: the host's dotfiles (which bash reads
    // even for `ssh node cmd`) are not the node's, and can be slow.
    for (sub, target) in [
        ("run", "/run"),
        ("tmp", "/tmp"),
        ("root", "/root"),
        ("data", data_mount),
    ] {
        let src = dir.join(sub);
        std::fs::create_dir_all(&src).map_err(|e| format!("creating {}: {e}", src.display()))?;
        std::fs::create_dir_all(target).map_err(|e| format!("creating {target}: {e}"))?;
        let src = src.to_string_lossy().into_owned();
        sh(&["mount", "--bind", &src, target])?;
    }
    sh(&["chmod", "1777", "/tmp"])?;
    sh(&["chmod", "700", "/root"])?;
    std::fs::create_dir_all("/run/sshd").map_err(|e| format!("creating /run/sshd: {e}"))?;
    start_sshd(dir)?;
    reap_forever()
}

fn sh(argv: &[&str]) -> Result<(), String> {
    let out = Command::new(argv[0])
        .args(&argv[1..])
        .output()
        .map_err(|e| format!("{}: {e}", argv[0]))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`{}` failed: {}",
            argv.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Starts the node's sshd in the foreground (`-D`) as our child.
fn start_sshd(dir: &Path) -> Result<(), String> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("sshd.log"))
        .map_err(|e| format!("opening sshd.log: {e}"))?;
    let config = dir.join("sshd_config");
    Command::new("/usr/sbin/sshd")
        .arg("-D")
        .arg("-e")
        .arg("-f")
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .spawn()
        .map_err(|e| format!("starting sshd: {e}"))?;
    Ok(())
}

/// Reaps children (including adopted orphans) until killed.
fn reap_forever() -> ! {
    loop {
        let mut status = 0;
        // SAFETY: waitpid writes only to `status`, a valid local.
        let pid = unsafe { libc::waitpid(-1, &mut status, 0) };
        if pid < 0 {
            // No children right now (ECHILD) or interrupted: wait a little.
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }
}

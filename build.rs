//! Records the git commit faultline is built from (when built from a
//! checkout), so that every run's results.json can say exactly which code
//! produced it. Nothing is recorded outside a git checkout.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let Some(commit) = git(&["rev-parse", "HEAD"]) else {
        return;
    };
    println!("cargo:rustc-env=FAULTLINE_GIT_COMMIT={commit}");
    // Rebuild when HEAD moves: a checkout, or a commit on the branch.
    let mut watch = vec!["HEAD".to_string(), "packed-refs".to_string()];
    if let Some(r) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watch.push(r);
    }
    for w in watch {
        if let Some(path) = git(&["rev-parse", "--git-path", &w]) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}

//! README's front page holds: its two quick-start commands are what CI
//! runs (step 2 is `.ci/test`, which `.ci/run` runs; every package step 1
//! installs is in `.ci/packages`, the one list the tests' installs read),
//! it stays a front page (at most 300 lines), and every relative link and
//! anchor in README.md and docs/ resolves (docs/check_links.py).

use std::path::Path;
use std::process::Command;

fn read(rel: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The shell commands of README's quick start (its first `sh` block).
fn quick_start() -> Vec<String> {
    let readme = read("README.md");
    let block = readme
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a ```sh block in README.md");
    block
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect()
}

fn packages() -> Vec<String> {
    read(".ci/packages")
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn the_quick_start_is_two_commands_and_the_second_is_what_ci_runs() {
    let steps = quick_start();
    assert_eq!(steps.len(), 2, "{steps:?}");
    assert!(
        steps[0].contains("cargo run --release -- test workloads/"),
        "{}",
        steps[0]
    );
    assert_eq!(steps[1], ".ci/test");
    let run = read(".ci/run");
    assert!(
        run.lines().any(|l| l.trim_start().starts_with(".ci/test")),
        ".ci/run must run README's step 2 (.ci/test)"
    );
    let test = read(".ci/test");
    assert!(test.contains(".ci/packages") && test.contains("--include-ignored"));
    // Step 1's packages are a subset of the tests' list.
    let listed = packages();
    let step1: Vec<&str> = steps[0]
        .split("apt-get install -y")
        .nth(1)
        .and_then(|s| s.split("&&").next())
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert!(!step1.is_empty(), "{}", steps[0]);
    for p in step1 {
        assert!(listed.iter().any(|l| l == p), "{p} is not in .ci/packages");
    }
}

#[test]
fn the_readme_is_a_front_page_and_every_link_resolves() {
    let lines = read("README.md").lines().count();
    assert!(
        lines <= 300,
        "README.md has {lines} lines; the reference belongs in docs/"
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("python3")
        .arg(root.join("docs/check_links.py"))
        .current_dir(root)
        .output()
        .expect("python3 runs docs/check_links.py (apt-get install -y python3)");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

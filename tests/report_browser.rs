//! report.html in a real browser: headless Chromium (Debian `chromium`)
//! driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`:
//! fd 3 in, fd 4 out, NUL-terminated JSON), so that every request, console
//! message, exception and dialog is seen.
//!
//! Each page must load from file:// with no console message, no exception
//! and no request but the file itself; the failing op and the nemesis bands
//! must be in the DOM; a history whose values hold
//! `<script>alert(1)</script>` must show that text and run nothing. One
//! test renders the report of a real `register-stale` run (needs root).
//! Screenshots go to `target/tmp/report-*.png`.

mod common;

use common::{require_root, text};
use serde_json::{json, Value};
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::FromRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";

fn require_chromium() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "this test needs {CHROMIUM}: apt-get install -y chromium"
    );
}

/// A headless Chromium and one page, over the DevTools pipe.
struct Browser {
    child: Child,
    to: File,
    from: Receiver<Value>,
    next: u64,
    session: String,
    /// Every event received so far.
    events: Vec<Value>,
    _profile: TempDir,
}

struct TempDir(PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Two pipes: (parent reads, child writes) and (child reads, parent writes).
fn pipe() -> (i32, i32) {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid array of two ints.
    let r = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(r, 0, "pipe2: {}", std::io::Error::last_os_error());
    (fds[0], fds[1])
}

impl Browser {
    fn start() -> Browser {
        require_chromium();
        let profile = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "faultline-chromium-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile).unwrap();
        let (child_in, parent_out) = pipe();
        let (parent_in, child_out) = pipe();
        let mut cmd = Command::new(CHROMIUM);
        cmd.args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,1000",
            "--remote-debugging-pipe",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("about:blank")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        // SAFETY: only async-signal-safe calls (fcntl, dup2) between fork
        // and exec. The pipe ends are first moved above fd 10 so that
        // placing them on 3 and 4 cannot clobber each other; dup2 clears
        // close-on-exec on the copies.
        unsafe {
            cmd.pre_exec(move || {
                let a = libc::fcntl(child_in, libc::F_DUPFD_CLOEXEC, 10);
                let b = libc::fcntl(child_out, libc::F_DUPFD_CLOEXEC, 10);
                if a < 0 || b < 0 || libc::dup2(a, 3) < 0 || libc::dup2(b, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("chromium starts");
        // SAFETY: these fds are ours, open, and owned by nothing else.
        let (to, mut from) = unsafe {
            libc::close(child_in);
            libc::close(child_out);
            (File::from_raw_fd(parent_out), File::from_raw_fd(parent_in))
        };
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 65536];
            loop {
                let n = match from.read(&mut chunk) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                buf.extend_from_slice(&chunk[..n]);
                while let Some(end) = buf.iter().position(|&b| b == 0) {
                    let msg: Vec<u8> = buf.drain(..=end).collect();
                    if let Ok(v) = serde_json::from_slice::<Value>(&msg[..msg.len() - 1]) {
                        if tx.send(v).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        let mut b = Browser {
            child,
            to,
            from: rx,
            next: 0,
            session: String::new(),
            events: Vec::new(),
            _profile: TempDir(profile),
        };
        let target = b.call(false, "Target.createTarget", json!({"url": "about:blank"}));
        let id = target["targetId"].as_str().unwrap().to_string();
        let attached = b.call(
            false,
            "Target.attachToTarget",
            json!({"targetId": id, "flatten": true}),
        );
        b.session = attached["sessionId"].as_str().unwrap().to_string();
        for domain in ["Page", "Network", "Runtime", "Log"] {
            b.call(true, &format!("{domain}.enable"), json!({}));
        }
        b.call(
            true,
            "Emulation.setDeviceMetricsOverride",
            json!({"width": 1280, "height": 1000, "deviceScaleFactor": 1, "mobile": false}),
        );
        b
    }

    /// Sends a command (to the page's session if `page`) and waits for its
    /// answer; events that arrive meanwhile are kept.
    fn call(&mut self, page: bool, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if page {
            msg["sessionId"] = json!(self.session);
        }
        let mut bytes = serde_json::to_vec(&msg).unwrap();
        bytes.push(0);
        self.to.write_all(&bytes).expect("write to chromium");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let m = self.recv(deadline, method);
            if m["id"] == json!(id) {
                assert!(m.get("error").is_none(), "{method}: {}", m["error"]);
                return m["result"].clone();
            }
            self.events.push(m);
        }
    }

    fn recv(&mut self, deadline: Instant, waiting_for: &str) -> Value {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.from.recv_timeout(left) {
            Ok(m) => m,
            Err(RecvTimeoutError::Timeout) => {
                panic!("chromium: no answer to {waiting_for} in time")
            }
            Err(RecvTimeoutError::Disconnected) => {
                panic!("chromium exited (waiting for {waiting_for})")
            }
        }
    }

    /// Waits for an event named `method` (already received or to come).
    fn wait_event(&mut self, method: &str, timeout: Duration) -> Value {
        if let Some(e) = self.events.iter().find(|e| e["method"] == method) {
            return e.clone();
        }
        let deadline = Instant::now() + timeout;
        loop {
            let m = self.recv(deadline, method);
            let hit = m["method"] == method;
            self.events.push(m.clone());
            if hit {
                return m;
            }
        }
    }

    /// Collects events for `d`.
    fn settle(&mut self, d: Duration) {
        let deadline = Instant::now() + d;
        while let Ok(m) = self
            .from
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.events.push(m);
        }
    }

    /// Loads `path` and returns how long until the load event.
    fn open(&mut self, path: &Path) -> (String, Duration) {
        self.open_url(&format!(
            "file://{}",
            path.canonicalize().unwrap().display()
        ))
    }

    /// Loads `url` (forgetting earlier events) and returns how long until
    /// the load event.
    fn open_url(&mut self, url: &str) -> (String, Duration) {
        let url = url.to_string();
        self.events.clear();
        let t0 = Instant::now();
        self.call(true, "Page.navigate", json!({"url": url}));
        self.wait_event("Page.loadEventFired", Duration::from_secs(60));
        let took = t0.elapsed();
        self.settle(Duration::from_millis(700));
        (url, took)
    }

    /// Evaluates `expr` in the page and returns its value.
    fn eval(&mut self, expr: &str) -> Value {
        let r = self.call(
            true,
            "Runtime.evaluate",
            json!({"expression": expr, "returnByValue": true}),
        );
        assert!(r.get("exceptionDetails").is_none(), "{expr}: {r}");
        r["result"]["value"].clone()
    }

    /// Everything that must not happen on a report page: console output,
    /// uncaught exceptions, log errors (CSP violations, failed loads),
    /// dialogs, and requests for anything but `url` (or for it twice).
    fn problems(&self, url: &str) -> Vec<String> {
        let mut problems = Vec::new();
        let mut itself = 0;
        for e in &self.events {
            let p = &e["params"];
            match e["method"].as_str().unwrap_or("") {
                "Network.requestWillBeSent" => {
                    let u = p["request"]["url"].as_str().unwrap_or("");
                    if u == url {
                        itself += 1;
                    } else if !u.starts_with("data:") {
                        problems.push(format!("request for {u}"));
                    }
                }
                "Runtime.consoleAPICalled" => problems.push(format!("console: {p}")),
                "Runtime.exceptionThrown" => problems.push(format!("exception: {p}")),
                "Log.entryAdded" => problems.push(format!("log: {}", p["entry"])),
                "Page.javascriptDialogOpening" => problems.push(format!("dialog: {p}")),
                _ => {}
            }
        }
        if itself != 1 {
            problems.push(format!("the page itself was requested {itself} times"));
        }
        problems
    }

    fn assert_clean(&self, url: &str) {
        let problems = self.problems(url);
        assert!(problems.is_empty(), "{url}:\n{}", problems.join("\n"));
    }

    /// A PNG of the page region `selector` (or the top of the page).
    fn screenshot(&mut self, selector: Option<&str>, out: &Path) {
        let clip = match selector {
            Some(s) => {
                let r = self.eval(&format!(
                    "(function(){{var r=document.querySelector('{s}').getBoundingClientRect();\
                     return [r.left+window.scrollX, r.top+window.scrollY, r.width, r.height];}})()"
                ));
                let n = |i: usize| r[i].as_f64().unwrap();
                json!({"x": n(0), "y": n(1), "width": n(2), "height": n(3).min(1400.0), "scale": 1})
            }
            None => json!({"x": 0, "y": 0, "width": 1280, "height": 1000, "scale": 1}),
        };
        let shot = self.call(
            true,
            "Page.captureScreenshot",
            json!({"format": "png", "clip": clip, "captureBeyondViewport": true}),
        );
        use base64::Engine as _;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        std::fs::write(out, png).unwrap();
    }
}

impl Drop for Browser {
    /// Closes Chromium (which takes its helper processes with it), and
    /// kills it if it has not exited within 5 s.
    fn drop(&mut self) {
        let _ = self
            .to
            .write_all(b"{\"id\": 999999, \"method\": \"Browser.close\"}\0");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tmp(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("report-browser-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn faultline(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("faultline runs")
}

/// `faultline check --html` of a history from the regression corpus.
fn check_html(history: &str, out: &Path) {
    let o = faultline(&["check", "--html", out.to_str().unwrap(), history]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    assert!(out.is_file(), "{}", text(&o.stderr));
}

#[test]
#[ignore = "needs chromium: apt-get install -y chromium (.ci/run does)"]
fn a_non_linearizable_history_shows_its_failing_op_with_nothing_loaded_or_logged() {
    let dir = tmp("knossos");
    let page = dir.join("report.html");
    check_html(
        "checkers/tests/data/knossos-cas-register/bad/cas-failure.edn",
        &page,
    );
    let mut b = Browser::start();
    let (url, took) = b.open(&page);
    b.assert_clean(&url);
    assert!(took < Duration::from_secs(10), "load took {took:?}");
    assert_eq!(
        b.eval("document.querySelectorAll('#failing-op').length"),
        json!(1)
    );
    assert!(
        b.eval("document.querySelectorAll('.op.linearized').length")
            .as_u64()
            .unwrap()
            > 0
    );
    let states = b.eval("document.querySelector('.states').innerText");
    assert!(states.as_str().unwrap().contains('2'), "{states}");
    // Hover shows the op's details and its history lines.
    let hover = b.eval(
        "(function(){var t=document.getElementById('failing-op');\
         t.dispatchEvent(new MouseEvent('mouseover',{bubbles:true}));\
         var h=document.getElementById('hover');return h.hidden?'':h.textContent;})()",
    );
    let hover = hover.as_str().unwrap();
    assert!(
        hover.contains("process 70 :read") && hover.contains("line 499"),
        "{hover}"
    );
    assert_eq!(
        b.eval("!!document.querySelector('a[href=\"#failure\"]')"),
        json!(true)
    );
    b.screenshot(Some("#failure"), &dir.join("failure.png"));
    b.screenshot(None, &dir.join("top.png"));
    b.assert_clean(&url);
    eprintln!("screenshots in {}", dir.display());
}

/// A history whose keys, nodes, errors and nemesis values are markup.
fn hostile_history(path: &Path) {
    const S: &str = "<script>alert(1)</script>";
    let mut ops = Vec::new();
    let mut push = |p: Value, ty: &str, f: &str, v: Value, extra: Value| {
        let mut o = json!({"index": ops.len(), "time": (ops.len() as i64 + 1) * 1_000_000,
                           "process": p, "type": ty, "f": f, "value": v});
        for (k, x) in extra.as_object().unwrap() {
            o[k] = x.clone();
        }
        ops.push(o.to_string());
    };
    let k = json!({"key": S, "node": "<img src=x onerror=alert(2)>"});
    push(json!(0), "invoke", "write", json!(1), k.clone());
    push(json!(0), "ok", "write", json!(1), k.clone());
    push(
        json!("nemesis"),
        "info",
        "start-partition",
        json!({S: ["n2"], "n2": [S]}),
        json!({}),
    );
    push(json!(1), "invoke", "write", json!(2), k.clone());
    push(json!(1), "ok", "write", json!(2), k.clone());
    push(json!(0), "invoke", "read", Value::Null, k.clone());
    push(
        json!(0),
        "fail",
        "read",
        Value::Null,
        json!({"key": S, "error": S}),
    );
    push(json!(0), "invoke", "read", Value::Null, k.clone());
    push(json!(0), "ok", "read", json!(1), k.clone());
    push(
        json!("nemesis"),
        "info",
        "stop-partition",
        json!({S: ["n2"]}),
        json!({}),
    );
    std::fs::write(path, ops.join("\n") + "\n").unwrap();
}

#[test]
#[ignore = "needs chromium: apt-get install -y chromium (.ci/run does)"]
fn markup_in_a_history_is_shown_as_text_and_runs_nothing() {
    let dir = tmp("hostile");
    let history = dir.join("history.jsonl");
    hostile_history(&history);
    let page = dir.join("report.html");
    check_html(history.to_str().unwrap(), &page);
    let html = std::fs::read_to_string(&page).unwrap();
    assert_eq!(
        html.matches("<script").count(),
        1,
        "only the page's own script"
    );
    assert!(!html.contains("<img"), "no markup from the history");
    let mut b = Browser::start();
    let (url, _) = b.open(&page);
    b.assert_clean(&url);
    assert_eq!(b.eval("document.scripts.length"), json!(1));
    assert_eq!(b.eval("document.images.length"), json!(0));
    let body = b.eval("document.body.innerText");
    assert!(
        body.as_str().unwrap().contains("<script>alert(1)</script>"),
        "the text is shown: {body}"
    );
    assert!(
        b.eval("document.querySelectorAll('.nemesis-band').length")
            .as_u64()
            .unwrap()
            >= 1
    );
    assert_eq!(
        b.eval("document.querySelectorAll('#failing-op').length"),
        json!(1)
    );
    // Hovering the op whose node is markup shows it as text.
    let hover = b.eval(
        "(function(){var t=Array.from(document.querySelectorAll('[data-op]')).find(e=>e.getAttribute('data-op').includes('onerror'));\
         t.dispatchEvent(new MouseEvent('mouseover',{bubbles:true}));\
         return document.getElementById('hover').textContent;})()",
    );
    assert!(
        hover
            .as_str()
            .unwrap()
            .contains("<img src=x onerror=alert(2)>"),
        "{hover}"
    );
    assert_eq!(b.eval("document.images.length"), json!(0));
    b.assert_clean(&url);
}

#[test]
#[ignore = "needs root, openssh-server and chromium: run with `-- --include-ignored` as root (.ci/run does)"]
fn the_report_of_a_real_register_stale_run_renders() {
    require_root();
    require_chromium();
    let store = tmp("store");
    let o = faultline(&[
        "test",
        "workloads/register-stale.yaml",
        "--local",
        "3",
        "--time-limit",
        "12",
        // Until a run finds a stale read (5% of backup reads), at most 3.
        "--test-count",
        "3",
        "--seed",
        "1",
        "--store",
        store.to_str().unwrap(),
        "--junit",
        store.join("all-runs.xml").to_str().unwrap(),
    ]);
    let stdout = text(&o.stdout);
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{stdout}\n{}",
        text(&o.stderr)
    );
    // The tables come first, the HTML report's path last.
    assert!(stdout.starts_with("verdict: "), "{stdout}");
    assert!(
        stdout.contains("│ f ") && stdout.contains("│ p99"),
        "{stdout}"
    );
    let run = store.join("register-stale/latest").canonicalize().unwrap();
    assert!(
        stdout.contains(&format!("report: {}", run.join("report.html").display())),
        "{stdout}"
    );
    let junit = std::fs::read_to_string(run.join("junit.xml")).unwrap();
    assert!(
        junit.contains("<testcase classname=\"faultline.register-stale\" name=\"linearizable\""),
        "{junit}"
    );
    let invalid = o.status.code() == Some(1);
    assert_eq!(junit.contains("<failure "), invalid, "{junit}");
    // --junit FILE: one suite per run made.
    let all = std::fs::read_to_string(store.join("all-runs.xml")).unwrap();
    let runs = std::fs::read_dir(store.join("register-stale"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name() != "latest")
        .count();
    assert!(
        all.starts_with("<?xml") && all.contains("<testsuites>"),
        "{all}"
    );
    assert_eq!(all.matches("<testsuite ").count(), runs, "{all}");

    let mut b = Browser::start();
    let (url, took) = b.open(&run.join("report.html"));
    b.assert_clean(&url);
    eprintln!("report.html of the run loaded in {took:?}");
    assert!(
        b.eval("document.querySelectorAll('.nemesis-band').length")
            .as_u64()
            .unwrap()
            >= 2
    );
    let labels =
        b.eval("Array.from(document.querySelectorAll('.band-label')).map(t => t.textContent)");
    let faults = ["partition", "kill", "pause"];
    for l in labels.as_array().unwrap() {
        assert!(
            faults.iter().any(|f| l.as_str().unwrap().starts_with(f)),
            "{l}"
        );
    }
    if invalid {
        assert_eq!(
            b.eval("document.querySelectorAll('#failing-op').length"),
            json!(1)
        );
        b.screenshot(Some("#failure"), &store.join("run-failure.png"));
    }
    // Links to the raw history and the nodes' logs resolve inside the run.
    let links = b
        .eval("Array.from(document.querySelectorAll('.files a')).map(a => a.getAttribute('href'))");
    let links: Vec<&str> = links
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(links.contains(&"history.jsonl"), "{links:?}");
    assert!(
        links.iter().any(|l| l.starts_with("nodes/n1/")),
        "{links:?}"
    );
    for l in &links {
        assert!(run.join(l).is_file(), "{l}");
    }
    b.screenshot(None, &store.join("run-top.png"));
    b.screenshot(Some("#latency"), &store.join("run-latency.png"));
    // `faultline report` re-renders it without nodes.
    let again = faultline(&["report", run.to_str().unwrap()]);
    assert_eq!(again.status.code(), o.status.code());
    assert!(text(&again.stdout).starts_with("verdict: "));
    b.assert_clean(&url);
    drop(b);

    // Through `faultline serve`: the index links the report, which loads
    // as cleanly over HTTP (its CSP header and the page's own agree).
    let mut server = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["serve", store.to_str().unwrap(), "--bind", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stderr.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .trim_end_matches('/')
        .to_string();
    let served = std::panic::catch_unwind(|| {
        let mut b = Browser::start();
        let (index, _) = b.open_url(&format!("{base}/"));
        b.assert_clean(&index);
        let href =
            b.eval("document.querySelector('a[href$=\"report.html\"]').getAttribute('href')");
        let (page, _) = b.open_url(&format!("{base}{}", href.as_str().unwrap()));
        b.assert_clean(&page);
        assert!(
            b.eval("document.querySelectorAll('.nemesis-band').length")
                .as_u64()
                .unwrap()
                >= 2
        );
        let hover = b.eval(
            "(function(){var t=document.querySelector('[data-op]');\
             t.dispatchEvent(new MouseEvent('mouseover',{bubbles:true}));\
             return document.getElementById('hover').textContent;})()",
        );
        assert!(
            hover.as_str().unwrap().contains("process "),
            "the script runs: {hover}"
        );
    });
    let _ = server.kill();
    let _ = server.wait();
    if let Err(e) = served {
        std::panic::resume_unwind(e);
    }
}

#[test]
#[ignore = "needs chromium: apt-get install -y chromium (.ci/run does)"]
fn the_harness_sees_requests_console_messages_exceptions_and_dialogs() {
    // So that a clean report above is clean, not unobserved.
    let dir = tmp("harness");
    let page = dir.join("bad.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><img src=\"http://127.0.0.1:9/x.png\">\
         <script>console.log('hello');window.addEventListener('load',function(){\
         setTimeout(function(){alert(1);},0);});throw new Error('boom');</script></body></html>",
    )
    .unwrap();
    let mut b = Browser::start();
    let (url, _) = b.open(&page);
    let msg = b.problems(&url).join("\n");
    for what in [
        "request for http://127.0.0.1:9/x.png",
        "console:",
        "exception:",
        "dialog:",
    ] {
        assert!(msg.contains(what), "{what} missing from: {msg}");
    }
    let _ = b.call(true, "Page.handleJavaScriptDialog", json!({"accept": true}));
}

#[test]
#[ignore = "needs chromium: apt-get install -y chromium (.ci/run does)"]
fn an_elle_anomaly_is_drawn_as_a_graph_with_its_edges_explained() {
    let dir = tmp("elle");
    let history = dir.join("g2.jsonl");
    // Write skew: each txn reads the key the other appends to.
    let txn = |i: usize, p: usize, ty: &str, v: Value| {
        json!({"index": i, "time": (i as i64 + 1) * 1_000_000, "process": p, "type": ty, "f": "txn", "value": v})
            .to_string()
    };
    let lines = [
        txn(
            0,
            0,
            "invoke",
            json!([["r", "x", null], ["append", "y", 1]]),
        ),
        txn(
            1,
            1,
            "invoke",
            json!([["r", "y", null], ["append", "x", 1]]),
        ),
        txn(2, 0, "ok", json!([["r", "x", []], ["append", "y", 1]])),
        txn(3, 1, "ok", json!([["r", "y", []], ["append", "x", 1]])),
    ];
    std::fs::write(&history, lines.join("\n") + "\n").unwrap();
    let page = dir.join("report.html");
    check_html(history.to_str().unwrap(), &page);
    let mut b = Browser::start();
    let (url, _) = b.open(&page);
    b.assert_clean(&url);
    assert_eq!(
        b.eval("document.querySelectorAll('svg.cycle .txn').length"),
        json!(2)
    );
    assert_eq!(
        b.eval("document.querySelectorAll('svg.cycle .edge.k-rw').length"),
        json!(2)
    );
    let edges = b.eval("document.querySelector('ul.edges').innerText");
    assert!(
        edges
            .as_str()
            .unwrap()
            .contains("T0 → T1 rw because T0 read key"),
        "{edges}"
    );
    b.screenshot(Some("#anomalies"), &dir.join("anomalies.png"));
}

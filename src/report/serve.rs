//! `faultline serve`: browse a store over HTTP. Lists runs newest first
//! (test name, start, duration, verdict, links to each report and raw
//! file), filtered by name and verdict, and serves files that are inside
//! the store — nothing else: a path with `..`, an absolute path, or one
//! that resolves (through symlinks) outside the store is a 404. It never
//! executes anything; only GET and HEAD are answered.
//!
//! Hand-written on `std::net` rather than a server crate: it serves static
//! files and one generated page to a browser on the same machine, which
//! takes a request line and a few headers — a couple of hundred lines
//! with no new dependencies to build on a 2-core machine, and nothing in
//! it can reach beyond the store. One thread per connection, at most
//! [`MAX_CONNECTIONS`] at once, each with read/write timeouts; every
//! response closes its connection.

use super::escape::{href, html};
use super::verdict_of;
use serde_json::Value;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Connections handled at once; more wait in the kernel's backlog.
pub const MAX_CONNECTIONS: usize = 16;

/// A response: status, content type and body.
#[derive(Debug)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    fn not_found() -> Response {
        Response {
            status: 404,
            content_type: "text/plain; charset=utf-8",
            body: b"not found\n".to_vec(),
        }
    }
    fn text(status: u16, body: &str) -> Response {
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.as_bytes().to_vec(),
        }
    }
}

/// A bound server over a store directory.
pub struct Server {
    root: PathBuf,
    listener: TcpListener,
}

impl Server {
    /// Binds `addr` (e.g. `127.0.0.1:8080`) to serve `store`.
    pub fn bind(store: &Path, addr: &str) -> std::io::Result<Server> {
        let root = std::fs::canonicalize(store)?;
        if !root.is_dir() {
            return Err(std::io::Error::other(format!(
                "{}: not a directory",
                store.display()
            )));
        }
        Ok(Server {
            root,
            listener: TcpListener::bind(addr)?,
        })
    }

    /// The address actually bound (port 0 picks one).
    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until the process ends.
    pub fn run(self) -> std::io::Result<()> {
        let root = Arc::new(self.root);
        let busy = Arc::new(AtomicUsize::new(0));
        for stream in self.listener.incoming() {
            let Ok(stream) = stream else { continue };
            while busy.load(Ordering::Acquire) >= MAX_CONNECTIONS {
                std::thread::sleep(Duration::from_millis(5));
            }
            busy.fetch_add(1, Ordering::AcqRel);
            let (root, busy) = (root.clone(), busy.clone());
            std::thread::spawn(move || {
                let _ = handle(&root, stream);
                busy.fetch_sub(1, Ordering::AcqRel);
            });
        }
        Ok(())
    }
}

/// Reads one request from `stream` and answers it.
fn handle(root: &Path, mut stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.by_ref().take(8192).read_line(&mut line)?;
    // Headers are read and ignored (up to a blank line, bounded).
    let mut header = String::new();
    for _ in 0..100 {
        header.clear();
        if reader.by_ref().take(8192).read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let resp = match method {
        "GET" | "HEAD" => route(root, target),
        _ => Response::text(405, "only GET and HEAD\n"),
    };
    let reason = match resp.status {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Error",
    };
    let head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\
         X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n\
         Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'unsafe-inline'\r\n\r\n",
        resp.status,
        resp.content_type,
        resp.body.len()
    );
    stream.write_all(head.as_bytes())?;
    if method != "HEAD" {
        stream.write_all(&resp.body)?;
    }
    stream.flush()
}

/// Answers a GET for `target` (path and query) against the store `root`
/// (canonical). Pure apart from reading the store.
pub fn route(root: &Path, target: &str) -> Response {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path == "/" || path.is_empty() {
        let q = parse_query(query);
        return Response {
            status: 200,
            content_type: "text/html; charset=utf-8",
            body: index(
                root,
                q.get("name").map(String::as_str),
                q.get("verdict").map(String::as_str),
            )
            .into_bytes(),
        };
    }
    match resolve(root, path) {
        Some(file) => match std::fs::read(&file) {
            Ok(body) => Response {
                status: 200,
                content_type: content_type(&file),
                body,
            },
            Err(_) => Response::not_found(),
        },
        None => Response::not_found(),
    }
}

/// The file `path` names inside `root`, or `None`: not percent-decodable,
/// not relative, with `.`/`..` components, or resolving (symlinks
/// followed) to anything but a regular file inside `root`.
pub fn resolve(root: &Path, path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(path.strip_prefix('/')?)?;
    if decoded.is_empty() || decoded.contains('\0') || decoded.contains('\\') {
        return None;
    }
    // Every segment a plain name: no empty one (`//`, a leading `/`), no
    // `.` or `..` (checked on the text: `Path` drops inner `.`s).
    if decoded
        .split('/')
        .any(|seg| seg.is_empty() || seg == "." || seg == "..")
    {
        return None;
    }
    let rel = Path::new(&decoded);
    if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return None;
    }
    let real = std::fs::canonicalize(root.join(rel)).ok()?;
    (real.starts_with(root) && real.is_file()).then_some(real)
}

fn content_type(p: &Path) -> &'static str {
    match p.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "json" => "application/json",
        "xml" => "application/xml",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        _ => "text/plain; charset=utf-8",
    }
}

/// `%XX` and `+` decoding; `None` for bad escapes or non-UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn parse_query(q: &str) -> std::collections::HashMap<String, String> {
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .filter_map(|(k, v)| Some((k.to_string(), percent_decode(&v.replace('+', " "))?)))
        .collect()
}

/// One run found in the store.
#[derive(Debug)]
pub struct RunEntry {
    /// The test's name (its directory).
    pub test: String,
    /// The run's directory name (its start, `YYYYmmddTHHMMSS.mmm`).
    pub stamp: String,
    /// `valid`, `invalid`, `unknown`, or `running` (no results.json yet).
    pub verdict: &'static str,
    /// Start and end, RFC 3339, when recorded.
    pub started: Option<String>,
    /// Duration in seconds, when recorded.
    pub duration: Option<f64>,
    /// Files present, relative to the run.
    pub files: Vec<&'static str>,
}

/// Every run under `root` (`TEST/STAMP/` directories with a history or
/// results), newest first. Symlinks (`latest`) are skipped.
pub fn runs(root: &Path) -> Vec<RunEntry> {
    let mut out = Vec::new();
    let dirs = |p: &Path| -> Vec<(String, PathBuf)> {
        std::fs::read_dir(p)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
            .collect()
    };
    for (test, tdir) in dirs(root) {
        for (stamp, rdir) in dirs(&tdir) {
            let results: Option<Value> = std::fs::read(rdir.join("results.json"))
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok());
            if results.is_none() && !rdir.join("history.jsonl").is_file() {
                continue;
            }
            let files = [
                "report.html",
                "results.json",
                "history.jsonl",
                "junit.xml",
                "faultline.log",
                "test.yaml",
            ]
            .into_iter()
            .filter(|f| rdir.join(f).is_file())
            .collect();
            let started = results
                .as_ref()
                .and_then(|r| r.pointer("/run/started")?.as_str().map(String::from));
            let duration = results.as_ref().and_then(|r| {
                let a = rfc3339_secs(r.pointer("/run/started")?.as_str()?)?;
                let b = rfc3339_secs(r.pointer("/run/finished")?.as_str()?)?;
                Some(b - a)
            });
            out.push(RunEntry {
                test: test.clone(),
                stamp,
                verdict: results
                    .as_ref()
                    .map_or("running", |r| verdict_of(&r["valid"])),
                started,
                duration,
                files,
            });
        }
    }
    out.sort_by(|a, b| b.stamp.cmp(&a.stamp).then(a.test.cmp(&b.test)));
    out
}

/// Seconds since the epoch of `YYYY-MM-DDTHH:MM:SS.mmmZ` (the store's own
/// format; enough for durations).
fn rfc3339_secs(s: &str) -> Option<f64> {
    let n = |a: usize, b: usize| s.get(a..b)?.parse::<i64>().ok();
    let (y, mo, d) = (n(0, 4)?, n(5, 7)?, n(8, 10)?);
    let (h, mi) = (n(11, 13)?, n(14, 16)?);
    let sec: f64 = s.get(17..)?.trim_end_matches('Z').parse().ok()?;
    // Days from civil (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if mo > 2 { mo - 3 } else { mo + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + mi * 60) as f64 + sec)
}

/// The index page: runs newest first, filtered by test name (substring,
/// any case) and verdict.
pub fn index(root: &Path, name: Option<&str>, verdict: Option<&str>) -> String {
    let name = name.unwrap_or("").trim();
    let verdict = verdict.unwrap_or("").trim();
    let all = runs(root);
    let shown: Vec<&RunEntry> = all
        .iter()
        .filter(|r| name.is_empty() || r.test.to_lowercase().contains(&name.to_lowercase()))
        .filter(|r| verdict.is_empty() || r.verdict == verdict)
        .collect();
    let mut out = String::from(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><link rel=\"icon\" href=\"data:,\"><title>faultline runs</title><style>\
         body{font:14px/1.4 system-ui,sans-serif;margin:20px}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}\
         .valid{color:#2e7d32;font-weight:bold}.invalid{color:#c62828;font-weight:bold}.unknown,.running{color:#b26a00;font-weight:bold}\
         </style></head><body><h1>faultline runs</h1>",
    );
    let _ = write!(
        out,
        "<form method=\"get\" action=\"/\"><label>name <input name=\"name\" value=\"{}\"></label> \
         <label>verdict <select name=\"verdict\">",
        html(name)
    );
    for v in ["", "valid", "invalid", "unknown", "running"] {
        let _ = write!(
            out,
            "<option value=\"{v}\"{}>{}</option>",
            if v == verdict { " selected" } else { "" },
            if v.is_empty() { "any" } else { v }
        );
    }
    let _ = write!(
        out,
        "</select></label> <button>filter</button></form><p>{} of {} runs in {}</p>\
         <table><tr><th>test</th><th>started</th><th>duration</th><th>verdict</th><th>files</th></tr>",
        shown.len(),
        all.len(),
        html(&root.to_string_lossy())
    );
    for r in shown {
        let base = format!("/{}/{}/", href(&r.test), href(&r.stamp));
        let links: Vec<String> = r
            .files
            .iter()
            .map(|f| format!("<a href=\"{}{f}\">{f}</a>", html(&base)))
            .collect();
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td></tr>",
            html(&r.test),
            html(r.started.as_deref().unwrap_or(&r.stamp)),
            r.duration.map_or(String::new(), |d| format!("{d:.1} s")),
            r.verdict,
            r.verdict,
            links.join(" · ")
        );
    }
    out.push_str("</table></body></html>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch directory removed when dropped.
    struct Scratch(PathBuf);

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// A store with one run, beside a file named `secret` outside it (the
    /// store is `scratch/store`); each test gets its own.
    fn store(test: &str) -> (Scratch, PathBuf) {
        let base =
            std::env::temp_dir().join(format!("faultline-serve-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let d = base.join("store");
        let run = d.join("my<test>").join("20261130T101010.000");
        std::fs::create_dir_all(&run).unwrap();
        std::fs::write(
            run.join("results.json"),
            r#"{"valid": false, "run": {"started": "2026-11-30T10:10:10.000Z", "finished": "2026-11-30T10:10:25.500Z"}}"#,
        )
        .unwrap();
        std::fs::write(run.join("history.jsonl"), "").unwrap();
        std::fs::write(base.join("secret"), "secret").unwrap();
        let _ = std::os::unix::fs::symlink("/etc/passwd", run.join("escape.txt"));
        let root = std::fs::canonicalize(d).unwrap();
        (Scratch(base), root)
    }

    #[test]
    fn serves_only_files_inside_the_store() {
        let (_scratch, root) = store("files");
        let ok = route(&root, "/my%3Ctest%3E/20261130T101010.000/results.json");
        assert_eq!(ok.status, 200);
        assert_eq!(ok.content_type, "application/json");
        let secret = "secret";
        assert!(root.parent().unwrap().join(secret).is_file());
        for bad in [
            format!("/../{secret}"),
            format!("/%2e%2e/{secret}"),
            "/..%2f..%2fetc/passwd".to_string(),
            "//etc/passwd".to_string(),
            "/%2Fetc%2Fpasswd".to_string(),
            "/my%3Ctest%3E/20261130T101010.000/escape.txt".to_string(),
            "/my%3Ctest%3E/./20261130T101010.000/results.json".to_string(),
            "/my%3Ctest%3E".to_string(),
            "/nope".to_string(),
            "/%zz".to_string(),
        ] {
            assert_eq!(route(&root, &bad).status, 404, "{bad}");
        }
    }

    #[test]
    fn lists_runs_with_escaped_names_and_filters() {
        let (_scratch, root) = store("list");
        let page = String::from_utf8(route(&root, "/").body).unwrap();
        assert!(page.contains("my&lt;test&gt;"), "{page}");
        assert!(!page.contains("my<test>"));
        assert!(page.contains("15.5 s"), "{page}");
        assert!(page.contains("class=\"invalid\""), "{page}");
        let none = String::from_utf8(route(&root, "/?verdict=valid").body).unwrap();
        assert!(none.contains("0 of 1 runs"), "{none}");
        let by_name = String::from_utf8(route(&root, "/?name=MY%3C&verdict=").body).unwrap();
        assert!(by_name.contains("1 of 1 runs"), "{by_name}");
    }
}

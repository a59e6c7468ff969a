//! `faultline serve` over real TCP: it lists the store's runs and serves
//! files inside the store, and answers 404 for `..`, absolute paths and
//! symlinks that lead out of the store (raw requests: an HTTP client would
//! normalize the paths away before sending them).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

struct Server(Child, String);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(store: &Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["serve", store.to_str().unwrap(), "--bind", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("faultline serve starts");
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    Server(child, addr)
}

/// Sends `GET target` as written and returns (status, body).
fn get(addr: &str, target: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET {target} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let status = resp[9..12].parse().unwrap();
    let body = resp
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}

#[test]
fn serves_the_store_and_nothing_outside_it() {
    let base = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("faultline-serve-it-{}", std::process::id()));
    let store = base.join("store");
    let run = store.join("demo").join("20261130T101010.000");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::write(run.join("results.json"), r#"{"valid": true}"#).unwrap();
    std::fs::write(run.join("report.html"), "<p>report</p>").unwrap();
    std::fs::write(base.join("secret.txt"), "secret").unwrap();
    std::os::unix::fs::symlink(base.join("secret.txt"), run.join("leak.txt")).unwrap();
    std::os::unix::fs::symlink("20261130T101010.000", store.join("demo/latest")).unwrap();
    let server = serve(&store);
    let a = server.1.as_str();

    let (status, index) = get(a, "/");
    assert_eq!(status, 200);
    assert!(
        index.contains("demo") && index.contains("/demo/20261130T101010.000/report.html"),
        "{index}"
    );
    assert_eq!(
        get(a, "/demo/20261130T101010.000/report.html"),
        (200, "<p>report</p>".into())
    );
    assert_eq!(
        get(a, "/demo/latest/results.json").0,
        200,
        "links inside the store are followed"
    );
    assert_eq!(
        get(a, "/?verdict=invalid").1.matches("<tr>").count(),
        1,
        "header row only"
    );

    for bad in [
        "/../secret.txt",
        "/demo/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "//etc/passwd",
        "/%2fetc%2fpasswd",
        "/etc/passwd",
        "/demo/20261130T101010.000/leak.txt",
        "/demo",
    ] {
        let (status, body) = get(a, bad);
        assert_eq!(status, 404, "{bad}: {body}");
        assert!(!body.contains("secret"), "{bad}");
    }
    let mut s = TcpStream::connect(a).unwrap();
    write!(s, "POST / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 405"), "{resp}");
    drop(server);
    let _ = std::fs::remove_dir_all(&base);
}

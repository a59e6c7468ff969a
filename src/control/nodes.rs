//! Node lists from the command line (`--nodes n1,n2:2222`) and from nodes
//! files (`--nodes-file`).
//!
//! A nodes file has one node per line — `HOST[:PORT]`, or `NAME
//! HOST[:PORT]` to name it — with `#` comments. Lines starting with `@`
//! set SSH options for these nodes (what `faultline cluster up` writes so
//! that its nodes file alone is enough to reach the local cluster):
//! `@username USER`, `@ssh-private-key PATH`, `@known-hosts PATH`.

use super::Node;
use std::path::{Path, PathBuf};

/// Nodes plus the SSH options a nodes file carried.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeList {
    /// The nodes, in order.
    pub nodes: Vec<Node>,
    /// `@username` from the file.
    pub username: Option<String>,
    /// `@ssh-private-key` from the file.
    pub private_key: Option<PathBuf>,
    /// `@known-hosts` from the file.
    pub known_hosts: Option<PathBuf>,
}

/// Longest node name.
const MAX_NAME: usize = 64;

/// Checks a node name: 1 to 64 letters, digits, `.`, `_` or `-`, starting
/// with a letter or digit, without `..`. A name becomes a directory of
/// pulled logs, is matched in comma-separated target lists and appears in
/// scripts, so separators (`/`, `,`, `=`), whitespace and shell
/// metacharacters are refused. An IP address is a name too (a node named
/// by its address).
pub fn check_name(name: &str) -> Result<(), String> {
    if is_ip_or_plain(name, MAX_NAME) {
        Ok(())
    } else {
        Err(format!(
            "node name {name:?} must be 1-{MAX_NAME} letters, digits, '.', '_' or '-', starting with a letter or digit"
        ))
    }
}

/// Checks a node address: an IPv4 or IPv6 address, or a host (or
/// container) name of letters, digits, `.`, `_` and `-` (at most 253
/// bytes, starting with a letter or digit, without `..`).
pub fn check_host(host: &str) -> Result<(), String> {
    if is_ip_or_plain(host, 253) {
        Ok(())
    } else {
        Err(format!(
            "expected a host name or an IP address, found {host:?}"
        ))
    }
}

/// True for an IP address, or for 1 to `max` letters, digits, `.`, `_`
/// and `-` starting with a letter or digit, without `..`.
fn is_ip_or_plain(s: &str, max: usize) -> bool {
    s.parse::<std::net::IpAddr>().is_ok()
        || !s.is_empty()
            && s.len() <= max
            && s.as_bytes()[0].is_ascii_alphanumeric()
            && !s.contains("..")
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// Parses `HOST[:PORT]` (`[V6ADDR]:PORT` for IPv6 with a port); the node's
/// name is `name`, or the host.
fn parse_host(name: Option<&str>, s: &str) -> Result<Node, String> {
    let (host, port) = match s.strip_prefix('[').and_then(|r| r.split_once(']')) {
        Some((h, rest)) => match rest.strip_prefix(':') {
            Some(p) => (h, Some(p)),
            None if rest.is_empty() => (h, None),
            None => return Err(format!("expected [ADDRESS]:PORT, found {s:?}")),
        },
        None => match s.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, Some(p)),
            _ => (s, None),
        },
    };
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(p) if p > 0 => Some(p),
            _ => {
                return Err(format!(
                    "expected a port number (1-65535) after ':', found {p:?}"
                ))
            }
        },
    };
    check_host(host)?;
    let name = name.unwrap_or(host);
    check_name(name)?;
    Ok(Node {
        name: name.to_string(),
        addr: host.to_string(),
        port,
    })
}

/// Parses one node: `HOST[:PORT]` or `NAME=HOST[:PORT]`.
pub fn parse_node(s: &str) -> Result<Node, String> {
    match s.split_once('=') {
        Some((name, host)) => parse_host(Some(name), host),
        None => parse_host(None, s),
    }
}

/// Parses `--nodes`: comma-separated `HOST[:PORT]` or `NAME=HOST[:PORT]`.
pub fn parse_nodes_arg(s: &str) -> Result<Vec<Node>, String> {
    let nodes: Vec<Node> = s
        .split(',')
        .map(str::trim)
        .map(|p| {
            if p.is_empty() {
                Err(format!(
                    "an empty entry in {s:?} (two commas in a row, or one at an end?)"
                ))
            } else {
                parse_node(p)
            }
        })
        .collect::<Result<_, _>>()?;
    check_unique(&nodes)?;
    Ok(nodes)
}

/// Refuses a node name listed twice.
pub fn check_unique(nodes: &[Node]) -> Result<(), String> {
    for (i, n) in nodes.iter().enumerate() {
        if nodes[..i].iter().any(|m| m.name == n.name) {
            return Err(format!("node {} is listed twice", n.name));
        }
    }
    Ok(())
}

/// Reads a nodes file; errors name `file:line:column`.
pub fn read_nodes_file(path: &Path) -> Result<NodeList, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    parse_nodes_file(path, &text)
}

/// Parses nodes-file text (see the module docs).
pub fn parse_nodes_file(path: &Path, text: &str) -> Result<NodeList, String> {
    let mut list = NodeList::default();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("");
        let at =
            |col: usize, msg: String| format!("{}:{}:{}: {msg}", path.display(), i + 1, col + 1);
        let col = line.len() - line.trim_start().len();
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [] => {}
            [opt, value] if opt.starts_with('@') => match *opt {
                "@username" => list.username = Some(value.to_string()),
                "@ssh-private-key" => list.private_key = Some(PathBuf::from(value)),
                "@known-hosts" => list.known_hosts = Some(PathBuf::from(value)),
                other => {
                    return Err(at(col, format!(
                        "unknown option {other}; expected @username, @ssh-private-key or @known-hosts"
                    )))
                }
            },
            [opt, ..] if opt.starts_with('@') => return Err(at(col, format!("expected one value after {opt}"))),
            [host] => list.nodes.push(parse_host(None, host).map_err(|m| at(col, m))?),
            [name, host] => list.nodes.push(parse_host(Some(name), host).map_err(|m| at(col, m))?),
            _ => return Err(at(col, "expected `HOST[:PORT]` or `NAME HOST[:PORT]`".into())),
        }
    }
    if list.nodes.is_empty() {
        return Err(format!("{}: no nodes listed", path.display()));
    }
    check_unique(&list.nodes).map_err(|m| format!("{}: {m}", path.display()))?;
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nodes_arguments() {
        let n = parse_nodes_arg("n1, db=10.0.0.2:2222,host3").unwrap();
        assert_eq!(n[0], Node::new("n1", "n1"));
        assert_eq!(
            n[1],
            Node {
                name: "db".into(),
                addr: "10.0.0.2".into(),
                port: Some(2222)
            }
        );
        assert!(parse_nodes_arg("a,a").is_err());
        assert!(parse_nodes_arg("a:x").unwrap_err().contains("port"));
    }

    #[test]
    fn refuses_hostile_names_and_addresses() {
        for bad in [
            "",
            "a,,b",
            "a,",
            "a=b=c",
            "=h",
            "$(reboot)",
            "a;b",
            "n1 n2",
            "../x",
            "/abs",
            "x/..",
            "a..b",
            "h:0",
            "h:65536",
            "h:-1",
            "n'1=h",
            "-n=h",
            "[::1]x",
        ] {
            assert!(parse_nodes_arg(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(parse_nodes_arg("a,a").unwrap_err().contains("twice"));
        let n = parse_nodes_arg("db1.example.com,v6=[fd00::1]:2222,::1").unwrap();
        assert_eq!(n[0].name, "db1.example.com");
        assert_eq!((n[1].addr.as_str(), n[1].port), ("fd00::1", Some(2222)));
        assert_eq!(n[2].addr, "::1");
        assert!(check_name("..").is_err() && check_name(".").is_err());
        assert!(check_host("my_container-1").is_ok());
    }

    #[test]
    fn parses_nodes_files_with_options() {
        let text = "# cluster fl\n@username root\n@ssh-private-key /k\nn1 198.18.77.11\n  n2 198.18.77.12 # two\n";
        let l = parse_nodes_file(Path::new("nodes"), text).unwrap();
        assert_eq!(l.nodes.len(), 2);
        assert_eq!(l.nodes[1].addr, "198.18.77.12");
        assert_eq!(l.private_key, Some(PathBuf::from("/k")));
        let e = parse_nodes_file(Path::new("nodes"), "n1\n  a b c\n").unwrap_err();
        assert!(e.starts_with("nodes:2:3:"), "{e}");
        let e = parse_nodes_file(Path::new("nodes"), "@user x\n").unwrap_err();
        assert!(e.contains("unknown option @user"), "{e}");
    }
}

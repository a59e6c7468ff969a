//! Names and paths of a local cluster, all derived from its name so that
//! `down` can find what `up` made even without a state file. Addresses are
//! chosen by `up` (starting from the name's preferred /24) and kept in the
//! state file.

use super::host::HostError;
use std::path::PathBuf;

/// Environment variable that moves where cluster state lives (tests).
pub const ROOT_ENV: &str = "FAULTLINE_CLUSTER_ROOT";

/// Longest cluster name: interface names must fit in 15 bytes.
const MAX_NAME: usize = 8;
/// Most nodes per cluster (addresses .11 to .210 of the /24).
pub const MAX_NODES: usize = 200;

/// Where one cluster's things are and what they are called.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Cluster name (`fl`).
    pub name: String,
}

impl Layout {
    /// The layout of cluster `name`; errors if the name is not usable.
    pub fn new(name: &str) -> Result<Layout, HostError> {
        let ok = !name.is_empty()
            && name.len() <= MAX_NAME
            && name.as_bytes()[0].is_ascii_lowercase()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if !ok {
            return Err(HostError::Usage(format!(
                "cluster name {name:?} must be 1-{MAX_NAME} lowercase letters or digits, starting with a letter"
            )));
        }
        Ok(Layout {
            name: name.to_string(),
        })
    }

    /// Directory of all clusters' state.
    pub fn root() -> PathBuf {
        std::env::var_os(ROOT_ENV).map_or_else(
            || PathBuf::from("/var/lib/faultline/clusters"),
            PathBuf::from,
        )
    }

    /// This cluster's state directory.
    pub fn dir(&self) -> PathBuf {
        Self::root().join(&self.name)
    }

    /// The state file.
    pub fn state_file(&self) -> PathBuf {
        self.dir().join("state.json")
    }

    /// The client's private key (public key beside it, `.pub`).
    pub fn client_key(&self) -> PathBuf {
        self.dir().join("id_ed25519")
    }

    /// known_hosts with every node's host key.
    pub fn known_hosts(&self) -> PathBuf {
        self.dir().join("known_hosts")
    }

    /// An ssh_config for plain `ssh -F FILE n1`.
    pub fn ssh_config(&self) -> PathBuf {
        self.dir().join("ssh_config")
    }

    /// The nodes file for `--nodes-file`.
    pub fn nodes_file(&self) -> PathBuf {
        self.dir().join("nodes.txt")
    }

    /// Node `i`'s directory (1-based).
    pub fn node_dir(&self, i: usize) -> PathBuf {
        self.dir().join("nodes").join(Self::node_name(i))
    }

    /// Node `i`'s name: `n1`, `n2`, ...
    pub fn node_name(i: usize) -> String {
        format!("n{i}")
    }

    /// The bridge interface.
    pub fn bridge(&self) -> String {
        format!("{}-br", self.name)
    }

    /// Node `i`'s network namespace.
    pub fn netns(&self, i: usize) -> String {
        format!("{}-n{i}", self.name)
    }

    /// Host side of node `i`'s veth pair.
    pub fn veth(&self, i: usize) -> String {
        format!("{}-v{i}", self.name)
    }

    /// Number of /24s inside 198.18.0.0/15 that clusters are given.
    pub const SUBNETS: u32 = 512;

    /// The /24 this cluster tries first (an index below [`Self::SUBNETS`]):
    /// FNV-1a of the name, so that a cluster usually keeps its addresses
    /// from one `up` to the next. `up` probes onwards from here when another
    /// cluster or interface already uses it.
    pub fn preferred_subnet(&self) -> u32 {
        let mut h: u32 = 0x811c_9dc5;
        for b in self.name.bytes() {
            h = (h ^ b as u32).wrapping_mul(0x0100_0193);
        }
        h % Self::SUBNETS
    }

    /// First three octets of /24 number `i` inside 198.18.0.0/15.
    pub fn subnet_prefix(i: u32) -> String {
        let i = i % Self::SUBNETS;
        format!("198.{}.{}", 18 + i / 256, i % 256)
    }

    /// The lock held while a new cluster picks its /24, so that two
    /// clusters made at the same moment never pick the same one.
    pub fn subnet_lock() -> PathBuf {
        Self::root().join(".subnets.lock")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_and_subnets_are_in_the_benchmark_range() {
        let l = Layout::new("fl").unwrap();
        assert_eq!(l.netns(3), "fl-n3");
        for i in [0, 255, 256, 511, l.preferred_subnet()] {
            let p = Layout::subnet_prefix(i);
            assert!(p.starts_with("198.18.") || p.starts_with("198.19."), "{p}");
        }
        let long = Layout::new("abcdefgh").unwrap();
        assert!(long.veth(MAX_NODES).len() <= 15);
        assert!(Layout::new("Bad").is_err());
        assert!(Layout::new("toolongname").is_err());
        assert_ne!(
            Layout::new("a").unwrap().preferred_subnet(),
            Layout::new("b").unwrap().preferred_subnet()
        );
        assert_eq!(Layout::subnet_prefix(256), "198.19.0");
    }
}

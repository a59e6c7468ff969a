//! Network faults with iptables, inside each node and only in faultline's
//! own chains: `FAULTLINE` for partitions and `FAULTLINE-LOSS` for packet
//! loss, each jumped to from `INPUT`. Healing flushes only those chains;
//! teardown also removes the jumps and the chains. The user's rules are
//! never touched, and `iptables-legacy` is never called.
//!
//! Traffic from the controller is never dropped: rules match the other
//! nodes' addresses only, so the nemesis can always reach a node to heal it.

use crate::grudge::Grudge;
use crate::shell::quote;

/// Chain holding partition rules.
pub const PARTITION_CHAIN: &str = "FAULTLINE";
/// Chain holding packet-loss rules.
pub const LOSS_CHAIN: &str = "FAULTLINE-LOSS";

/// Creates `chain` and its jump from INPUT if missing (idempotent).
fn ensure_chain(chain: &str) -> String {
    format!(
        "iptables -w -N {chain} 2>/dev/null || true; \
         iptables -w -C INPUT -j {chain} 2>/dev/null || iptables -w -I INPUT -j {chain}; "
    )
}

/// Script for one node: drop everything from the nodes it holds a grudge
/// against (`addr_of` maps names to addresses). Replaces earlier rules.
pub fn partition_script(
    node: &str,
    grudge: &Grudge,
    addr_of: &dyn Fn(&str) -> Option<String>,
) -> String {
    let mut s = ensure_chain(PARTITION_CHAIN);
    s.push_str(&format!("iptables -w -F {PARTITION_CHAIN}"));
    for other in grudge.get(node).into_iter().flatten() {
        if let Some(addr) = addr_of(other) {
            s.push_str(&format!(
                "; iptables -w -A {PARTITION_CHAIN} -s {} -j DROP",
                quote(&addr)
            ));
        }
    }
    s
}

/// Script for one node: drop each packet from the other nodes with
/// probability `p` (`iptables -m statistic`).
pub fn loss_script(others: &[String], p: f64) -> String {
    let mut s = ensure_chain(LOSS_CHAIN);
    s.push_str(&format!("iptables -w -F {LOSS_CHAIN}"));
    for addr in others {
        s.push_str(&format!(
            "; iptables -w -A {LOSS_CHAIN} -s {} -m statistic --mode random --probability {p:.4} -j DROP",
            quote(addr)
        ));
    }
    s
}

/// Script that empties `chain` if it exists and prints how many rules it
/// held (idempotent; prints 0 when there was nothing).
pub fn flush_script(chain: &str) -> String {
    format!(
        "if iptables -w -n -L {chain} >/dev/null 2>&1; then \
         n=$(iptables -w -S {chain} | grep -c '^-A' || true); iptables -w -F {chain}; echo $n; else echo 0; fi"
    )
}

/// Script that removes our chains and their jumps entirely.
pub fn remove_chains_script() -> String {
    [PARTITION_CHAIN, LOSS_CHAIN]
        .iter()
        .map(|c| {
            format!(
                "while iptables -w -D INPUT -j {c} 2>/dev/null; do :; done; \
                 iptables -w -F {c} 2>/dev/null; iptables -w -X {c} 2>/dev/null; true"
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Script that succeeds only if `tc ... netem` works on the node's `eth0`
/// (probed by adding and removing a 1 ms delay).
pub fn netem_probe_script(dev: &str) -> String {
    let dev = quote(dev);
    format!("tc qdisc add dev {dev} root netem delay 1ms 2>&1 && tc qdisc del dev {dev} root")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn renders_rules_for_the_grudge_only() {
        let mut g = Grudge::new();
        g.insert(
            "n1".into(),
            BTreeSet::from(["n2".to_string(), "n3".to_string()]),
        );
        let addr = |n: &str| Some(format!("10.0.0.{}", &n[1..]));
        let s = partition_script("n1", &g, &addr);
        assert!(s.contains("iptables -w -N FAULTLINE"));
        assert!(s.contains("iptables -w -F FAULTLINE; iptables -w -A FAULTLINE -s 10.0.0.2 -j DROP; iptables -w -A FAULTLINE -s 10.0.0.3 -j DROP"));
        assert!(!partition_script("n2", &g, &addr).contains("-j DROP"));
        assert!(loss_script(&["10.0.0.2".into()], 0.5).contains("--probability 0.5000 -j DROP"));
        assert!(
            !remove_chains_script().contains("iptables -w -F INPUT"),
            "never flush the user's chains"
        );
        assert!(!format!("{s}{}", remove_chains_script()).contains("legacy"));
        // Whatever an address holds, it reaches iptables as one word.
        let evil = |_: &str| Some("1.2.3.4; reboot".to_string());
        assert!(partition_script("n1", &g, &evil).contains("-s '1.2.3.4; reboot' -j DROP"));
        assert!(loss_script(&["$(x)".into()], 0.5).contains("-s '$(x)' -m statistic"));
    }
}

//! Grudges: who stops hearing whom during a partition, as pure functions
//! of the node list (and a seeded RNG). Jepsen's vocabulary: a grudge maps
//! each node to the set of nodes whose traffic it drops.

use fastrand::Rng;
use std::collections::{BTreeMap, BTreeSet};

/// Node → nodes whose packets it drops.
pub type Grudge = BTreeMap<String, BTreeSet<String>>;

/// Every node drops traffic from every node outside its own component.
pub fn complete(components: &[Vec<String>]) -> Grudge {
    let mut g = Grudge::new();
    for (i, comp) in components.iter().enumerate() {
        let others: BTreeSet<String> = components
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .flat_map(|(_, c)| c.iter().cloned())
            .collect();
        for n in comp {
            g.insert(n.clone(), others.clone());
        }
    }
    g
}

fn shuffled(nodes: &[String], rng: &mut Rng) -> Vec<String> {
    let mut v = nodes.to_vec();
    rng.shuffle(&mut v);
    v
}

/// Random halves: a minority (⌊n/2⌋ nodes) and a majority, cut apart.
pub fn halves(nodes: &[String], rng: &mut Rng) -> Grudge {
    let v = shuffled(nodes, rng);
    let (minority, majority) = v.split_at(v.len() / 2);
    complete(&[minority.to_vec(), majority.to_vec()])
}

/// One node (`target`, or a random one) cut off from all others.
pub fn isolate(nodes: &[String], target: Option<&str>, rng: &mut Rng) -> Grudge {
    let lone = target.map_or_else(|| nodes[rng.usize(..nodes.len())].clone(), String::from);
    let rest: Vec<String> = nodes.iter().filter(|n| **n != lone).cloned().collect();
    complete(&[vec![lone], rest])
}

/// The primaries (leaders) cut off from the other nodes.
pub fn isolate_primaries(nodes: &[String], primaries: &[String]) -> Grudge {
    let rest: Vec<String> = nodes
        .iter()
        .filter(|n| !primaries.contains(n))
        .cloned()
        .collect();
    complete(&[primaries.to_vec(), rest])
}

/// Two halves that both still talk to one bridge node in the middle.
pub fn bridge(nodes: &[String], rng: &mut Rng) -> Grudge {
    let v = shuffled(nodes, rng);
    let mid = v.len() / 2;
    let (left, right) = (v[..mid].to_vec(), v[mid + 1..].to_vec());
    let mut g = complete(&[left, right]);
    g.insert(v[mid].clone(), BTreeSet::new());
    g
}

/// Every node sees a majority, and no two nodes see the same one (Jepsen's
/// majorities ring): around a shuffled ring, each node keeps the majority
/// window it sits in the middle of and drops everything else.
pub fn majorities_ring(nodes: &[String], rng: &mut Rng) -> Grudge {
    let v = shuffled(nodes, rng);
    let n = v.len();
    let m = n / 2 + 1;
    let all: BTreeSet<String> = v.iter().cloned().collect();
    let mut g = Grudge::new();
    for start in 0..n {
        let window: BTreeSet<String> = (0..m).map(|k| v[(start + k) % n].clone()).collect();
        let me = v[(start + m / 2) % n].clone();
        g.insert(me, all.difference(&window).cloned().collect());
    }
    g
}

/// A one-way partition: a random minority (at least one node) stops
/// hearing every other node, while the others still hear it — messages
/// from the minority get through, replies to it are lost (Maelstrom issue
/// #23's asymmetric partition).
pub fn one_way(nodes: &[String], rng: &mut Rng) -> Grudge {
    let v = shuffled(nodes, rng);
    let k = if v.len() <= 2 {
        1
    } else {
        1 + rng.usize(..(v.len() - 1) / 2)
    }
    .min(v.len());
    let (deaf, rest) = v.split_at(k);
    let rest: BTreeSet<String> = rest.iter().cloned().collect();
    deaf.iter().map(|n| (n.clone(), rest.clone())).collect()
}

/// A random split into 2 or 3 non-empty groups, cut apart.
pub fn random_subsets(nodes: &[String], rng: &mut Rng) -> Grudge {
    let v = shuffled(nodes, rng);
    let k = if v.len() >= 3 { 2 + rng.usize(..2) } else { 2 }.min(v.len());
    let mut comps: Vec<Vec<String>> = vec![Vec::new(); k];
    for (i, n) in v.into_iter().enumerate() {
        // The first k nodes seed the groups so none is empty.
        let g = if i < k { i } else { rng.usize(..k) };
        comps[g].push(n);
    }
    complete(&comps)
}

/// An explicit grudge from a spec, checked against the node names.
pub fn explicit(nodes: &[String], spec: &BTreeMap<String, Vec<String>>) -> Result<Grudge, String> {
    let known = |n: &String| nodes.contains(n);
    let mut g = Grudge::new();
    for (node, drops) in spec {
        if let Some(bad) = std::iter::once(node).chain(drops).find(|n| !known(n)) {
            return Err(format!(
                "grudge names unknown node {bad:?}; nodes are {}",
                nodes.join(", ")
            ));
        }
        g.insert(
            node.clone(),
            drops.iter().filter(|d| *d != node).cloned().collect(),
        );
    }
    Ok(g)
}

/// True if `a` can receive from `b` under the grudge.
pub fn hears(g: &Grudge, a: &str, b: &str) -> bool {
    g.get(a).is_none_or(|drops| !drops.contains(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("n{i}")).collect()
    }

    #[test]
    fn one_way_partitions_cut_one_direction_only() {
        let ns = nodes(5);
        for seed in 0..50 {
            let g = one_way(&ns, &mut Rng::with_seed(seed));
            let deaf: Vec<&String> = g.keys().collect();
            assert!(!deaf.is_empty() && deaf.len() <= 2, "{g:?}");
            for a in &ns {
                for b in &ns {
                    if a == b {
                        continue;
                    }
                    let cut = g.contains_key(a) && !g.contains_key(b);
                    assert_eq!(!hears(&g, a, b), cut, "{a} from {b} in {g:?}");
                    if cut {
                        assert!(hears(&g, b, a), "{b} still hears {a}");
                    }
                }
            }
        }
    }

    /// Both directions cut between components, none inside.
    fn assert_components(g: &Grudge, comps: &[Vec<String>]) {
        for (i, a) in comps.iter().enumerate() {
            for (j, b) in comps.iter().enumerate() {
                for x in a {
                    for y in b {
                        assert_eq!(hears(g, x, y), i == j || x == y, "{x} hears {y}? {g:?}");
                    }
                }
            }
        }
    }

    fn components_of(g: &Grudge, all: &[String]) -> Vec<Vec<String>> {
        let mut comps: Vec<Vec<String>> = Vec::new();
        for n in all {
            match comps
                .iter_mut()
                .find(|c| hears(g, n, &c[0]) && hears(g, &c[0], n))
            {
                Some(c) => c.push(n.clone()),
                None => comps.push(vec![n.clone()]),
            }
        }
        comps
    }

    #[test]
    fn halves_isolate_and_subsets_cut_complete_components() {
        for n in [3, 5, 7, 9] {
            let all = nodes(n);
            for seed in 0..20 {
                let mut rng = Rng::with_seed(seed);
                let g = halves(&all, &mut rng);
                let comps = components_of(&g, &all);
                assert_eq!(comps.len(), 2);
                let mut sizes: Vec<usize> = comps.iter().map(Vec::len).collect();
                sizes.sort();
                assert_eq!(sizes, [n / 2, n - n / 2]);
                assert_components(&g, &comps);

                let g = isolate(&all, Some("n2"), &mut rng);
                assert_components(
                    &g,
                    &[
                        vec!["n2".into()],
                        all.iter().filter(|x| *x != "n2").cloned().collect(),
                    ],
                );

                let g = random_subsets(&all, &mut rng);
                let comps = components_of(&g, &all);
                assert!((2..=3).contains(&comps.len()), "{comps:?}");
                assert_components(&g, &comps);
            }
        }
    }

    #[test]
    fn primaries_are_cut_off() {
        let all = nodes(5);
        let g = isolate_primaries(&all, &["n3".into()]);
        assert!(!hears(&g, "n3", "n1") && !hears(&g, "n1", "n3") && hears(&g, "n1", "n2"));
    }

    #[test]
    fn bridge_keeps_one_node_connected_to_both_sides() {
        for n in [3, 5, 7, 9] {
            let all = nodes(n);
            let g = bridge(&all, &mut Rng::with_seed(n as u64));
            let bridges: Vec<&String> = all
                .iter()
                .filter(|b| all.iter().all(|o| hears(&g, b, o) && hears(&g, o, b)))
                .collect();
            assert_eq!(bridges.len(), 1, "{g:?}");
            let rest: Vec<String> = all.iter().filter(|x| *x != bridges[0]).cloned().collect();
            let comps = components_of(&g, &rest);
            assert_eq!(comps.len(), 2);
            assert_components(&g, &comps);
        }
    }

    #[test]
    fn majorities_ring_gives_everyone_a_different_majority() {
        for n in [3, 5, 7, 9] {
            let all = nodes(n);
            let g = majorities_ring(&all, &mut Rng::with_seed(7));
            let views: BTreeSet<BTreeSet<&String>> = all
                .iter()
                .map(|a| {
                    let view: BTreeSet<&String> = all.iter().filter(|b| hears(&g, a, b)).collect();
                    assert_eq!(view.len(), n / 2 + 1, "{a} sees a majority");
                    assert!(view.contains(a));
                    view
                })
                .collect();
            assert_eq!(views.len(), n, "views are distinct");
        }
    }

    #[test]
    fn explicit_grudges_are_checked() {
        let all = nodes(3);
        let spec: BTreeMap<String, Vec<String>> =
            [("n1".to_string(), vec!["n2".to_string()])].into();
        let g = explicit(&all, &spec).unwrap();
        assert!(!hears(&g, "n1", "n2") && hears(&g, "n2", "n1"));
        let bad: BTreeMap<String, Vec<String>> =
            [("n1".to_string(), vec!["n7".to_string()])].into();
        assert!(explicit(&all, &bad).unwrap_err().contains("n7"));
    }
}

//! Which live node owns a piece of partitioned work: rendezvous (highest
//! random weight) hashing. Every node computes the same owner from the same
//! node list without talking to the others; when a node leaves, only the keys
//! it owned move, and a node that joins takes about 1/n of the keys from the
//! others and nothing else moves. Hand-written: it is a maximum over one hash
//! per node, smaller than any crate's API, and the hash (xxh3) is fixed so
//! that nodes of different builds agree.

use xxhash_rust::xxh3::xxh3_64;

/// The node among `nodes` that owns `key`; `None` when there are none.
pub fn owner<'a>(nodes: &'a [String], key: &str) -> Option<&'a str> {
    nodes.iter().max_by_key(|n| (weight(n, key), n.as_str())).map(String::as_str)
}

/// The owner of `job` among the `nodes` that run it (per their heartbeats):
/// a node started without a job never owns it, or the job would not run.
pub fn owner_among<'a>(nodes: &'a [wantloop_store::NodeInfo], job: &str) -> Option<&'a str> {
    nodes
        .iter()
        .filter(|n| n.jobs.iter().any(|j| j == job))
        .max_by_key(|n| (weight(&n.id, job), n.id.as_str()))
        .map(|n| n.id.as_str())
}

fn weight(node: &str, key: &str) -> u64 {
    // The length prefix keeps ("ab", "c") and ("a", "bc") apart.
    let mut bytes = Vec::with_capacity(node.len() + key.len() + 8);
    bytes.extend_from_slice(&(node.len() as u64).to_le_bytes());
    bytes.extend_from_slice(node.as_bytes());
    bytes.extend_from_slice(key.as_bytes());
    xxh3_64(&bytes)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::owner;

    fn nodes(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("node-{i:016x}")).collect()
    }

    fn keys() -> Vec<String> {
        (0..20_000).map(|i| format!("category-{i}")).collect()
    }

    fn owners(nodes: &[String]) -> Vec<String> {
        keys().iter().map(|k| owner(nodes, k).unwrap().to_string()).collect()
    }

    #[test]
    fn keys_spread_evenly_over_the_nodes() {
        for n in [2, 3, 5, 8] {
            let mut count: HashMap<String, usize> = HashMap::new();
            for o in owners(&nodes(n)) {
                *count.entry(o).or_default() += 1;
            }
            let fair = 20_000 / n;
            assert_eq!(count.len(), n, "every node owns some keys");
            for (node, c) in count {
                // 20,000 keys: a fair share ±10 % is over 6 standard deviations for n ≤ 8.
                assert!(c.abs_diff(fair) * 10 <= fair, "{node} owns {c} of 20,000 keys with {n} nodes");
            }
        }
    }

    #[test]
    fn a_node_leaving_moves_only_its_own_keys() {
        let all = nodes(5);
        let before = owners(&all);
        let gone = all[2].clone();
        let after = owners(&[&all[..2], &all[3..]].concat());
        for (b, a) in before.iter().zip(&after) {
            if *b != gone {
                assert_eq!(a, b, "a key of a node that stayed moved");
            }
        }
        assert!(after.iter().all(|a| *a != gone));
    }

    #[test]
    fn a_node_joining_takes_a_fair_share_and_nothing_else_moves() {
        let mut all = nodes(4);
        let before = owners(&all);
        all.push("node-new".to_string());
        let after = owners(&all);
        let mut taken = 0usize;
        for (b, a) in before.iter().zip(&after) {
            if a == "node-new" {
                taken += 1;
            } else {
                assert_eq!(a, b, "a key moved between nodes that were already there");
            }
        }
        assert!(taken.abs_diff(20_000 / 5) * 10 <= 20_000 / 5, "the new node took {taken} of 20,000 keys");
    }

    #[test]
    fn a_job_is_owned_only_by_a_node_that_runs_it() {
        let node = |id: &str, jobs: &[&str]| wantloop_store::NodeInfo {
            id: id.into(),
            address: String::new(),
            version: String::new(),
            started_at: 0,
            last_seen: 0,
            jobs: jobs.iter().map(|j| j.to_string()).collect(),
            models: Vec::new(),
        };
        // Many node sets: whichever would win the ring, only the one running
        // `allocate` owns it, and the owner among runners is the ring's owner.
        for i in 0..200 {
            let nodes = vec![
                node(&format!("a{i}"), &["expiry"]),
                node(&format!("b{i}"), &["expiry", "allocate"]),
                node(&format!("c{i}"), &["expiry"]),
            ];
            assert_eq!(super::owner_among(&nodes, "allocate"), Some(format!("b{i}").as_str()));
            let ids: Vec<String> = nodes.iter().map(|n| n.id.clone()).collect();
            assert_eq!(super::owner_among(&nodes, "expiry"), owner(&ids, "expiry"));
            assert_eq!(super::owner_among(&nodes, "retrain"), None);
        }
    }

    #[test]
    fn the_owner_does_not_depend_on_the_order_of_the_list() {
        let mut all = nodes(6);
        let before = owners(&all);
        all.reverse();
        assert_eq!(owners(&all), before);
        assert_eq!(owner(&[], "anything"), None);
    }
}

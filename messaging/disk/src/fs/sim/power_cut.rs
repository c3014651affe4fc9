//! The power cut: the file system a crash at this moment leaves, built from
//! the durable images and a seeded choice of what was not synced.

use super::{Node, Shared, SimFs, State};
use crate::sync::{Condvar, Mutex, lock};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

impl SimFs {
    /// The file system as a power cut at this moment leaves it, with the
    /// unsynced part chosen by `seed`: durable entries and synced bytes
    /// survive; each unsynced entry change survives or not, and each file
    /// keeps a prefix of its unsynced bytes (possibly cutting a record in
    /// two). The new file system has no locks and no faults set; this one
    /// is left as it was.
    pub fn power_cut(&self, seed: u64) -> SimFs {
        let state = lock(&self.shared.state);
        let mut rng = XorShift::new(seed);
        let mut entries: BTreeMap<PathBuf, usize> = BTreeMap::new();
        let paths: BTreeSet<&PathBuf> = state.live.keys().chain(state.durable.keys()).collect();
        for path in paths {
            let live = state.live.get(path);
            let durable = state.durable.get(path);
            let survivor = if live == durable || rng.coin() {
                durable
            } else {
                live
            };
            if let Some(&node) = survivor {
                entries.insert(path.clone(), node);
            }
        }
        let mut nodes = Vec::new();
        let mut renumber = HashMap::new();
        let mut live = BTreeMap::new();
        for (path, node) in entries {
            let id = *renumber.entry(node).or_insert_with(|| {
                let content = crash_image(&state.nodes[node], &mut rng);
                nodes.push(Node {
                    data: content.clone(),
                    synced: content,
                    dropped: None,
                });
                nodes.len() - 1
            });
            live.insert(path, id);
        }
        let after = State {
            nodes,
            dirs: state.dirs.clone(),
            durable: live.clone(),
            live,
            ..State::default()
        };
        SimFs {
            shared: Arc::new(Shared {
                state: Mutex::new(after),
                changed: Condvar::new(),
            }),
        }
    }
}

// ANCHOR: crash_image
/// What a power cut leaves of `node`: its synced bytes and a random prefix
/// of what was written after them; a truncation not yet synced may or may
/// not have happened.
fn crash_image(node: &Node, rng: &mut XorShift) -> Vec<u8> {
    let common = node.synced_prefix();
    let keep = common + rng.below(node.data.len() - common + 1);
    let mut image = node.data[..keep].to_vec();
    if keep < node.synced.len() && rng.coin() {
        image.extend_from_slice(&node.synced[keep..]);
    }
    if let Some((start, end)) = node.dropped {
        for byte in image.iter_mut().take(end).skip(start) {
            *byte = 0;
        }
    }
    image
}
// ANCHOR_END: crash_image

/// xorshift64*, enough to pick cut points; seed 0 is mapped to 1.
#[derive(Debug)]
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> XorShift {
        XorShift(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn coin(&mut self) -> bool {
        self.next() & 1 == 1
    }
}

//! The injection queue: pushes from two threads against a batch pop and a
//! close. Each task is popped once or handed back by the closed queue.

use crate::loom::{Arc, thread};
use crate::scheduler::inject::Inject;

#[test]
fn concurrent_pushes_pops_and_close_lose_nothing() {
    loom::model(|| {
        let inject = Arc::new(Inject::<u32>::new());
        let pushers: Vec<_> = (0..2u32)
            .map(|t| {
                let inject = inject.clone();
                thread::spawn(move || {
                    let mut refused = Vec::new();
                    for i in 0..2 {
                        if let Err(task) = inject.push(t * 2 + i) {
                            refused.push(task);
                        }
                    }
                    refused
                })
            })
            .collect();
        let mut seen = Vec::new();
        let mut rest = Vec::new();
        if let Some(first) = inject.pop_batch(3, |more| rest.extend(more)) {
            seen.push(first);
        }
        seen.extend(rest);
        let closer = {
            let inject = inject.clone();
            thread::spawn(move || inject.close())
        };
        for p in pushers {
            seen.extend(p.join().unwrap());
        }
        assert!(closer.join().unwrap());
        seen.extend(inject.drain());
        seen.sort_unstable();
        assert_eq!(
            seen,
            [0, 1, 2, 3],
            "each task popped, drained or refused exactly once"
        );
    });
}

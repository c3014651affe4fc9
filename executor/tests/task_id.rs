//! Task ids: distinct per task, visible inside the task, on its handles and
//! on its error.

mod support;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use weft_executor::task::{self, Id, JoinSet};

#[test]
fn every_task_has_its_own_id_which_it_sees_inside() {
    for (name, rt) in support::setups() {
        eprintln!("setup: {name}");
        rt.block_on(async {
            let handles: Vec<_> = (0..100)
                .map(|_| weft_executor::spawn(async { task::id() }))
                .collect();
            let ids: HashSet<Id> = handles.iter().map(|h| h.id()).collect();
            assert_eq!(ids.len(), 100);
            for h in handles {
                let outside = h.id();
                assert_eq!(h.abort_handle().id(), outside);
                assert_eq!(h.await.unwrap(), outside);
            }
        });
    }
}

#[test]
fn no_id_outside_a_task() {
    assert_eq!(task::try_id(), None);
    let rt = weft_executor::Runtime::new().unwrap();
    rt.block_on(async {
        assert_eq!(task::try_id(), None);
        let inner = weft_executor::spawn(async {
            let me = task::id();
            // Back in the task after an await, and in a nested spawn's poll
            // the id is that task's.
            task::yield_now().await;
            assert_eq!(task::id(), me);
            weft_executor::spawn(async { task::id() }).await.unwrap() != me
        });
        assert!(inner.await.unwrap());
        assert_eq!(task::try_id(), None);
    });
    assert_eq!(task::try_id(), None);
}

#[test]
#[should_panic(expected = "outside a spawned task")]
fn id_panics_outside_a_task() {
    let _ = task::id();
}

#[test]
fn join_errors_carry_the_id() {
    let rt = weft_executor::Runtime::new().unwrap();
    rt.block_on(async {
        let panics = weft_executor::spawn(async { panic!("boom") });
        let id = panics.id();
        let err = panics.await.unwrap_err();
        assert!(err.is_panic());
        assert_eq!(err.id(), id);

        let pending = weft_executor::spawn(std::future::pending::<()>());
        let id = pending.id();
        pending.abort();
        let err = pending.await.unwrap_err();
        assert!(err.is_cancelled());
        assert_eq!(err.id(), id);
        assert_eq!(err.try_into_panic().unwrap_err().id(), id);
    });
}

#[test]
fn the_id_is_visible_while_the_future_is_dropped() {
    struct Probe(Arc<Mutex<Option<Option<Id>>>>);
    impl Drop for Probe {
        fn drop(&mut self) {
            *self.0.lock().unwrap() = Some(task::try_id());
        }
    }
    let rt = weft_executor::Runtime::new().unwrap();
    let seen = Arc::new(Mutex::new(None));
    let probe = Probe(seen.clone());
    let id = rt.block_on(async move {
        let handle = weft_executor::spawn(async move {
            let _probe = probe;
            std::future::pending::<()>().await
        });
        task::yield_now().await;
        handle.abort();
        handle.await.unwrap_err().id()
    });
    assert_eq!(*seen.lock().unwrap(), Some(Some(id)));
}

#[test]
fn join_set_reports_ids() {
    let rt = weft_executor::Runtime::new().unwrap();
    rt.block_on(async {
        let mut set = JoinSet::new();
        let a = set.spawn(async { task::id() }).id();
        let b = set.spawn(async { task::id() }).id();
        let mut seen = Vec::new();
        while let Some(res) = set.join_next_with_id().await {
            let (id, inside) = res.unwrap();
            assert_eq!(id, inside);
            seen.push(id);
        }
        seen.sort();
        let mut expected = vec![a, b];
        expected.sort();
        assert_eq!(seen, expected);

        let failing = set.spawn(async { panic!("boom") }).id();
        let err = loop {
            if let Some(res) = set.try_join_next_with_id() {
                break res.unwrap_err();
            }
            task::yield_now().await;
        };
        assert_eq!(err.id(), failing);
    });
}

//! Unit tests of `RwLock`.

use super::*;

fn poll<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    crate::util::test_support::poll(future, std::task::Waker::noop())
}

#[test]
fn readers_share_writers_exclude() {
    let lock = RwLock::new(vec![1]);
    let a = lock.try_read().unwrap();
    let b = lock.try_read().unwrap();
    assert_eq!(a.len() + b.len(), 2);
    let mut write = lock.write();
    assert!(poll(&mut write).is_pending());
    drop((a, b));
    let Poll::Ready(mut w) = poll(&mut write) else {
        panic!("the writer was next");
    };
    w.push(2);
    let r = w.downgrade();
    assert_eq!(*r, [1, 2]);
    assert!(lock.try_write().is_err());
    drop(r);
    drop(write);
    let shared = Arc::new(lock);
    let mut lock = {
        let Poll::Ready(mut w) = poll(&mut Box::pin(Arc::clone(&shared).write_owned())) else {
            panic!("the lock was free");
        };
        w.push(3);
        drop(w);
        Arc::try_unwrap(shared).unwrap()
    };
    lock.get_mut().push(4);
    assert_eq!(lock.into_inner(), [1, 2, 3, 4]);
}

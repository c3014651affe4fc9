//! A first end-to-end check of both schedulers.

use weft_executor::Runtime;

#[test]
fn smoke_multi() {
    let rt = Runtime::builder().worker_threads(2).build().unwrap();
    let n = rt.block_on(async {
        let hs: Vec<_> = (0..1000u64)
            .map(|i| weft_executor::spawn(async move { i }))
            .collect();
        let mut s = 0;
        for h in hs {
            s += h.await.unwrap();
        }
        s
    });
    assert_eq!(n, 499500);
}

#[test]
fn smoke_current() {
    let rt = Runtime::builder().current_thread().build().unwrap();
    let n = rt.block_on(async {
        let hs: Vec<_> = (0..1000u64)
            .map(|i| weft_executor::spawn(async move { i }))
            .collect();
        let mut s = 0;
        for h in hs {
            s += h.await.unwrap();
        }
        s
    });
    assert_eq!(n, 499500);
}

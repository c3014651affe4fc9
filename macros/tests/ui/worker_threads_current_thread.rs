#[weft::main(flavor = "current_thread", worker_threads = 2)]
async fn main() {}

#[weft::test(worker_threads = 4)]
async fn test_defaults_to_current_thread() {}

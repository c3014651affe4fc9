#[weft::main(worker_threads = "4", start_paused = 1, flavor = multi_thread)]
async fn main() {}

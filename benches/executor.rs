//! Placeholder until the executor benchmarks land.

fn main() {}

//! Runs each example with small inputs and checks what it prints, so an
//! example that breaks fails the test suite.

#[path = "../examples/first_steps.rs"]
#[allow(dead_code, unreachable_pub)]
mod first_steps;

#[test]
fn first_steps_prints_its_tour() {
    // The panicking task prints a panic message on stderr; the output we
    // check is what the example writes.
    let mut out = Vec::new();
    first_steps::run(&mut out).unwrap();
    let out = String::from_utf8(out).unwrap();
    let expected = "\
started a runtime with 4 worker threads
1 000 tasks squared their numbers; the squares add up to 333833500
the blocking pool found that 20! has 19 digits
an aborted task reports: task was cancelled
a panicking task reports: task panicked with message \"something went wrong\"
is the runtime still running? yes
the runtime shut down; every task has finished or been cancelled
on one thread, a JoinSet saw tasks finish in this order: quick, medium, slow
";
    assert_eq!(out, expected);
}

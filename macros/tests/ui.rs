//! The macros' compile errors, each compared with its `.stderr` file in
//! `tests/ui/` (regenerate them with `TRYBUILD=overwrite` after a toolchain
//! update, and read the diff).

#[test]
fn compile_errors_point_at_the_mistake() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}

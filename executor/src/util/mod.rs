//! Small helpers with no better home.

pub(crate) mod rand;

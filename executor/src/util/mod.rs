//! Small helpers with no better home.

pub(crate) mod cache_padded;
pub(crate) mod countdown;
pub(crate) mod rand;

//! epmd

//! Unit tests of the core against DESIGN.md §4.

mod basics;
mod model;

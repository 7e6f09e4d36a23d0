//! The 389 Directory Server flavor of scenario files and of `replharness
//! mesh` (docs/389.md): the file types of its topology and steps
//! ([`format`]) and the mesh command ([`mesh`]). Its plan is
//! `plan::r389`, its runner `runner::r389`, both children of the shared
//! modules so the 389 flavor reuses their places, checks and case folders.

pub mod format;
pub mod mesh;

#[cfg(test)]
mod tests;

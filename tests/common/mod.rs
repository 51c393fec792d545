//! What the tests that run `uketsuke` as a process share: the repository, a free loopback
//! port, and a configuration folder made from the shipped files. (Benches include it with
//! `#[path]`.)
#![allow(dead_code)]

use std::path::Path;

pub mod mail;

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A port nobody listens on right now, on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// Copies the shipped customers, understanding rules and policy profiles into `dir`, for a
/// test to add its own main file beside them.
pub fn copy_shipped_config(dir: &Path) {
    std::fs::create_dir_all(dir.join("policies")).expect("mkdir");
    for file in ["customers.toml", "understanding.toml", "policies/three-priority.toml", "policies/four-severity.toml"]
    {
        std::fs::copy(repo().join("config").join(file), dir.join(file)).unwrap_or_else(|e| panic!("copy {file}: {e}"));
    }
}

//! Running the `wantloop` binary from the integration tests.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_wantloop");

/// Starts `serve` on a free port (with `extra` arguments; without keys, on
/// loopback) and returns the child and its base URL, read from the first
/// line it prints.
pub fn serve(data_dir: &Path, extra: &[&str]) -> (Child, String) {
    serve_as(data_dir, &[&["--open"], extra].concat())
}

/// [`serve`] without `--open`.
pub fn serve_as(data_dir: &Path, extra: &[&str]) -> (Child, String) {
    serve_with_env(data_dir, extra, &[])
}

/// [`serve_as`] with these environment variables set.
pub fn serve_with_env(data_dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> (Child, String) {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(extra)
        .env("WANTLOOP_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.split_whitespace().find(|w| w.starts_with("http://")).expect("serve prints its address");
    (child, url.to_string())
}

/// A served node, killed when the test ends, also by a failed assertion
/// (its inherited output would otherwise keep the test's pipe open).
pub struct Node(pub Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

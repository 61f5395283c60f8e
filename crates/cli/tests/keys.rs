//! API keys from the command line, and `serve` guarding them: a key made with
//! `keys create` opens the API, `keys revoke` closes it, `--open` stays on
//! loopback, and a server reachable from elsewhere will not start without
//! an admin key.

mod common;

use std::process::Command;

use common::{BIN, serve_as};
use reqwest::StatusCode;
use serde_json::Value;

fn wantloop(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN).args(args).arg("--data-dir").arg(dir).env("WANTLOOP_LOG", "warn").output().unwrap()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn keys_made_listed_and_revoked_open_and_close_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let out =
        wantloop(dir.path(), &["keys", "create", "--role", "user", "--party", "alice", "--name", "alice's phone"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(token.starts_with("wlk_1_") && token.len() == 6 + 64, "{token}");
    assert!(stderr(&out).contains("shown once"));

    let (mut child, base) = serve_as(dir.path(), &[]);
    let http = reqwest::Client::new();
    let me = http.get(format!("{base}/v1/me")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let me: Value = me.json().await.unwrap();
    assert_eq!((me["role"].as_str(), me["party"].as_str()), (Some("user"), Some("alice")));
    let anonymous = http.get(format!("{base}/v1/stats")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.headers()["content-type"], "application/problem+json");

    let listed = wantloop(dir.path(), &["keys", "list", "--json"]);
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed[0]["name"], "alice's phone");
    assert!(!listed.to_string().contains(&token[6..]), "the secret is never listed");

    let out = wantloop(dir.path(), &["keys", "revoke", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Another process revoked it: the server refuses it within its 5 s memory.
    let mut refused = false;
    for _ in 0..80 {
        let r = http.get(format!("{base}/v1/me")).bearer_auth(&token).send().await.unwrap();
        if r.status() == StatusCode::UNAUTHORIZED {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(refused, "a revoked key still works after 8 s");
}

#[test]
fn bad_key_requests_fail_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    for (args, says) in [
        (&["keys", "create", "--role", "root"][..], "role"),
        (&["keys", "create", "--role", "user"][..], "party"),
        (&["keys", "create", "--role", "admin", "--party", "x"][..], "party"),
        (&["keys", "revoke", "99"][..], "not found"),
    ] {
        let out = wantloop(dir.path(), args);
        assert!(!out.status.success(), "{args:?}");
        let err = stderr(&out);
        assert!(err.contains(says) && err.trim().lines().count() == 1, "{args:?}: {err}");
    }
}

#[test]
fn serve_stays_on_loopback_without_keys() {
    let dir = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        Command::new(BIN)
            .args(["serve", "--data-dir"])
            .arg(dir.path())
            .args(extra)
            .env("WANTLOOP_LOG", "warn")
            .output()
            .unwrap()
    };
    let out = run(&["--listen", "0.0.0.0:0", "--open"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("loopback"), "{}", stderr(&out));
    let out = Command::new(BIN)
        .args(["serve", "--listen", "0.0.0.0:0", "--data-dir"])
        .arg(dir.path())
        .env("WANTLOOP_OPEN", "true")
        .env("WANTLOOP_LOG", "warn")
        .output()
        .unwrap();
    assert!(!out.status.success() && stderr(&out).contains("loopback"), "WANTLOOP_OPEN: {}", stderr(&out));
    let out = run(&["--listen", "0.0.0.0:0"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no admin key"), "{}", stderr(&out));
}

#[test]
fn an_open_server_says_so_first() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--open", "--data-dir"])
        .arg(dir.path())
        .env("WANTLOOP_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.contains("WITHOUT API KEYS"), "{line}");
}

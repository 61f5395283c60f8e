//! Images over HTTP: uploads as raw bodies, what is refused (and that it
//! stores nothing), the bytes and thumbnails served, deletion, search by
//! image with filters, and similar offers by image. SQLite and, when
//! configured, PostgreSQL.

use std::io::Cursor;

use image::{ImageFormat, Rgb, RgbImage};
use reqwest::StatusCode;
use serde_json::{Value, json};
use wantloop_store::testing::TestDb;

mod common;

use common::{App, boot};

fn png(colour: [u8; 3], round: bool, side: u32) -> Vec<u8> {
    let c = side as f32 / 2.0;
    let image = RgbImage::from_fn(side, side, |x, y| {
        let (dx, dy) = (x as f32 - c, y as f32 - c);
        let inside = if round { dx * dx + dy * dy < c * c * 0.5 } else { dx.abs() < c * 0.6 && dy.abs() < c * 0.4 };
        if inside { Rgb(colour) } else { Rgb([10, 10, 12]) }
    });
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

async fn send(app: &App, path: &str, content_type: &str, body: Vec<u8>) -> (StatusCode, Value, Option<String>) {
    let r = app.http.post(app.url(path)).header("content-type", content_type).body(body).send().await.unwrap();
    let status = r.status();
    let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).map(String::from);
    (status, r.json().await.unwrap_or(Value::Null), ct)
}

async fn offer(app: &App, category: &str, price: i64) -> i64 {
    let (s, o) = app
        .post("/v1/offers", json!({"provider": "bob", "text": "an item", "category": category, "price": price}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    o["id"].as_i64().unwrap()
}

macro_rules! both {
    ($($name:ident),*) => {
        mod sqlite { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let db = super::TestDb::sqlite().await.unwrap();
                super::$name(&db).await;
                db.cleanup().await;
            }
        )* }
        mod postgres { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(db) = super::TestDb::postgres().await.unwrap() else { return };
                super::$name(&db).await;
                db.cleanup().await;
            }
        )* }
    };
}

both!(upload_serve_search_and_delete, bad_images_are_problems_that_store_nothing, html_forms_upload_as_multipart);

async fn html_forms_upload_as_multipart(db: &TestDb) {
    let app = boot(db).await;
    let id = offer(&app, "bicycles", 100).await;
    let path = app.url(&format!("/v1/offers/{id}/images"));
    let image = png([30, 200, 60], false, 48);
    let part = reqwest::multipart::Part::bytes(image.clone()).file_name("photo.png").mime_str("image/png").unwrap();
    let form = reqwest::multipart::Form::new().text("note", "ignored").part("image", part);
    let r = app.http.post(&path).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = app.http.get(app.url(&format!("/v1/offers/{id}/images/1"))).send().await.unwrap();
    assert_eq!(r.bytes().await.unwrap().to_vec(), image, "the part's bytes, as sent");
    // A form without an `image` part names the field.
    let form = reqwest::multipart::Form::new().text("photo", "not here");
    let r = app.http.post(&path).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "image", "{problem}");
    let (_, list) = app.get(&format!("/v1/offers/{id}/images")).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1));
}

async fn upload_serve_search_and_delete(db: &TestDb) {
    let app = boot(db).await;
    let colours = [[220, 40, 40], [40, 200, 60], [50, 80, 230], [230, 210, 40]];
    let mut ids = Vec::new();
    for (i, c) in colours.iter().enumerate() {
        let id = offer(&app, if i % 2 == 0 { "bicycles" } else { "furniture" }, 1_000 * (i as i64 + 1)).await;
        let (s, info, _) = send(&app, &format!("/v1/offers/{id}/images"), "image/png", png(*c, true, 120)).await;
        assert_eq!(s, StatusCode::CREATED, "{info}");
        assert_eq!((info["position"].as_i64(), info["width"].as_i64()), (Some(1), Some(120)));
        ids.push(id);
    }
    // The original comes back byte for byte; the thumbnail is a JPEG.
    let r = app.http.get(app.url(&format!("/v1/offers/{}/images/1", ids[0]))).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.bytes().await.unwrap().to_vec(), png(colours[0], true, 120));
    let r = app.http.get(app.url(&format!("/v1/offers/{}/images/1?size=thumb", ids[0]))).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    assert!(r.bytes().await.unwrap().starts_with(&[0xFF, 0xD8]));
    let (s, list) = app.get(&format!("/v1/offers/{}/images", ids[0])).await;
    assert_eq!((s, list.as_array().map(Vec::len)), (StatusCode::OK, Some(1)));

    // Search by image: the same colour first; filters hold.
    let (s, hits, _) = send(&app, "/v1/search/image?k=2", "image/png", png(colours[2], true, 90)).await;
    assert_eq!(s, StatusCode::OK, "{hits}");
    assert_eq!(hits[0]["offer"]["id"].as_i64(), Some(ids[2]), "{hits}");
    let (_, hits, _) =
        send(&app, "/v1/search/image?category=furniture&max_price=3000", "image/png", png(colours[2], true, 90)).await;
    let found: Vec<i64> = hits.as_array().unwrap().iter().map(|h| h["offer"]["id"].as_i64().unwrap()).collect();
    assert_eq!(found, vec![ids[1]], "only furniture at most 3000: {hits}");

    // Similar by image: never itself, source image.
    let (s, similar) = app.get(&format!("/v1/offers/{}/similar?by=image&k=3", ids[0])).await;
    assert_eq!(s, StatusCode::OK, "{similar}");
    let similar = similar.as_array().unwrap();
    assert_eq!(similar.len(), 3);
    assert!(similar.iter().all(|h| h["offer"]["id"].as_i64() != Some(ids[0]) && h["source"] == "image"));

    // Deleted: gone from the offer and from search.
    let r = app.http.delete(app.url(&format!("/v1/offers/{}/images/1", ids[2]))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (_, hits, _) = send(&app, "/v1/search/image?k=4", "image/png", png(colours[2], true, 90)).await;
    assert!(hits.as_array().unwrap().iter().all(|h| h["offer"]["id"].as_i64() != Some(ids[2])), "{hits}");
    let (s, _) = app.get(&format!("/v1/offers/{}/images/1", ids[2])).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

async fn bad_images_are_problems_that_store_nothing(db: &TestDb) {
    let app = boot(db).await;
    let id = offer(&app, "bicycles", 100).await;
    let path = format!("/v1/offers/{id}/images");
    let good = png([200, 30, 30], true, 64);
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        ("image/png", good[..good.len() / 2].to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "image"),
        ("image/png", b"GIF89a, not a png".to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "image"),
        ("text/plain", good.clone(), StatusCode::BAD_REQUEST, "Content-Type"),
        ("image/png", Vec::new(), StatusCode::BAD_REQUEST, "image"),
    ];
    for (ct, body, status, field) in cases {
        let (s, problem, content_type) = send(&app, &path, ct, body).await;
        assert_eq!(s, status, "{ct}: {problem}");
        assert_eq!(content_type.as_deref(), Some("application/problem+json"));
        if !field.is_empty() {
            assert_eq!(problem["errors"][0]["field"], field, "{problem}");
        }
    }
    // Over 10 MB: refused from its Content-Length, before the body is read.
    let answer = oversized(&app, &path).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    // A decompression bomb's header: refused before decoding.
    let mut bomb = png([1, 2, 3], true, 8);
    bomb[16..20].copy_from_slice(&50_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&50_000u32.to_be_bytes());
    let (s, problem, _) = send(&app, &path, "image/png", bomb).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    // Nothing stored by any of them; an unknown offer is a 404.
    let (_, list) = app.get(&path).await;
    assert_eq!(list, json!([]));
    let (s, _, _) = send(&app, "/v1/offers/99999/images", "image/png", good.clone()).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // The ninth image is refused (8 per offer).
    for _ in 0..8 {
        assert_eq!(send(&app, &path, "image/png", good.clone()).await.0, StatusCode::CREATED);
    }
    let (s, problem, _) = send(&app, &path, "image/png", good).await;
    assert_eq!(s, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "image");
    // Bad search queries name their field.
    let (s, problem, _) = send(&app, "/v1/search/image?k=0", "image/png", png([1, 1, 1], true, 16)).await;
    assert_eq!((s, problem["errors"][0]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("k")));
    let (s, problem, _) = send(&app, "/v1/search/image?lat=1", "image/png", png([1, 1, 1], true, 16)).await;
    assert_eq!((s, problem["errors"][0]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("km")));
}

/// Sends the head of an 11 MB upload and a few bytes of it, and reads the answer.
async fn oversized(app: &App, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head =
        format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: {}\r\n\r\n", 11 << 20);
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(&[0u8; 1024]).await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            let n = tcp.read(&mut buf).await.unwrap_or(0);
            answer.extend_from_slice(&buf[..n]);
            if n == 0 || String::from_utf8_lossy(&answer).contains("/problems/") {
                break;
            }
        }
    });
    read.await.expect("an answer within 10 s");
    String::from_utf8_lossy(&answer).into_owned()
}

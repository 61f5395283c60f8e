//! Bulk import as people run it: batches with bad rows in the middle (on
//! SQLite and PostgreSQL), and files saved from Chinese spreadsheets in GBK,
//! UTF-8 with a byte-order mark, or UTF-16.

use std::path::Path;
use std::process::{Command, Output};

use wantloop_store::{OfferFilter, SqlStore, Store};

const BIN: &str = env!("CARGO_BIN_EXE_wantloop");

fn import(kind: &str, file: &Path, data: &Path, extra: &[&str]) -> Output {
    Command::new(BIN)
        .args(["import", kind])
        .arg(file)
        .arg("--data-dir")
        .arg(data)
        .args(extra)
        .env("WANTLOOP_LOG", "warn")
        .output()
        .expect("run wantloop")
}

/// 4,500 offers (more than two batches of `--batch-rows 2000`), bad on lines 1,001 and 4,302.
fn offers_csv() -> (String, Vec<String>) {
    let mut csv = String::from("provider,text,category,price,lat,lon,capacity\n");
    let mut good = Vec::new();
    for i in 0..4_500 {
        let line = i + 2;
        match line {
            1_001 => csv.push_str("p,一个没有价格的书桌,furniture,,30.1,120.1,1\n"),
            4_302 => csv.push_str("p,九成新自行车,Bicycles & more,100,30.1,120.1,1\n"),
            _ => {
                let text = format!("九成新自行车 第{i}辆");
                csv.push_str(&format!("p{},{text},bicycles,{},30.{},120.1,{}\n", i % 50, 1_000 + i, i % 90, 1 + i % 3));
                good.push(text);
            }
        }
    }
    (csv, good)
}

/// With `writers` batches written at once (`None`: the backend's default,
/// two on PostgreSQL), every good row is stored once with its event; with
/// one writer, in file order.
async fn bad_rows_in_the_middle_of_batches(database: Option<&str>, writers: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("offers.csv");
    let (csv, good) = offers_csv();
    std::fs::write(&file, csv).unwrap();
    let mut extra = vec!["--batch-rows", "2000"];
    extra.extend(database.map(|url| ["--database-url", url]).into_iter().flatten());
    extra.extend(writers.map(|n| ["--writers", n]).into_iter().flatten());
    let out = import("offers", &file, &data, &extra);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "rejected rows fail the import");
    let rejected: Vec<&str> = stderr.lines().filter(|l| l.starts_with("line ")).collect();
    assert_eq!(rejected.len(), 2, "{stderr}");
    assert!(rejected[0].starts_with("line 1001: ") && rejected[0].contains("price"), "{stderr}");
    assert!(rejected[1].starts_with("line 4302: ") && rejected[1].contains("category"), "{stderr}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("imported 4498 offers"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let url = database.map_or_else(|| format!("sqlite://{}/wantloop.db", data.display()), str::to_string);
    let store = SqlStore::connect(&url).await.unwrap();
    let stored = store.all_offers(&OfferFilter::default()).await.unwrap();
    let mut texts: Vec<String> = stored.iter().map(|o| o.text.clone()).collect();
    if writers == Some("1") || database.is_none() {
        assert_eq!(texts, good, "every good row, in file order, and nothing else");
    } else {
        let mut good = good.clone();
        texts.sort();
        good.sort();
        assert_eq!(texts, good, "every good row once, and nothing else");
    }
    // Each stored row has its outbox event.
    let mut events = 0;
    let mut cursor = 0;
    loop {
        let page = store.events_after(cursor, 1_000).await.unwrap();
        let Some(last) = page.last() else { break };
        cursor = last.id;
        events += page.iter().filter(|e| e.kind == "offer.created").count();
    }
    assert_eq!(events, good.len());
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_row_in_the_middle_of_a_batch_keeps_the_rest_on_sqlite() {
    bad_rows_in_the_middle_of_batches(None, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_row_in_the_middle_of_a_batch_keeps_the_rest_on_postgres() {
    let Some(db) = wantloop_store::testing::TestDb::postgres().await.unwrap() else { return };
    bad_rows_in_the_middle_of_batches(Some(&db.url), Some("1")).await;
    db.cleanup().await;
    let Some(db) = wantloop_store::testing::TestDb::postgres().await.unwrap() else { return };
    bad_rows_in_the_middle_of_batches(Some(&db.url), None).await;
    db.cleanup().await;
}

const SHEET: &str = "requester,text,category\n张三,想买一辆二手自行车，预算三百元左右，最好是山地车,bicycles\n\
                     李四,求购九成新的婴儿床和床垫，杭州市内可以自提,baby\n";

async fn imported_texts(data: &Path) -> Vec<String> {
    let store = SqlStore::connect(&format!("sqlite://{}/wantloop.db", data.display())).await.unwrap();
    let demands = store.all_demands(&Default::default()).await.unwrap();
    store.close().await;
    demands.into_iter().map(|d| d.text).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_from_chinese_spreadsheets_are_read_in_their_encoding() {
    let want = ["想买一辆二手自行车，预算三百元左右，最好是山地车", "求购九成新的婴儿床和床垫，杭州市内可以自提"];
    let (gbk, _, _) = encoding_rs::GBK.encode(SHEET);
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(SHEET.as_bytes());
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(SHEET.encode_utf16().flat_map(u16::to_le_bytes));
    for (name, bytes, extra, how) in [
        ("gbk", gbk.to_vec(), vec![], "detected"),
        ("gbk-named", gbk.to_vec(), vec!["--encoding", "gb18030"], "as named"),
        ("bom", bom, vec![], "byte-order mark"),
        ("utf16", utf16, vec![], "byte-order mark"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(format!("{name}.csv"));
        std::fs::write(&file, bytes).unwrap();
        let out = import("demands", &file, &dir.path().join("data"), &extra);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(stdout.contains("imported 2 demands") && stdout.contains(how), "{name}: {stdout}");
        assert_eq!(imported_texts(&dir.path().join("data")).await, want, "{name}");
    }
    // Read with the wrong encoding, the text is refused with a hint, not stored garbled.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gbk.csv");
    std::fs::write(&file, gbk).unwrap();
    let out = import("demands", &file, &dir.path().join("data"), &["--encoding", "utf-8"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("line 2: text: the bytes are not valid") && stderr.contains("--encoding"), "{stderr}");
    assert!(imported_texts(&dir.path().join("data")).await.is_empty());
}

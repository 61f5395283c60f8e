//! `wantloop import`: any bytes as a CSV or JSONL file of demands or offers
//! (the first byte picks which) are parsed into rows and every readable row is
//! validated, as the import does. Bad rows are reasons, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wantloop_cli::records::{DemandRecord, Format, OfferRecord, parse_rows};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, file)) = data.split_first() else { return };
    let format = if pick & 1 == 0 { Format::Csv } else { Format::Jsonl };
    if pick & 2 == 0 {
        if let Ok(rows) = parse_rows::<DemandRecord>(file, format) {
            for (_, row) in rows {
                if let Ok(Ok(input)) = row.map(|r| r.to_input()) {
                    let _ = input.parse();
                }
            }
        }
    } else if let Ok(rows) = parse_rows::<OfferRecord>(file, format) {
        for (_, row) in rows {
            if let Ok(Ok(input)) = row.map(|r| r.to_input()) {
                let _ = input.parse();
            }
        }
    }
});

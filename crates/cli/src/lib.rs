//! The parts of the command line that read files people write: import and
//! export records and `wantloop.toml`. A library so the fuzz targets in
//! `fuzz/` exercise exactly what the binary runs.

pub mod config_file;
pub mod encoding;
pub mod records;

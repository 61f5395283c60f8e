pub mod allocate;
pub mod demo;
pub mod eval;
pub mod export;
pub mod import;
pub mod models;
pub mod serve;
pub mod train;

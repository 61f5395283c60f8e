pub mod allocate;
pub mod demo;
pub mod export;
pub mod import;
pub mod serve;

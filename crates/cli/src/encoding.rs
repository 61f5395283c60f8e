//! The character encoding of a file people saved: UTF-8 with or without a
//! byte-order mark, UTF-16 with one, or a legacy encoding — Excel on a Chinese
//! system saves CSV as GBK — named with `--encoding` or detected from the
//! file's first bytes (`chardetng`, the detector Firefox uses). Everything is
//! decoded to UTF-8 while it streams (`encoding_rs_io`), never read whole.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use anyhow::Context;
use encoding_rs::Encoding;
use encoding_rs_io::DecodeReaderBytesBuilder;

/// How much of a file the detector reads.
const SNIFF_BYTES: usize = 64 * 1024;

/// How a file's encoding was decided (for the import's report).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decided {
    /// `--encoding` named it.
    Named,
    /// The file starts with a byte-order mark.
    Bom,
    /// The first bytes are valid UTF-8.
    Utf8,
    /// Guessed by the detector from the first bytes.
    Detected,
}

/// Picks the encoding of a file that starts with `head` (`complete` when
/// `head` is the whole file).
pub fn decide(head: &[u8], complete: bool, label: Option<&str>) -> anyhow::Result<(&'static Encoding, Decided)> {
    if let Some(label) = label {
        let enc = Encoding::for_label(label.trim().as_bytes())
            .with_context(|| format!("unknown encoding {label:?} (try utf-8, gbk, gb18030, utf-16le, big5)"))?;
        return Ok((enc, Decided::Named));
    }
    if let Some((enc, _)) = Encoding::for_bom(head) {
        return Ok((enc, Decided::Bom));
    }
    match std::str::from_utf8(head) {
        Ok(_) => return Ok((encoding_rs::UTF_8, Decided::Utf8)),
        // Cut in the middle of a character at the end of the sample: still UTF-8.
        Err(e) if e.error_len().is_none() && !complete => return Ok((encoding_rs::UTF_8, Decided::Utf8)),
        Err(_) => {}
    }
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(head, complete);
    Ok((detector.guess(Some(b"cn"), true), Decided::Detected))
}

/// A file opened for reading as UTF-8, and the encoding it was read with.
pub struct Decoded {
    pub reader: Box<dyn Read + Send>,
    pub encoding: &'static Encoding,
    pub decided: Decided,
}

impl Decoded {
    /// "GBK (detected)", for the import's report.
    pub fn describe(&self) -> String {
        let how = match self.decided {
            Decided::Named => "as named",
            Decided::Bom => "byte-order mark",
            Decided::Utf8 => "valid UTF-8",
            Decided::Detected => "detected",
        };
        format!("{} ({how})", self.encoding.name())
    }
}

/// Opens `path`, decides its encoding and wraps it in a decoder to UTF-8
/// (a byte-order mark is dropped). `wrap` lets the caller count the raw bytes
/// read (a progress bar).
pub fn open(
    path: &Path,
    label: Option<&str>,
    wrap: impl FnOnce(File) -> Box<dyn Read + Send>,
) -> anyhow::Result<Decoded> {
    let mut file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    (&mut file)
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut head)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let complete = head.len() < SNIFF_BYTES;
    let (encoding, decided) = decide(&head, complete, label)?;
    file.seek(SeekFrom::Start(0)).with_context(|| format!("cannot read {}", path.display()))?;
    let reader = DecodeReaderBytesBuilder::new().encoding(Some(encoding)).bom_override(true).build(wrap(file));
    Ok(Decoded { reader: Box::new(reader), encoding, decided })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_with_and_without_bom_and_utf16_are_recognised() {
        assert_eq!(decide("需求,自行车".as_bytes(), true, None).unwrap(), (encoding_rs::UTF_8, Decided::Utf8));
        assert_eq!(decide(b"\xEF\xBB\xBFa,b", true, None).unwrap(), (encoding_rs::UTF_8, Decided::Bom));
        // encoding_rs never encodes to UTF-16, so the file is built by hand.
        let le: Vec<u8> = "requester,text\n张三,二手自行车\n".encode_utf16().flat_map(u16::to_le_bytes).collect();
        let mut file = vec![0xFF, 0xFE];
        file.extend_from_slice(&le);
        assert_eq!(decide(&file, true, None).unwrap(), (encoding_rs::UTF_16LE, Decided::Bom));
        // A sample cut inside a character is still UTF-8.
        let s = "自行车".as_bytes();
        assert_eq!(decide(&s[..4], false, None).unwrap().0, encoding_rs::UTF_8);
    }

    #[test]
    fn a_gbk_file_is_detected_and_a_named_encoding_wins() {
        let text = "requester,text,category\n张三,想买一辆二手自行车，预算三百元左右，最好是山地车,bicycles\n\
                    李四,求购九成新的婴儿床和床垫，杭州市内可以自提,baby\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        let (enc, how) = decide(&gbk, true, None).unwrap();
        assert!(enc == encoding_rs::GBK || enc == encoding_rs::GB18030, "{}", enc.name());
        assert_eq!(how, Decided::Detected);
        assert_eq!(decide(&gbk, true, Some("gb18030")).unwrap(), (encoding_rs::GB18030, Decided::Named));
        assert!(decide(&gbk, true, Some("klingon")).unwrap_err().to_string().contains("unknown encoding"));
    }
}

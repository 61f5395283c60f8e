//! PyTorch's legacy (pre-1.6, non-zip) `.pth` format, which the published
//! EfficientNet-Lite0 weights use and candle's reader (zip only) does not
//! read. The file is five pickles — magic number, protocol, system info,
//! the state dict, the storage keys — then each storage's raw bytes (an
//! element count, then the elements). candle parses the pickles; this file
//! only walks the layout and copies strided tensors out of their storages.

use std::collections::HashMap;
use std::io::Cursor;

use candle_core::pickle::{Object, Stack};
use candle_core::{DType, Device, Tensor};

/// The magic-number pickle, byte for byte (protocol 2, LONG1 of 10 bytes).
const MAGIC: [u8; 15] = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e];

fn pickle(r: &mut Cursor<&[u8]>) -> Result<Object, String> {
    let mut stack = Stack::empty();
    stack.read_loop(r).map_err(|e| format!("bad pickle at byte {}: {e}", r.position()))?;
    stack.finalize().map_err(|e| e.to_string())
}

/// Every f32 tensor of the state dict, contiguous.
pub fn read(bytes: &[u8]) -> Result<HashMap<String, Tensor>, String> {
    if !bytes.starts_with(&MAGIC) {
        return Err("not a legacy PyTorch file (magic number)".into());
    }
    let mut r = Cursor::new(bytes);
    r.set_position(MAGIC.len() as u64);
    pickle(&mut r)?; // protocol version
    pickle(&mut r)?; // system info
    let Object::Dict(entries) = pickle(&mut r)? else { return Err("the state dict is not a dict".into()) };
    let keys: Vec<String> = match pickle(&mut r)? {
        Object::List(keys) => keys.into_iter().map(String::try_from).collect::<Result<_, _>>(),
        _ => return Err("the storage keys are not a list".into()),
    }
    .map_err(|o| format!("bad storage key {o:?}"))?;
    let mut infos = Vec::new();
    for (name, value) in entries {
        match value.into_tensor_info(name, std::path::Path::new("")) {
            Ok(Some(info)) => infos.push(info),
            // Non-tensor entries (none in this model) are skipped.
            Ok(None) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    let storage_key = |info: &candle_core::pickle::TensorInfo| info.path.trim_start_matches('/').to_string();
    let element_size: HashMap<String, usize> =
        infos.iter().map(|i| (storage_key(i), i.dtype.size_in_bytes())).collect();
    // Storages follow in key order: u64 element count, then the elements.
    let mut storages: HashMap<String, &[u8]> = HashMap::new();
    let mut at = r.position() as usize;
    for key in keys {
        let count = bytes.get(at..at + 8).ok_or("truncated storage header")?;
        let count = u64::from_le_bytes(count.try_into().expect("8 bytes")) as usize;
        at += 8;
        let size = element_size.get(&key).ok_or_else(|| format!("storage {key} belongs to no tensor"))?;
        let len = count.checked_mul(*size).ok_or("storage too large")?;
        let data = bytes.get(at..at + len).ok_or_else(|| format!("storage {key} is truncated"))?;
        storages.insert(key, data);
        at += len;
    }
    let mut out = HashMap::new();
    for info in infos {
        if info.layout.shape().dims().is_empty() {
            continue; // batch-norm counters: int64 scalars, unused
        }
        if info.dtype != DType::F32 {
            return Err(format!("{}: {:?} tensors are not supported", info.name, info.dtype));
        }
        let key = storage_key(&info);
        let storage = storages.get(&key).ok_or_else(|| format!("{}: no storage {key}", info.name))?;
        out.insert(info.name.clone(), gather(storage, &info.layout).map_err(|e| format!("{}: {e}", info.name))?);
    }
    Ok(out)
}

/// Copies a strided view of an f32 storage into a contiguous tensor.
fn gather(storage: &[u8], layout: &candle_core::Layout) -> Result<Tensor, String> {
    let dims = layout.shape().dims().to_vec();
    let stride = layout.stride();
    let offset = layout.start_offset() / 4;
    let len: usize = dims.iter().product();
    let element = |i: usize| -> Option<f32> {
        let b = storage.get(i * 4..i * 4 + 4)?;
        Some(f32::from_le_bytes(b.try_into().ok()?))
    };
    let mut values = Vec::with_capacity(len);
    let mut index = vec![0usize; dims.len()];
    for _ in 0..len {
        let at = offset + index.iter().zip(stride).map(|(i, s)| i * s).sum::<usize>();
        values.push(element(at).ok_or("index outside its storage")?);
        // Next index, last dimension fastest.
        for d in (0..dims.len()).rev() {
            index[d] += 1;
            if index[d] < dims[d] {
                break;
            }
            index[d] = 0;
        }
    }
    Tensor::from_vec(values, dims, &Device::Cpu).map_err(|e| e.to_string())
}

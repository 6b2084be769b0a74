//! The two package hashes a dependency lock file records, computed here from the release's bytes
//! so the tests check what the CLIs wrote instead of trusting it:
//!
//! - `zh:` — the sha256 of the zip archive, in hex (the registry's SHA256SUMS line);
//! - `h1:` — the Go module "dirhash" of the package's contents: for every file, sorted by name,
//!   the line `<sha256 hex>  <name>\n`; the sha256 of all those lines, base64 (standard, padded).
//!   It is the same for a zip and for the directory it unpacks into, which is why it is the
//!   hash every installation method can check.
//!
//! The zip is read with a minimal reader of its central directory (stored and deflated members,
//! which is all `zip` writes), so the `h1:` value comes from the archive a registry serves.

use std::io::Read as _;

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `zh:<sha256 hex>` of a zip archive.
pub fn zh(zip: &[u8]) -> String {
    format!("zh:{}", sha256_hex(zip))
}

/// `h1:` of the files inside a zip archive.
pub fn h1(zip: &[u8]) -> String {
    let mut files = unzip(zip);
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut summary = String::new();
    for (name, data) in &files {
        assert!(!name.contains('\n'), "file name with a newline: {name:?}");
        summary.push_str(&format!("{}  {name}\n", sha256_hex(data)));
    }
    format!(
        "h1:{}",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(summary.as_bytes()))
    )
}

fn u16_at(b: &[u8], at: usize) -> usize {
    u16::from_le_bytes([b[at], b[at + 1]]).into()
}

fn u32_at(b: &[u8], at: usize) -> usize {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize
}

/// Every file (name, contents) in a zip archive; directories are left out.
pub fn unzip(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
    const END: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
    const ENTRY: [u8; 4] = [0x50, 0x4b, 0x01, 0x02];
    let end = (0..zip.len().saturating_sub(21))
        .rev()
        .find(|&i| zip[i..i + 4] == END)
        .expect("no end of central directory: not a zip");
    let count = u16_at(zip, end + 10);
    let mut at = u32_at(zip, end + 16);
    let mut files = Vec::with_capacity(count);
    for _ in 0..count {
        assert_eq!(zip[at..at + 4], ENTRY, "bad central directory entry");
        let method = u16_at(zip, at + 10);
        let compressed = u32_at(zip, at + 20);
        let size = u32_at(zip, at + 24);
        let name_len = u16_at(zip, at + 28);
        let extra_len = u16_at(zip, at + 30);
        let comment_len = u16_at(zip, at + 32);
        let local = u32_at(zip, at + 42);
        let name = String::from_utf8(zip[at + 46..at + 46 + name_len].to_vec()).unwrap();
        at += 46 + name_len + extra_len + comment_len;
        if name.ends_with('/') {
            continue;
        }
        // The local header repeats the name and has its own extra field.
        let start = local + 30 + u16_at(zip, local + 26) + u16_at(zip, local + 28);
        let raw = &zip[start..start + compressed];
        let data = match method {
            0 => raw.to_vec(),
            8 => {
                let mut out = Vec::with_capacity(size);
                flate2::read::DeflateDecoder::new(raw)
                    .read_to_end(&mut out)
                    .unwrap();
                out
            }
            other => panic!("{name}: compression method {other} is not stored or deflate"),
        };
        assert_eq!(data.len(), size, "{name}: size differs from the directory");
        files.push((name, data));
    }
    files
}

#[test]
fn h1_matches_the_go_dirhash_of_a_known_archive() {
    // The expected value is what Go's golang.org/x/mod/sumdb/dirhash.HashZip (Hash1) returns
    // for a zip of one file "hello" holding "hello\n", the function both CLIs use.
    let zip = stored_zip("hello", b"hello\n");
    assert_eq!(unzip(&zip), vec![("hello".to_owned(), b"hello\n".to_vec())]);
    assert_eq!(h1(&zip), "h1:KYAyXd5o3I6ZzfEXbGuEvQtWbCUsA0COhqz9QdRwEPE=");
}

/// A valid one-file zip with the member stored uncompressed and executable: how the tests
/// make an impostor package that unpacks fine but is not the release.
pub fn stored_zip(name: &str, data: &[u8]) -> Vec<u8> {
    let n = name.len() as u16;
    let len = data.len() as u32;
    let crc = crc32(data).to_le_bytes();
    // Version 2.0 needed, made by Unix (3), no flags, stored, DOS time 1980-01-01 00:00.
    let common = |zip: &mut Vec<u8>| {
        zip.extend([0, 0, 0, 0, 0, 0, 0x21, 0]);
        zip.extend(crc);
        zip.extend(len.to_le_bytes());
        zip.extend(len.to_le_bytes());
        zip.extend(n.to_le_bytes());
    };
    let mut zip = vec![0x50, 0x4b, 0x03, 0x04, 20, 0];
    common(&mut zip);
    zip.extend([0, 0]);
    zip.extend(name.as_bytes());
    zip.extend(data);
    let directory = zip.len() as u32;
    zip.extend([0x50, 0x4b, 0x01, 0x02, 20, 3, 20, 0]);
    common(&mut zip);
    // extra and comment lengths, disk, internal attributes; external: mode 0100755 << 16.
    zip.extend([0; 8]);
    zip.extend((0o100755u32 << 16).to_le_bytes());
    zip.extend(0u32.to_le_bytes());
    zip.extend(name.as_bytes());
    let size = zip.len() as u32 - directory;
    zip.extend([0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 1, 0, 1, 0]);
    zip.extend(size.to_le_bytes());
    zip.extend(directory.to_le_bytes());
    zip.extend([0, 0]);
    zip
}

/// CRC-32 (IEEE), bit by bit: only ever run on a few bytes.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xedb8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

#[test]
fn crc32_of_the_standard_check_string() {
    assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
}

//! What the fuzz targets share: feeding a decoder in pieces the input
//! chooses, and a case folder (copied from a test fixture once per process)
//! whose one file the input replaces before each `diagnose`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use bytes::BytesMut;
use tokio_util::codec::Decoder;

/// Splits `data` into (cut points, stream): the first byte, when there is
/// one, seeds where the stream is cut, so the fuzzer explores partial reads.
pub fn cuts(data: &[u8]) -> (Vec<usize>, &[u8]) {
    let Some((&seed, stream)) = data.split_first() else { return (vec![], data) };
    let step = usize::from(seed % 61) + 1;
    let mut at = Vec::new();
    let mut i = step;
    while i < stream.len() {
        at.push(i);
        i += step + (i % 7);
    }
    (at, stream)
}

/// Every message the codec decodes from `stream` fed in the pieces `cuts`
/// gives, up to the first error; asserts a refusal never leaves more
/// reserved than one maximal frame (twice, for `Vec`'s growth) past the input.
pub fn decode_all<D: Decoder>(codec: &mut D, data: &[u8], max: usize) -> Vec<D::Item> {
    let (at, stream) = cuts(data);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut from = 0;
    for end in at.into_iter().chain(std::iter::once(stream.len())) {
        buf.extend_from_slice(&stream[from..end]);
        from = end;
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(m)) => out.push(m),
                Ok(None) => break,
                Err(_) => return out,
            }
        }
        assert!(
            buf.capacity() <= 2 * (stream.len() + max + 16),
            "capacity {} for an input of {} bytes",
            buf.capacity(),
            stream.len()
        );
    }
    out
}

/// Decodes `data` as [`decode_all`] does and checks that each message, sent
/// through `again` (encode, then decode one whole frame), comes back as it was.
pub fn round_trips<D: Decoder>(codec: &mut D, data: &[u8], max: usize, again: impl Fn(&D::Item) -> D::Item)
where
    D::Item: PartialEq + std::fmt::Debug,
{
    for m in decode_all(codec, data, max) {
        assert_eq!(again(&m), m, "a decoded message re-encodes to itself");
    }
}

/// A copy of the fixture case `fixture` (a folder under
/// diagnosis/tests/fixtures) in a temporary folder of this process.
pub fn case_copy(fixture: &str) -> &'static Path {
    static ROOTS: OnceLock<std::sync::Mutex<Vec<(String, &'static Path)>>> = OnceLock::new();
    let roots = ROOTS.get_or_init(Default::default);
    let mut roots = roots.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, p)) = roots.iter().find(|(f, _)| f == fixture) {
        return p;
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../diagnosis/tests/fixtures").join(fixture);
    let dst =
        std::env::temp_dir().join(format!("replharness-fuzz-{}", std::process::id())).join(fixture.replace('/', "_"));
    copy_dir(&src, &dst).unwrap_or_else(|e| panic!("copying the fixture {}: {e}", src.display()));
    let leaked: &'static Path = Box::leak(dst.into_boxed_path());
    roots.push((fixture.to_owned(), leaked));
    leaked
}

fn copy_dir(src: &Path, dst: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dst)?;
    for e in std::fs::read_dir(src)? {
        let e = e?;
        let to: PathBuf = dst.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &to)?;
        } else {
            std::fs::copy(e.path(), to)?;
        }
    }
    Ok(())
}

/// Replaces `rel` in the case with `data` and diagnoses the case: whatever
/// the bytes, a report (never a panic); its JSON and text forms render.
pub fn diagnose_with(root: &Path, rel: &str, data: &[u8]) {
    std::fs::write(root.join(rel), data).expect("write the case file");
    let report = diagnosis::diagnose(root, &diagnosis::Options::default()).expect("a readable case gives a report");
    let json = serde_json::to_string(&report).expect("report JSON");
    let back: diagnosis::Report = serde_json::from_str(&json).expect("report JSON reads back");
    // The JSON leaves out the per-file read counts; the verdicts come back whole.
    assert_eq!(back.verdicts, report.verdicts, "the JSON verdicts read back as they were");
    let _ = diagnosis::report::human(&report);
}

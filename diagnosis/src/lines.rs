//! The streaming line reader every case file goes through. A line is at most
//! [`MAX_LINE`] bytes: the rest of a longer one is skipped while scanning to
//! its newline, never held, so memory does not depend on line length (a
//! 2 GiB line costs what a short one does). Bytes that are not UTF-8 are
//! replaced; cut lines, bad bytes and unreadable files are counted per file
//! in the read statistics, never fatal.

use std::fs::File;
use std::io::{self, BufRead, BufReader};

use crate::case::Case;
use crate::input::ReadStats;

/// The longest line kept (1 MiB); longer ones are cut there and counted in
/// `input.long_lines`.
pub const MAX_LINE: usize = 1 << 20;

/// Calls `f(line_number, line, stats)` for every line of a file, streaming.
/// Returns false when the file is missing or unreadable.
pub fn for_each_line(
    case: &Case,
    rel: &str,
    stats: &mut ReadStats,
    mut f: impl FnMut(u64, &str, &mut ReadStats),
) -> bool {
    let file = match File::open(case.path(rel)) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return false,
        Err(e) => {
            stats.unreadable.insert(rel.to_owned(), e.to_string());
            return false;
        }
    };
    stats.read.entry(rel.to_owned()).or_default();
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut buf = Vec::with_capacity(512);
    let mut n = 0u64;
    loop {
        let cut = match next_line(&mut reader, &mut buf, MAX_LINE) {
            Ok(Some(cut)) => cut,
            Ok(None) => break,
            Err(e) => {
                stats.unreadable.insert(rel.to_owned(), format!("after line {n}: {e}"));
                break;
            }
        };
        n += 1;
        if cut {
            stats.long_line(rel);
        }
        match std::str::from_utf8(&buf) {
            Ok(line) => f(n, line, stats),
            Err(_) => {
                stats.non_utf8(rel);
                f(n, &String::from_utf8_lossy(&buf), stats);
            }
        }
    }
    stats.lines_read(rel, n);
    true
}

/// Reads the next line into `buf`, without its `\n` or `\r\n`, keeping at
/// most `max` bytes. `Ok(None)` at the end of the input; `Ok(Some(true))`
/// when the line was longer than `max` and was cut (back to a character
/// boundary, so a cut never makes a line look like bad UTF-8).
pub fn next_line<R: BufRead>(reader: &mut R, buf: &mut Vec<u8>, max: usize) -> io::Result<Option<bool>> {
    buf.clear();
    let mut cut = false;
    let mut any = false;
    loop {
        let chunk = match reader.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            break;
        }
        any = true;
        // (bytes of this line in the chunk, with its newline; without it; found the newline?)
        let (used, content, done) = match memchr::memchr(b'\n', chunk) {
            Some(i) => (i + 1, if i > 0 && chunk[i - 1] == b'\r' { i - 1 } else { i }, true),
            None => (chunk.len(), chunk.len(), false),
        };
        let room = max.saturating_sub(buf.len());
        if content > room {
            cut = true;
        }
        buf.extend_from_slice(&chunk[..content.min(room)]);
        reader.consume(used);
        if done {
            break;
        }
    }
    if !any {
        return Ok(None);
    }
    if cut {
        if let Err(e) = std::str::from_utf8(buf) {
            if e.error_len().is_none() {
                buf.truncate(e.valid_up_to());
            }
        }
    }
    while buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(Some(cut))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn all(input: &[u8], max: usize) -> Vec<(String, bool)> {
        let mut r = io::BufReader::with_capacity(7, input);
        let mut buf = Vec::new();
        let mut out = Vec::new();
        while let Some(cut) = next_line(&mut r, &mut buf, max).expect("in memory") {
            out.push((String::from_utf8_lossy(&buf).into_owned(), cut));
        }
        out
    }

    #[test]
    fn lines_ends_and_the_last_line_without_a_newline() {
        let got = all(b"one\r\ntwo\n\nthree", 100);
        let want = [("one", false), ("two", false), ("", false), ("three", false)];
        assert_eq!(got, want.map(|(s, c)| (s.to_owned(), c)));
        assert!(all(b"", 100).is_empty());
    }

    #[test]
    fn a_long_line_is_cut_and_the_next_one_read_whole() {
        let got = all(b"0123456789abcdef\nnext\n", 10);
        assert_eq!(got, [("0123456789".to_owned(), true), ("next".to_owned(), false)]);
        let got = all(b"0123456789\n0123456789\r\n", 10);
        assert_eq!(got, [("0123456789".to_owned(), false), ("0123456789".to_owned(), false)], "exactly max is whole");
        // Cut inside a two-byte character: back to its start, not a bad byte.
        let got = all("aaaaaaaaaé\n".as_bytes(), 10);
        assert_eq!(got, [("aaaaaaaaa".to_owned(), true)]);
    }

    /// Regression (issue 9, unbounded reads): `read_until` held a whole line,
    /// however long. A 64 MiB line without a newline now costs at most MAX_LINE.
    #[test]
    fn unbounded_reads_memory_does_not_depend_on_line_length() {
        let huge = io::repeat(b'x').take(64 << 20).chain(&b"\nafter\n"[..]);
        let mut r = io::BufReader::with_capacity(1 << 16, huge);
        let mut buf = Vec::new();
        assert_eq!(next_line(&mut r, &mut buf, MAX_LINE).expect("read"), Some(true));
        assert_eq!(buf.len(), MAX_LINE);
        assert!(buf.capacity() <= 2 * MAX_LINE, "the buffer grew to {} bytes", buf.capacity());
        assert_eq!(next_line(&mut r, &mut buf, MAX_LINE).expect("read"), Some(false));
        assert_eq!(buf, b"after");
        assert_eq!(next_line(&mut r, &mut buf, MAX_LINE).expect("read"), None);
    }
}

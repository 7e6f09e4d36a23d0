//! Standard output for every subcommand. A closed pipe
//! (`replharness mesh | head -3`) is not an error: Rust ignores SIGPIPE, so a
//! write to a closed pipe returns `BrokenPipe`, which `println!` turns into a
//! panic. Here it comes back as an error that the binary ends on quietly,
//! with exit 0, as ripgrep does (`unsafe` is forbidden, so the signal's
//! default is not restored instead).

use std::io::{self, Write as _};

/// Writes `text` to standard output and flushes it.
pub fn print(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// [`print`] with a newline.
pub fn line(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Is this a write to a closed pipe (anywhere in the error's chain)?
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<io::Error>().is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe))
}

/// Standard output that may be closed on us while work goes on: once the
/// reader is gone, later lines are dropped (when the work still has files
/// to write) or the closure is reported (when output was all there was).
#[derive(Debug)]
pub struct Progress {
    closed: bool,
    keep_going: bool,
}

impl Progress {
    /// `keep_going`: a closed pipe does not stop the work.
    pub fn new(keep_going: bool) -> Self {
        Self { closed: false, keep_going }
    }

    /// Prints `text` unless the pipe closed; `Err` when it closed and the
    /// work should stop.
    pub fn print(&mut self, text: &str) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        match print(text) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe && self.keep_going => {
                self.closed = true;
                Ok(())
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_pipes_are_found_in_the_chain() {
        let e = anyhow::Error::new(io::Error::from(io::ErrorKind::BrokenPipe)).context("printing the table");
        assert!(is_broken_pipe(&e));
        assert!(!is_broken_pipe(&anyhow::anyhow!("broken pipe, said in words")));
        assert!(!is_broken_pipe(&anyhow::Error::new(io::Error::from(io::ErrorKind::NotFound))));
    }
}

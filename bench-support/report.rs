//! Shared by the benchmarks of every crate (included by path, so the crates
//! stay free of each other): each benchmark owns one section of BENCHMARKS.md.

/// Replaces the `name` section of BENCHMARKS.md (between its markers), or appends it.
pub fn write_section(name: &str, body: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../BENCHMARKS.md");
    let old = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        "# Benchmarks\n\nEach section is written by its benchmark; numbers are ratios against a baseline measured in the same run.\n".into()
    });
    let (start, end) = (format!("<!-- {name}:start -->"), format!("<!-- {name}:end -->"));
    let block = format!("{start}\n{body}{end}");
    let new = match (old.find(&start), old.find(&end)) {
        (Some(a), Some(b)) if b > a => format!("{}{}{}", &old[..a], block, &old[b + end.len()..]),
        _ => format!("{}\n\n{}\n", old.trim_end(), block),
    };
    std::fs::write(&path, new).expect("write BENCHMARKS.md");
}

/// Today's date (UTC), as the report prints it.
pub fn today() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

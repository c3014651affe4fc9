//! The file system as the checks see it: reading, one name per file, and
//! the walks that find chapters, tests and anchored sources.

use std::fs;
use std::path::{Component, Path, PathBuf};

pub(crate) fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_default()
}

/// Lexically resolves `.` and `..`, so one file has one name.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

fn walk(dir: &Path, keep: &dyn Fn(&Path) -> bool, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap_or_default();
        if name == "target" || name.to_string_lossy().starts_with('.') && path.is_dir() {
            continue;
        }
        if path.is_dir() {
            walk(&path, keep, out);
        } else if keep(&path) {
            out.push(path);
        }
    }
}

pub(crate) fn markdown_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(dir, &|p| p.extension().is_some_and(|e| e == "md"), &mut out);
    out
}

pub(crate) fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(dir, &|p| p.extension().is_some_and(|e| e == "rs"), &mut out);
    out
}

/// Text files that may carry anchors: Rust, TOML, text and shell scripts.
pub(crate) fn source_files(dir: &Path) -> Vec<PathBuf> {
    if dir.is_file() {
        return vec![dir.to_path_buf()];
    }
    let mut out = Vec::new();
    walk(
        dir,
        &|p| match p.extension().and_then(|e| e.to_str()) {
            Some(ext) => matches!(ext, "rs" | "toml" | "txt" | "sh"),
            // Scripts such as .ci/run have no extension.
            None => true,
        },
        &mut out,
    );
    out
}

//! From command-line paths to an ordered list of sources.
//!
//! Logs are read oldest first so that sessions spanning a rotation correlate and year
//! inference sees time move forward: `mail.log.3.gz`, `mail.log.2.gz`, `mail.log.1`,
//! `mail.log`; dated rotations (`maillog-20261127.gz`) sort by date before the live file.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::SourceFile;

/// A path that could not be turned into sources. The message names the path.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error("{path}: {}", crate::model::text::plain_error(.source))]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path}: directory holds no files to read")]
    EmptyDir { path: PathBuf },
    #[error("{path}: not a regular file or directory")]
    NotAFile { path: PathBuf },
}

/// Extensions of files that sit beside logs but are never logs (our own reports and
/// documentation); a directory scan skips them instead of reporting them as unreadable.
const NOT_LOGS: &[&str] = &[
    "md", "html", "htm", "svg", "png", "json", "csv", "toml", "pem", "crt", "key",
];

/// Expands `paths` into sources: `-` is stdin, a directory contributes every regular,
/// non-hidden file below it (recursively). Paths that fail are reported and skipped so the
/// rest is still read.
pub fn discover(paths: &[PathBuf]) -> (Vec<SourceFile>, Vec<DiscoverError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let mut stdin = false;
    for p in paths {
        if p.as_os_str() == "-" {
            stdin = true;
            continue;
        }
        match fs::metadata(p) {
            Err(source) => errors.push(DiscoverError::Io {
                path: p.clone(),
                source,
            }),
            Ok(m) if m.is_dir() => {
                let before = files.len();
                walk(p, &mut files, &mut errors);
                if files.len() == before {
                    errors.push(DiscoverError::EmptyDir { path: p.clone() });
                }
            }
            Ok(m) if m.is_file() => files.push(source_for(p, &m, false)),
            Ok(_) => errors.push(DiscoverError::NotAFile { path: p.clone() }),
        }
    }
    files.sort_by_cached_key(|f| f.path.as_deref().map(rotation_key));
    // A file both named and found by a walk is read once, as named (never sniffed away).
    files.dedup_by(|a, b| {
        let same = a.path == b.path;
        if same {
            b.walked &= a.walked;
        }
        same
    });
    let mut out: Vec<SourceFile> = largest_set_first(files);
    if stdin {
        out.push(SourceFile::stdin());
    }
    (out, errors)
}

/// Reorders whole rotated sets (kept oldest first inside) by their size, largest first.
///
/// Copies of one log under several names (Debian's `syslog`, `mail.log`, `mail.info`,
/// `mail.warn`, `mail.err`) are counted once, the later copy skipped as a duplicate: the
/// copy read first must be the most complete one, so that every session is correlated from
/// one file in log order and never from the error lines of `mail.err` alone.
fn largest_set_first(files: Vec<SourceFile>) -> Vec<SourceFile> {
    let mut sets: Vec<(u64, Vec<SourceFile>)> = Vec::new();
    let mut last: Option<(PathBuf, String)> = None;
    for f in files {
        let key = f.path.as_deref().map(|p| {
            let (dir, base, _) = rotation_key(p);
            (dir, base)
        });
        let size = f
            .path
            .as_deref()
            .and_then(|p| fs::metadata(p).ok())
            .map_or(0, |m| m.len());
        match sets.last_mut() {
            Some((total, set)) if key.is_some() && key == last => {
                *total += size;
                set.push(f);
            }
            _ => sets.push((size, vec![f])),
        }
        last = key;
    }
    // Only within one directory: logs of other folders (other hosts) keep their order.
    sets.sort_by(|a, b| {
        let dir = |s: &[SourceFile]| {
            s.first()
                .and_then(|f| f.path.as_deref())
                .and_then(Path::parent)
                .map(Path::to_path_buf)
        };
        dir(&a.1).cmp(&dir(&b.1)).then(b.0.cmp(&a.0))
    });
    sets.into_iter().flat_map(|(_, set)| set).collect()
}

fn source_for(p: &Path, m: &fs::Metadata, walked: bool) -> SourceFile {
    SourceFile {
        path: Some(p.to_path_buf()),
        display: Arc::from(p.display().to_string()),
        mtime: m.modified().ok(),
        walked,
    }
}

fn walk(dir: &Path, files: &mut Vec<SourceFile>, errors: &mut Vec<DiscoverError>) {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(source) => {
            errors.push(DiscoverError::Io {
                path: dir.to_path_buf(),
                source,
            });
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') {
            continue;
        }
        match fs::metadata(&p) {
            Ok(m) if m.is_dir() => walk(&p, files, errors),
            Ok(m) if m.is_file() => {
                let ext = p
                    .extension()
                    .and_then(|e| e.to_str())
                    .map(str::to_ascii_lowercase);
                if ext.as_deref().is_some_and(|e| NOT_LOGS.contains(&e)) {
                    continue;
                }
                files.push(source_for(&p, &m, true));
            }
            Ok(_) => {}
            Err(source) => errors.push(DiscoverError::Io { path: p, source }),
        }
    }
}

/// Sort key putting rotated files of one log oldest first and the live file last:
/// `(directory, base name, rank)`. A numeric suffix `.N` ranks older the larger N is; a
/// dated suffix (`-20261127`, `.20261127`) ranks by date; the live file ranks last.
pub fn rotation_key(p: &Path) -> (PathBuf, String, (u8, i64)) {
    let dir = p.parent().map(Path::to_path_buf).unwrap_or_default();
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.strip_suffix(".gz").unwrap_or(&name);
    // mail.log.3 → base "mail.log", N = 3
    if let Some((base, n)) = stem.rsplit_once('.')
        && !n.is_empty()
        && n.len() < 6
        && n.bytes().all(|b| b.is_ascii_digit())
    {
        let n: i64 = n.parse().unwrap_or(0);
        return (dir, base.to_owned(), (0, -n));
    }
    // maillog-20261127 or mail.log.20261127
    if let Some(pos) = stem.rfind(['-', '.']) {
        let (base, date) = (&stem[..pos], &stem[pos + 1..]);
        if date.len() >= 8 && date.bytes().all(|b| b.is_ascii_digit()) {
            let d: i64 = date.parse().unwrap_or(0);
            return (dir, base.to_owned(), (0, d));
        }
    }
    (dir, stem.to_owned(), (1, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotated_sets_sort_oldest_first() {
        let mut names = vec![
            "mail.log",
            "mail.log.1",
            "mail.log.10.gz",
            "mail.log.2.gz",
            "maillog-20261127.gz",
            "maillog",
            "maillog-20261120",
        ];
        names.sort_by_cached_key(|n| rotation_key(Path::new(n)));
        assert_eq!(
            names,
            vec![
                "mail.log.10.gz",
                "mail.log.2.gz",
                "mail.log.1",
                "mail.log",
                "maillog-20261120",
                "maillog-20261127.gz",
                "maillog",
            ]
        );
    }

    #[test]
    fn directories_expand_and_errors_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("mail.log"), "x\n").unwrap();
        fs::write(dir.path().join("mail.log.1"), "y\n").unwrap();
        fs::write(dir.path().join("README.md"), "doc\n").unwrap();
        fs::write(dir.path().join(".hidden"), "z\n").unwrap();
        let empty = dir.path().join("empty");
        fs::create_dir(&empty).unwrap();
        let missing = dir.path().join("missing.log");
        let (files, errors) = discover(&[dir.path().to_path_buf(), missing.clone()]);
        let names: Vec<_> = files
            .iter()
            .map(|f| f.path.as_ref().unwrap().file_name().unwrap().to_owned())
            .collect();
        assert_eq!(names, vec!["mail.log.1", "mail.log"]);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].to_string().contains("missing.log"));
        let (_, errors) = discover(std::slice::from_ref(&empty));
        assert!(errors[0].to_string().contains("no files"));
    }
}

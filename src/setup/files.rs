//! Writing keys, certificates and configuration files safely.
//!
//! A private key must never exist, even for a moment, with a mode wider than its final one,
//! and an existing key must not be clobbered by accident: files are written to a temporary
//! name in the same directory with their final mode and group set before the first byte,
//! then linked into place (which fails if the name exists) or renamed over the old file
//! when `--force` or an in-place edit asks for it.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically with `mode` and, when given, group `gid`.
///
/// Without `replace` an existing file is an `AlreadyExists` error and is left untouched.
pub fn write_file(
    path: &Path,
    bytes: &[u8],
    mode: u32,
    gid: Option<u32>,
    replace: bool,
) -> io::Result<()> {
    if !replace && fs::symlink_metadata(path).is_ok() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} exists (use --force to replace it)", path.display()),
        ));
    }
    let tmp = temp_name(path);
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        // The umask may have narrowed the mode; set it exactly before writing.
        f.set_permissions(fs::Permissions::from_mode(mode))?;
        if let Some(g) = gid {
            std::os::unix::fs::fchown(&f, None, Some(g))?;
        }
        f.write_all(bytes)?;
        f.sync_all()?;
        if replace {
            fs::rename(&tmp, path)
        } else {
            fs::hard_link(&tmp, path).and_then(|()| fs::remove_file(&tmp))
        }
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Replaces an existing file's contents atomically, keeping its mode, owner and group.
pub fn replace_keeping_attrs(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let meta = fs::metadata(path)?;
    let tmp = temp_name(path);
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(meta.mode() & 0o7777)
            .open(&tmp)?;
        f.set_permissions(fs::Permissions::from_mode(meta.mode() & 0o7777))?;
        // Best effort: only root may give a file away.
        let _ = std::os::unix::fs::fchown(&f, Some(meta.uid()), Some(meta.gid()));
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// `cp -p FILE FILE.BACKUP`: a copy with the same mode, times and (when permitted) owner.
/// An existing backup is never overwritten: the next free `FILE.BACKUP.N` is used, so the
/// first backup (the state before mailtls ever touched the file) survives.
pub fn backup(path: &Path) -> io::Result<PathBuf> {
    let mut target = suffixed(path, ".BACKUP");
    let mut n = 1;
    while fs::symlink_metadata(&target).is_ok() {
        target = suffixed(path, &format!(".BACKUP.{n}"));
        n += 1;
    }
    let meta = fs::metadata(path)?;
    let bytes = fs::read(path)?;
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(meta.mode() & 0o7777)
        .open(&target)?;
    f.set_permissions(fs::Permissions::from_mode(meta.mode() & 0o7777))?;
    let _ = std::os::unix::fs::fchown(&f, Some(meta.uid()), Some(meta.gid()));
    f.write_all(&bytes)?;
    let times = fs::FileTimes::new()
        .set_accessed(meta.accessed()?)
        .set_modified(meta.modified()?);
    f.set_times(times)?;
    f.sync_all()?;
    Ok(target)
}

/// Makes `link` a symbolic link to `target` (a name relative to the link's directory, as
/// in the seed's `ln -s cacert.pem <hash>.0`), replacing an existing link atomically.
pub fn symlink_replace(target: &str, link: &Path) -> io::Result<()> {
    if let Ok(existing) = fs::read_link(link)
        && existing == Path::new(target)
    {
        return Ok(());
    }
    let tmp = temp_name(link);
    std::os::unix::fs::symlink(target, &tmp)?;
    fs::rename(&tmp, link).inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
}

/// Creates a directory (and parents) with `mode` if it does not exist.
pub fn ensure_dir(path: &Path, mode: u32) -> io::Result<()> {
    if path.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(path)?;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

/// A group name or number → gid, from `/etc/group` (numbers are taken as they are).
pub fn group_id(name: &str) -> Option<u32> {
    if let Ok(n) = name.parse::<u32>() {
        return Some(n);
    }
    let text = fs::read_to_string("/etc/group").ok()?;
    text.lines().find_map(|l| {
        let mut parts = l.split(':');
        let n = parts.next()?;
        let _pw = parts.next()?;
        let gid = parts.next()?;
        (n == name).then(|| gid.parse().ok()).flatten()
    })
}

fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn temp_name(path: &Path) -> PathBuf {
    suffixed(path, &format!(".mailtls-tmp.{}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_get_their_mode_and_are_not_clobbered() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("k.pem");
        write_file(&p, b"one", 0o600, None, false).expect("write");
        assert_eq!(fs::metadata(&p).expect("stat").mode() & 0o7777, 0o600);
        let err = write_file(&p, b"two", 0o600, None, false).expect_err("exists");
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&p).expect("read"), b"one");
        write_file(&p, b"two", 0o640, None, true).expect("replace");
        assert_eq!(fs::read(&p).expect("read"), b"two");
        assert_eq!(fs::metadata(&p).expect("stat").mode() & 0o7777, 0o640);
        // No temporary files are left behind.
        assert_eq!(fs::read_dir(dir.path()).expect("ls").count(), 1);
    }

    #[test]
    fn links_and_groups() {
        let dir = tempfile::tempdir().expect("tempdir");
        let l = dir.path().join("abcd1234.0");
        symlink_replace("cacert.pem", &l).expect("ln");
        symlink_replace("cacert.pem", &l).expect("again");
        symlink_replace("other.pem", &l).expect("replace");
        assert_eq!(fs::read_link(&l).expect("readlink"), Path::new("other.pem"));
        assert_eq!(group_id("119"), Some(119));
        assert_eq!(group_id("root"), Some(0));
    }
}

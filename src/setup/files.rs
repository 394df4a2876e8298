//! Writing keys, certificates and configuration files safely.
//!
//! A private key must never exist, even for a moment, with a mode wider than its final one,
//! and an existing key must not be clobbered by accident: files are written to a temporary
//! name in the same directory with their final mode and group set before the first byte,
//! then linked into place (which fails if the name exists) or renamed over the old file
//! when `--force` or an in-place edit asks for it.

use std::fs::{self, File, OpenOptions};
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

/// A gid → group name, from `/etc/group`, for messages.
pub fn group_name(gid: u32) -> String {
    fs::read_to_string("/etc/group")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|l| {
                let mut parts = l.split(':');
                let n = parts.next()?;
                let _pw = parts.next()?;
                let g: u32 = parts.next()?.parse().ok()?;
                (g == gid).then(|| n.to_owned())
            })
        })
        .unwrap_or_else(|| gid.to_string())
}

fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn temp_name(path: &Path) -> PathBuf {
    suffixed(path, &format!(".mailtls-tmp.{}", std::process::id()))
}

/// Reads a whole file, for callers that only want to know it is there and readable.
pub fn read(path: &Path) -> io::Result<Vec<u8>> {
    let mut f = File::open(path)?;
    let mut buf = Vec::new();
    io::Read::read_to_end(&mut f, &mut buf)?;
    Ok(buf)
}

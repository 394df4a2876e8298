//! Writing keys, certificates and configuration files safely.
//!
//! A private key must never exist, even for a moment, with a mode wider than its final one,
//! and an existing key must not be clobbered by accident: files are written to a temporary
//! name in the same directory with their final mode and group set before the first byte,
//! then linked into place (which fails if the name exists) or renamed over the old file
//! when `--force` or an in-place edit asks for it.
//!
//! Nothing here follows a symbolic link planted at a name it writes: temporary files and
//! backups are opened with `O_CREAT|O_EXCL|O_NOFOLLOW` under an unpredictable name, the
//! final name is taken by `link` (fails on any existing name, a link included) or `rename`
//! (replaces the link itself, never its target), and a file edited in place or backed up
//! is opened with `O_NOFOLLOW`, so a link there is refused rather than read or replaced.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically with `mode` and, when given, group `gid`.
///
/// Without `replace` an existing file (or link) is an `AlreadyExists` error and is left
/// untouched. With it, whatever is at `path` is replaced by a regular file: a symbolic link
/// there is replaced itself, its target is never written.
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
    let (mut f, tmp) = create_temp(path, mode)?;
    let result = (|| {
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
/// A symbolic link at `path` is refused (`InvalidInput`): edit the file it points to.
pub fn replace_keeping_attrs(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let meta = open_nofollow(path)?.metadata()?;
    let mode = meta.mode() & 0o7777;
    let (mut f, tmp) = create_temp(path, mode)?;
    let result = (|| {
        // Best effort: only root may give a file away.
        let _ = std::os::unix::fs::fchown(&f, Some(meta.uid()), Some(meta.gid()));
        // fchown may clear set-id bits; the mode is the original's again.
        f.set_permissions(fs::Permissions::from_mode(mode))?;
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
/// first backup (the state before mailtls ever touched the file) survives. A name taken
/// by anything (a planted link included) is skipped, never followed; a symbolic link at
/// `path` itself is refused.
pub fn backup(path: &Path) -> io::Result<PathBuf> {
    let mut src = open_nofollow(path)?;
    let meta = src.metadata()?;
    let mode = meta.mode() & 0o7777;
    let mut bytes = Vec::new();
    src.read_to_end(&mut bytes)?;
    // The copy is complete and on disk under a temporary name before it gets a backup
    // name: a kill leaves either no backup or a whole one, never an empty or cut file
    // under the name the documentation tells users to restore.
    let (mut f, tmp) = create_temp(path, mode)?;
    let result = (|| {
        let _ = std::os::unix::fs::fchown(&f, Some(meta.uid()), Some(meta.gid()));
        f.set_permissions(fs::Permissions::from_mode(mode))?;
        f.write_all(&bytes)?;
        let times = fs::FileTimes::new()
            .set_accessed(meta.accessed()?)
            .set_modified(meta.modified()?);
        f.set_times(times)?;
        f.sync_all()?;
        let mut n = 0u32;
        loop {
            let target = if n == 0 {
                suffixed(path, ".BACKUP")
            } else {
                suffixed(path, &format!(".BACKUP.{n}"))
            };
            // link(2) never replaces: an existing backup (or a planted link) is kept.
            match fs::hard_link(&tmp, &target) {
                Ok(()) => break Ok(target),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 10_000 => n += 1,
                Err(e) => break Err(e),
            }
        }
    })();
    let _ = fs::remove_file(&tmp);
    if let Ok(target) = &result {
        sync_parent(target);
    }
    result
}

/// Fsyncs the directory holding `path`, so that a rename or link into it is on disk.
pub fn sync_parent(path: &Path) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(d) = File::open(dir)
    {
        let _ = d.sync_all();
    }
}

/// An exclusive `flock` held until dropped (closing the descriptor releases it; a killed
/// process releases it too, so a crash never leaves a stale lock).
#[derive(Debug)]
pub struct Lock {
    _file: File,
    /// Whether another process held it first and this one waited.
    pub waited: bool,
}

/// Takes an exclusive lock on `path` (a directory or a regular file, which must exist).
/// When another process holds it, `on_wait` is called once and the call blocks until
/// the lock is free. A regular file replaced by rename while we waited is locked again
/// under its name, so that every run serialises on the file the name points to now.
pub fn lock(path: &Path, on_wait: impl FnOnce()) -> io::Result<Lock> {
    let mut on_wait = Some(on_wait);
    let mut waited = false;
    loop {
        // Following a link is fine here: nothing is read or written through this
        // descriptor (a certificate directory may well be a link), and an edited file
        // that is a link is refused by the edit itself.
        let f = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_CLOEXEC)
            .open(path)?;
        // flock(2): the lock goes with the descriptor, so a killed run never leaves one.
        match f.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                if let Some(tell) = on_wait.take() {
                    tell();
                }
                waited = true;
                f.lock()?;
            }
            Err(fs::TryLockError::Error(e)) => return Err(e),
        }
        let held = f.metadata()?;
        match fs::metadata(path) {
            Ok(now) if now.dev() == held.dev() && now.ino() == held.ino() => {
                return Ok(Lock { _file: f, waited });
            }
            Ok(_) => continue, // replaced while we waited: lock the new file
            Err(e) => return Err(e),
        }
    }
}

/// Removes temporary files a killed run left beside `path` (`PATH.mailtls-tmp.<pid>.…`
/// of a process that no longer runs). Called under the lock, so no live writer of ours
/// owns them.
pub fn remove_stale_temps(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = format!("{}.mailtls-tmp.", name.to_string_lossy());
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let n = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = n.strip_prefix(&prefix) else {
            continue;
        };
        let pid: Option<i32> = rest.split('.').next().and_then(|p| p.parse().ok());
        // Signal 0 only asks whether the process exists.
        let alive = pid
            .and_then(rustix::process::Pid::from_raw)
            .is_some_and(|p| rustix::process::test_kill_process(p).is_ok());
        if !alive || pid == Some(std::process::id() as i32) {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// Makes `link` a symbolic link to `target` (a name relative to the link's directory, as
/// in the seed's `ln -s cacert.pem <hash>.0`), replacing an existing link atomically.
pub fn symlink_replace(target: &str, link: &Path) -> io::Result<()> {
    if let Ok(existing) = fs::read_link(link)
        && existing == Path::new(target)
    {
        return Ok(());
    }
    let tmp = temp_name(link)?;
    std::os::unix::fs::symlink(target, &tmp)?;
    fs::rename(&tmp, link).inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
}

/// Creates a directory (and parents) with `mode` if it does not exist. The new directory
/// has its mode from the start (the umask can only narrow it), and is then set exactly.
pub fn ensure_dir(path: &Path, mode: u32) -> io::Result<()> {
    if path.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(path)?;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

/// Opens an existing file for reading, refusing a symbolic link at its last component.
fn open_nofollow(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "{} is a symbolic link; not following it (edit the file it points to)",
                        path.display()
                    ),
                )
            } else {
                e
            }
        })
}

/// Creates `path` new (`O_CREAT|O_EXCL|O_NOFOLLOW`) with `mode` from the first instant,
/// then sets the mode exactly (the umask may have narrowed it, never widened).
fn create_exclusive(path: &Path, mode: u32) -> io::Result<File> {
    let f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)?;
    f.set_permissions(fs::Permissions::from_mode(mode))?;
    Ok(f)
}

/// A new temporary file beside `path`, under a name nobody can guess in advance.
fn create_temp(path: &Path, mode: u32) -> io::Result<(File, PathBuf)> {
    for _ in 0..16 {
        let tmp = temp_name(path)?;
        match create_exclusive(&tmp, mode) {
            Ok(f) => return Ok((f, tmp)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("no free temporary name beside {}", path.display()),
    ))
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

/// `PATH.mailtls-tmp.<pid>.<16 random hex digits>`.
fn temp_name(path: &Path) -> io::Result<PathBuf> {
    let mut random = [0u8; 8];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut random)
        .map_err(|_| io::Error::other("no randomness for a temporary name"))?;
    Ok(suffixed(
        path,
        &format!(
            ".mailtls-tmp.{}.{:016x}",
            std::process::id(),
            u64::from_be_bytes(random)
        ),
    ))
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
    fn a_linked_directory_can_be_locked_and_stale_temps_go() {
        let dir = tempfile::tempdir().expect("tempdir");
        let real = dir.path().join("certs.real");
        fs::create_dir(&real).expect("mkdir");
        let link = dir.path().join("certs");
        std::os::unix::fs::symlink(&real, &link).expect("ln");
        let l = lock(&link, || panic!("nobody holds it")).expect("lock");
        assert!(!l.waited);
        drop(l);
        // A temporary file of a process that is gone is removed; ours is too.
        let cf = dir.path().join("main.cf");
        fs::write(&cf, "x").expect("write");
        let dead = suffixed(&cf, ".mailtls-tmp.999999999.0123456789abcdef");
        fs::write(&dead, "half").expect("write");
        remove_stale_temps(&cf);
        assert!(!dead.exists());
        assert!(cf.exists());
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

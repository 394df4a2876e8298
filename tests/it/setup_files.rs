//! `config` writing files where someone else may have planted a symbolic link, and keys
//! that must never be readable by others, not even for an instant.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use assert_cmd::cargo::CommandCargoExt;
use mailtls::setup::files;

fn mode(p: &Path) -> u32 {
    fs::symlink_metadata(p).unwrap().mode() & 0o7777
}

/// A "victim" file a planted link points to, with known contents.
fn victim(dir: &Path) -> std::path::PathBuf {
    let v = dir.join("victim");
    fs::write(&v, "precious\n").unwrap();
    fs::set_permissions(&v, fs::Permissions::from_mode(0o644)).unwrap();
    v
}

#[test]
fn a_link_planted_at_a_new_key_name_is_refused_and_its_target_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let v = victim(dir.path());
    let key = dir.path().join("mx-key.pem");
    symlink(&v, &key).unwrap();
    let err = files::write_file(&key, b"SECRET", 0o600, None, false).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
    assert_eq!(fs::read_to_string(&v).unwrap(), "precious\n");
    assert!(fs::symlink_metadata(&key).unwrap().file_type().is_symlink());
    // A dangling link (to where an attacker wants the key to land) likewise.
    let key2 = dir.path().join("other-key.pem");
    let landing = dir.path().join("landing");
    symlink(&landing, &key2).unwrap();
    assert!(files::write_file(&key2, b"SECRET", 0o600, None, false).is_err());
    assert!(!landing.exists());
}

#[test]
fn force_replaces_a_planted_link_itself_never_its_target() {
    let dir = tempfile::tempdir().unwrap();
    let v = victim(dir.path());
    let key = dir.path().join("mx-key.pem");
    symlink(&v, &key).unwrap();
    files::write_file(&key, b"SECRET", 0o600, None, true).unwrap();
    assert_eq!(fs::read_to_string(&v).unwrap(), "precious\n");
    assert_eq!(mode(&v), 0o644);
    let meta = fs::symlink_metadata(&key).unwrap();
    assert!(meta.file_type().is_file());
    assert_eq!(meta.mode() & 0o7777, 0o600);
    assert_eq!(fs::read(&key).unwrap(), b"SECRET");
    // Only the key and the victim: no temporary file left behind.
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
}

#[test]
fn an_edited_config_that_is_a_link_is_refused_and_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    let v = victim(dir.path());
    let cf = dir.path().join("sendmail.cf");
    symlink(&v, &cf).unwrap();
    let err = files::replace_keeping_attrs(&cf, b"O CACertPath=/x\n").unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{err}");
    assert!(err.to_string().contains("symbolic link"), "{err}");
    let err = files::backup(&cf).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{err}");
    assert_eq!(fs::read_to_string(&v).unwrap(), "precious\n");
    assert!(fs::symlink_metadata(&cf).unwrap().file_type().is_symlink());
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
}

#[test]
fn backups_keep_the_original_mode_and_times_and_skip_planted_names() {
    let dir = tempfile::tempdir().unwrap();
    let v = victim(dir.path());
    // (original mode, contents)
    for (i, m) in [0o640u32, 0o600, 0o644, 0o400].into_iter().enumerate() {
        let cf = dir.path().join(format!("main{i}.cf"));
        fs::write(&cf, format!("myhostname = mx{i}.example\n")).unwrap();
        fs::set_permissions(&cf, fs::Permissions::from_mode(m)).unwrap();
        let old = fs::FileTimes::new().set_modified(
            std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000),
        );
        fs::File::options()
            .write(true)
            .open(&cf)
            .map(|f| f.set_times(old))
            .ok();
        // Someone planted a link at the first backup name.
        let planted = dir.path().join(format!("main{i}.cf.BACKUP"));
        symlink(&v, &planted).unwrap();
        let b = files::backup(&cf).unwrap();
        assert_eq!(b, dir.path().join(format!("main{i}.cf.BACKUP.1")));
        assert_eq!(mode(&b), m, "backup of a {m:o} file");
        assert_eq!(fs::read(&b).unwrap(), fs::read(&cf).unwrap());
        assert_eq!(
            fs::metadata(&b).unwrap().mtime(),
            fs::metadata(&cf).unwrap().mtime()
        );
        assert_eq!(fs::read_to_string(&v).unwrap(), "precious\n");
        // The edit keeps the mode too.
        files::replace_keeping_attrs(&cf, b"myhostname = new.example\n").unwrap();
        assert_eq!(mode(&cf), m);
    }
}

/// Watches `dir` with inotify and, the moment each file appears, records its mode: a
/// file created wide and narrowed afterwards would show its wide mode here (the window
/// is the same as an attacker's `open` racing the `chmod`).
fn watch_modes(
    dir: &Path,
    stop: Arc<AtomicBool>,
) -> (thread::JoinHandle<()>, Arc<Mutex<Vec<u32>>>) {
    use rustix::fs::inotify;
    use std::os::unix::ffi::OsStrExt;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let fd = inotify::init(inotify::CreateFlags::NONBLOCK | inotify::CreateFlags::CLOEXEC).unwrap();
    inotify::add_watch(&fd, dir, inotify::WatchFlags::CREATE).unwrap();
    let dir = dir.to_path_buf();
    let out = Arc::clone(&seen);
    let handle = thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            let n = rustix::io::read(&fd, &mut buf).unwrap_or(0);
            if n == 0 {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                std::hint::spin_loop();
                continue;
            }
            let mut i = 0;
            while i + 16 <= n {
                let len = u32::from_ne_bytes(buf[i + 12..i + 16].try_into().unwrap()) as usize;
                let name = &buf[i + 16..i + 16 + len];
                let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(len)];
                let path = dir.join(std::ffi::OsStr::from_bytes(name));
                if let Ok(m) = fs::symlink_metadata(&path)
                    && m.file_type().is_file()
                {
                    out.lock().unwrap().push(m.mode() & 0o7777);
                }
                i += 16 + len;
            }
        }
        drop(fd);
    });
    (handle, seen)
}

#[test]
fn keys_are_never_readable_by_others_at_any_instant() {
    let dir = tempfile::tempdir().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let (handle, seen) = watch_modes(dir.path(), Arc::clone(&stop));
    for i in 0..200 {
        let key = dir.path().join(format!("k{i}.pem"));
        files::write_file(&key, b"SECRET", 0o600, None, false).unwrap();
        files::write_file(&key, b"SECRET2", 0o640, None, true).unwrap();
    }
    stop.store(true, Ordering::SeqCst);
    handle.join().unwrap();
    let seen = seen.lock().unwrap();
    assert!(
        seen.len() >= 100,
        "the watcher saw {} creations",
        seen.len()
    );
    assert!(
        seen.iter().all(|m| m & 0o037 == 0),
        "modes seen at creation: {:?}",
        seen.iter().filter(|m| *m & 0o037 != 0).collect::<Vec<_>>()
    );
}

#[test]
fn config_certs_refuses_a_link_planted_at_a_key_path() {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    let ca = dir.path().join("ca");
    fs::create_dir(&certs).unwrap();
    let v = victim(dir.path());
    symlink(&v, certs.join("mx-key.pem")).unwrap();
    let out = Command::cargo_bin("mailtls")
        .unwrap()
        .args([
            "config",
            "certs",
            "--name",
            "mx",
            "--san",
            "mx.example.test",
        ])
        .arg("--dir")
        .arg(&certs)
        .arg("--ca-dir")
        .arg(&ca)
        .args(["--key-type", "ecdsa-p256"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("mx-key.pem"), "{stderr}");
    assert_eq!(fs::read_to_string(&v).unwrap(), "precious\n");
    assert!(
        fs::symlink_metadata(certs.join("mx-key.pem"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn config_apply_refuses_a_linked_cf_file() {
    let dir = tempfile::tempdir().unwrap();
    let v = victim(dir.path());
    let cf = dir.path().join("sendmail.cf");
    symlink(&v, &cf).unwrap();
    let out = Command::cargo_bin("mailtls")
        .unwrap()
        .args(["config", "sendmail", "--apply"])
        .arg(&cf)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("symbolic link"), "{stderr}");
    assert_eq!(fs::read_to_string(&v).unwrap(), "precious\n");
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
}

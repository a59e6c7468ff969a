//! The store: `store/<test>/<YYYYmmddTHHMMSS.mmm>/` per run, with
//! `store/<test>/latest` and `store/latest` symlinks (DESIGN.md).

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// (year, month, day, hour, minute, second, millisecond) in UTC for `t`.
fn civil(t: SystemTime) -> (i64, i64, i64, i64, i64, i64, u32) {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let (secs, ms) = (d.as_secs() as i64, d.subsec_millis());
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, rem / 3600, rem % 3600 / 60, rem % 60, ms)
}

/// `YYYYmmddTHHMMSS.mmm` in UTC for `t`.
pub fn timestamp(t: SystemTime) -> String {
    let (y, mo, d, h, mi, s, ms) = civil(t);
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}.{ms:03}")
}

/// RFC 3339 in UTC for `t`: `2026-11-23T10:40:00.123Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let (y, mo, d, h, mi, s, ms) = civil(t);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
}

/// Makes a fresh run directory for test `name` under `store`, and points
/// the `latest` links at it.
pub fn new_run(store: &Path, name: &str) -> std::io::Result<PathBuf> {
    let test_dir = store.join(name);
    let mut run = test_dir.join(timestamp(SystemTime::now()));
    while run.exists() {
        run = test_dir.join(timestamp(
            SystemTime::now() + std::time::Duration::from_millis(1),
        ));
    }
    std::fs::create_dir_all(&run)?;
    let rel = run.file_name().map(PathBuf::from).unwrap_or_default();
    relink(&test_dir.join("latest"), &rel)?;
    relink(&store.join("latest"), &Path::new(name).join(&rel))?;
    Ok(run)
}

/// Points `link` at `target` atomically. The temporary link's name is this
/// process's own: two runs sharing a store (tests in parallel, two users)
/// must not remove or rename each other's (one of them failed with ENOENT).
fn relink(link: &Path, target: &Path) -> std::io::Result<()> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = link.with_extension(format!("tmp-link-{}-{n}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp)?;
    std::fs::rename(&tmp, link).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_made_at_once_in_one_store_all_get_their_links() {
        let store = std::env::temp_dir().join(format!("fl-store-race-{}", std::process::id()));
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let store = store.clone();
                std::thread::spawn(move || {
                    for _ in 0..25 {
                        new_run(&store, &format!("t{}", i % 2)).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(store.join("latest").symlink_metadata().is_ok());
        let leftovers = std::fs::read_dir(&store)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains("tmp-link"))
            .count();
        assert_eq!(leftovers, 0);
        let _ = std::fs::remove_dir_all(&store);
    }

    #[test]
    fn formats_utc_timestamps() {
        let t = UNIX_EPOCH + std::time::Duration::from_millis(1_795_430_400_123);
        assert_eq!(timestamp(t), "20261123T104000.123");
        assert_eq!(timestamp(UNIX_EPOCH), "19700101T000000.000");
        assert_eq!(rfc3339(t), "2026-11-23T10:40:00.123Z");
    }
}

//! What the tests that run `uketsuke` as a process share: the repository, loopback ports that
//! no other test (of this run or of another checkout testing at the same time) is handed,
//! temporary folders that are removed afterwards, child processes that are killed when the
//! test ends however it ends, and a configuration folder made from the shipped files.
//! (Benches include it with `#[path]`.)
#![allow(dead_code)]

use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

pub mod mail;
pub mod pg;

/// An RFC 3339 time, in UTC.
pub fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s).expect("time").with_timezone(&chrono::Utc)
}

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

// ---- temporary folders ----

/// Set to 1 to keep the folder of a test that failed (its path is printed); by default every
/// folder is removed, failed or not.
pub const KEEP_VAR: &str = "UKETSUKE_KEEP_TEST_DIRS";

/// A fresh, empty folder under the system temp dir, removed with everything in it when dropped
/// (also when the test panics, unless `UKETSUKE_KEEP_TEST_DIRS=1` is set: then a failed test's
/// folder is kept and its path printed).
///
/// `TestDir::new("http-page")` makes `$TMPDIR/uketsuke-http-page-p<pid>-<n>-<random>`: unique
/// per process (pid), per call (a counter) and per checkout (8 random bytes), so tests running
/// in parallel, twice, or from two checkouts at once never share one. `name` should be short
/// and use only letters, digits and `-` (the mail stack puts the path into its config files).
/// Derefs to [`Path`]: `dir.join("x")`, `&dir` where a `&Path` is wanted.
///
/// Folders left by a test process that was killed (SIGKILL, a CI timeout) are swept, and a mail
/// stack still running in one is stopped, the first time a process of the suite makes one.
pub struct TestDir {
    path: PathBuf,
    keep: bool,
}

impl TestDir {
    pub fn new(name: &str) -> TestDir {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        static SWEEP: std::sync::Once = std::sync::Once::new();
        SWEEP.call_once(sweep_stale_dirs);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("uketsuke-{name}-p{}-{n}-{:016x}", std::process::id(), random_u64()));
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("cannot make {}: {e}", path.display()));
        TestDir { path, keep: false }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Keeps the folder after all (a bench whose logs are asked for): not removed when
    /// dropped, its path printed, and never swept.
    pub fn keep(&mut self) {
        self.keep = true;
    }
}

impl std::ops::Deref for TestDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<Path> for TestDir {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        if self.keep {
            let _ = std::fs::write(self.path.join(KEPT_MARKER), "");
            eprintln!("kept {}", self.path.display());
            return;
        }
        if std::thread::panicking() {
            if std::env::var(KEEP_VAR).is_ok_and(|v| v == "1") {
                let _ = std::fs::write(self.path.join(KEPT_MARKER), "");
                eprintln!("test failed: its folder is kept in {}", self.path.display());
                return;
            }
            eprintln!("test failed: removing {} ({KEEP_VAR}=1 keeps it)", self.path.display());
        }
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// In a folder kept for a failed test: the sweep leaves it alone.
const KEPT_MARKER: &str = ".kept-by-uketsuke-test";

/// Removes the folders of test processes that no longer run (they cannot have removed them),
/// stopping any mail stack left running in one first. Only names this file makes are touched:
/// `uketsuke-<name>-p<pid>-<n>-<16 hex digits>` whose pid is gone.
fn sweep_stale_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(pid) = owner_pid(name) else { continue };
        let path = entry.path();
        if Path::new(&format!("/proc/{pid}")).exists() || path.join(KEPT_MARKER).exists() {
            continue;
        }
        if path.join("dovecot").exists() || path.join("postfix").exists() {
            let _ = std::process::Command::new(repo().join("scripts/mailstack"))
                .arg("stop")
                .arg(&path)
                .stdin(std::process::Stdio::null())
                .output();
        }
        let _ = std::fs::remove_dir_all(&path);
    }
}

fn owner_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix("uketsuke-")?;
    let mut parts = rest.rsplitn(4, '-');
    let random = parts.next()?;
    let counter = parts.next()?;
    let pid = parts.next()?.strip_prefix('p')?;
    parts.next()?; // the name
    let ok = random.len() == 16
        && random.bytes().all(|b| b.is_ascii_hexdigit())
        && !counter.is_empty()
        && counter.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| pid.parse().ok()).flatten()
}

pub fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).expect("random bytes");
    u64::from_le_bytes(bytes)
}

// ---- ports ----

/// A port is ours while this process holds the abstract Unix socket named after it: the
/// kernel frees the name when the process exits, however it exits, and two processes cannot
/// hold one name. Every test process of this project (any checkout, any user) asks here
/// before using a port, so none is handed one another still uses.
fn reserve(port: u16) -> Option<UnixListener> {
    let addr = SocketAddr::from_abstract_name(format!("uketsuke-test-port-{port}")).ok()?;
    UnixListener::bind_addr(&addr).ok()
}

fn listenable(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// A loopback port nobody listens on right now and that no other test process of this project
/// (this run, a second run, another checkout) is handed while this process runs: the OS picks
/// it (bind to 127.0.0.1:0), and it stays reserved until the process exits.
pub fn free_port() -> u16 {
    static HELD: Mutex<Vec<UnixListener>> = Mutex::new(Vec::new());
    for _ in 0..100 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        if let Some(held) = reserve(port) {
            HELD.lock().unwrap_or_else(|e| e.into_inner()).push(held);
            return port;
        }
    }
    panic!("no free loopback port in 100 tries");
}

/// `len` consecutive loopback ports, reserved like [`free_port`]'s until dropped, for a server
/// that takes a base port (`scripts/mailstack`). Drawn at random below the range the OS hands
/// out for outgoing connections and port 0, so that neither takes one before the server has
/// bound it.
pub struct PortBlock {
    pub base: u16,
    _held: Vec<UnixListener>,
}

impl PortBlock {
    pub fn new(len: u16) -> PortBlock {
        let (low, _) = ephemeral_range();
        let (first, last) = (10_000u32, low.saturating_sub(1).max(10_999) - u32::from(len));
        for _ in 0..200 {
            let base = (first + (random_u64() % u64::from(last - first)) as u32) as u16;
            let mut held = Vec::new();
            for port in base..base + len {
                match reserve(port) {
                    Some(h) if listenable(port) => held.push(h),
                    _ => break,
                }
            }
            if held.len() == usize::from(len) {
                return PortBlock { base, _held: held };
            }
        }
        panic!("no {len} free consecutive loopback ports in 200 tries");
    }
}

/// The OS's ephemeral port range (`net.ipv4.ip_local_port_range`), Linux's default if unread.
fn ephemeral_range() -> (u32, u32) {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| {
            let mut it = s.split_whitespace().map(|n| n.parse().ok());
            Some((it.next()??, it.next()??))
        })
        .unwrap_or((32768, 60999))
}

// ---- child processes ----

/// A child process that is killed (SIGKILL, to its whole process group when it leads one) and
/// reaped when dropped: a failing test leaves nothing running. Derefs to [`Child`].
pub struct ChildGuard {
    child: Option<Child>,
    group: bool,
}

impl ChildGuard {
    pub fn new(child: Child) -> ChildGuard {
        ChildGuard { child: Some(child), group: false }
    }

    /// For a child started with `process_group(0)` (`std::os::unix::process::CommandExt`):
    /// its own children (a browser's) are killed with it.
    pub fn group(child: Child) -> ChildGuard {
        ChildGuard { child: Some(child), group: true }
    }

    /// Waits for the child to end by itself, reading what it printed.
    pub fn wait_with_output(mut self) -> std::io::Result<std::process::Output> {
        self.child.take().expect("child").wait_with_output()
    }
}

impl std::ops::Deref for ChildGuard {
    type Target = Child;
    fn deref(&self) -> &Child {
        self.child.as_ref().expect("child")
    }
}

impl std::ops::DerefMut for ChildGuard {
    fn deref_mut(&mut self) -> &mut Child {
        self.child.as_mut().expect("child")
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let Some(child) = &mut self.child else { return };
        if self.group {
            // The group's id is the leader's pid; the leader is not reaped yet, so the id is ours.
            // SAFETY: kill(2) with a negative pid signals that process group; no memory is involved.
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Has the kernel kill the child (SIGKILL) when the thread that starts it ends: even when the
/// test process itself is killed (SIGKILL, a CI timeout), where no [`ChildGuard`] runs. Start
/// the child from the test's own thread (each test runs on one): a helper thread that ends
/// early takes the child with it.
pub fn die_with_test(cmd: &mut std::process::Command) -> &mut std::process::Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl(2) is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

// ---- configuration ----

/// Copies the shipped customers, understanding rules and policy profiles into `dir`, for a
/// test to add its own main file beside them.
pub fn copy_shipped_config(dir: &Path) {
    std::fs::create_dir_all(dir.join("policies")).expect("mkdir");
    for file in ["customers.toml", "understanding.toml", "policies/three-priority.toml", "policies/four-severity.toml"]
    {
        std::fs::copy(repo().join("config").join(file), dir.join(file)).unwrap_or_else(|e| panic!("copy {file}: {e}"));
    }
}

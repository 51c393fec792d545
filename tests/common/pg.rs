//! A fresh PostgreSQL database per test, on the server `scripts/postgres start` found or
//! started (its URL in $UKETSUKE_TEST_POSTGRES), dropped when the test ends.

use std::sync::atomic::{AtomicU64, Ordering};

pub const URL_VAR: &str = "UKETSUKE_TEST_POSTGRES";

pub struct PgDatabase {
    admin: String,
    name: String,
    pub url: String,
}

fn admin_url() -> String {
    std::env::var(URL_VAR).unwrap_or_else(|_| {
        panic!(
            "${URL_VAR} is not set: run the tests with scripts/test, or export {URL_VAR}=\"$(scripts/postgres start)\""
        )
    })
}

fn client(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL: {e}"))
}

impl PgDatabase {
    pub fn new(tag: &str) -> PgDatabase {
        PgDatabase::on(&admin_url(), tag)
    }

    /// A fresh database on the server of `admin` (a URL of a user who may create databases).
    pub fn on(admin: &str, tag: &str) -> PgDatabase {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        static SWEEP: std::sync::Once = std::sync::Once::new();
        let admin = admin.to_string();
        SWEEP.call_once(|| sweep(&admin));
        let name = format!(
            "uketsuke_t_{}_p{}_{}",
            tag.replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        client(&admin).batch_execute(&format!("CREATE DATABASE {name}")).expect("create the test database");
        let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
        let url = format!("{base}/{name}");
        PgDatabase { admin, name, url }
    }

    /// A connection of the test's own, to look at or change the database behind uketsuke's back.
    pub fn client(&self) -> postgres::Client {
        client(&self.url)
    }
}

/// Drops databases left by test processes that were killed.
fn sweep(admin: &str) {
    let mut c = client(admin);
    let Ok(rows) = c.query("SELECT datname FROM pg_database WHERE datname LIKE 'uketsuke_t_%'", &[]) else { return };
    for row in rows {
        let name: String = row.get(0);
        let pid = name.split('_').find_map(|p| p.strip_prefix('p').and_then(|n| n.parse::<i32>().ok()));
        // SAFETY: signal 0 only asks whether the process exists.
        let alive = pid.is_some_and(|pid| unsafe { libc::kill(pid, 0) } == 0);
        if !alive {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

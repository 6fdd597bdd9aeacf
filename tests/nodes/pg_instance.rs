//! A private PostgreSQL server for fault tests, which stop and start it: the machine's own
//! binaries (`initdb`, `pg_ctl`) on a free port, with its data in a temporary folder. The shared
//! server at 5432 is never touched. initdb refuses to run as root, so as root every command runs
//! as the `postgres` OS user, which owns the folder.

use std::{
    path::{Path, PathBuf},
    process::Output,
    time::Duration,
};

use tokio::process::Command;

/// The longest one `initdb`/`pg_ctl`/`createdb` may take.
const COMMAND_DEADLINE: Duration = Duration::from_secs(60);

/// A running (or stopped) PostgreSQL server of our own. Dropping it stops the server at once
/// (`-m immediate`) and removes its folder.
pub struct PgInstance {
    bin: PathBuf,
    pub port: u16,
    running: bool,
    // Declared last: removed after the server is stopped.
    dir: tempfile::TempDir,
}

impl PgInstance {
    /// initdb (trust authentication, user `postgres`), then start on a free port.
    pub async fn start() -> PgInstance {
        let bin = postgres_bin();
        let dir = tempfile::tempdir().expect("create a folder for PostgreSQL");
        if running_as_root() {
            run_checked(
                Command::new("chown")
                    .args(["-R", "postgres:"])
                    .arg(dir.path()),
                "chown the PostgreSQL folder",
            )
            .await;
        }
        let port = free_port();
        let mut pg = PgInstance {
            bin,
            port,
            running: false,
            dir,
        };
        let data = pg.data();
        pg.run(
            "initdb",
            &[
                "-D",
                path_str(&data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        )
        .await;
        // The settings live in the data folder, so `pg_ctl start` needs nothing more. The socket
        // goes to our folder: the machine's /var/run/postgresql may not be writable.
        let conf = format!(
            "\nport = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n",
            path_str(pg.dir.path())
        );
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))
            .expect("open postgresql.conf");
        std::io::Write::write_all(&mut file, conf.as_bytes()).expect("write postgresql.conf");
        pg.start_again().await;
        pg.run(
            "createdb",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-U",
                "postgres",
                "clavex",
            ],
        )
        .await;
        pg
    }

    /// The URL of database `clavex` on this server.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/clavex", self.port)
    }

    /// `pg_ctl stop -m fast`: ends every connection (clients see SQLSTATE 57P01) and shuts
    /// down cleanly; returns once the server is gone.
    pub async fn stop(&mut self) {
        let data = self.data();
        self.run(
            "pg_ctl",
            &[
                "stop",
                "-D",
                path_str(&data),
                "-m",
                "fast",
                "-w",
                "-t",
                "30",
            ],
        )
        .await;
        self.running = false;
    }

    /// `pg_ctl start`; returns once the server accepts connections.
    pub async fn start_again(&mut self) {
        let data = self.data();
        let log = self.dir.path().join("postgresql.log");
        self.run(
            "pg_ctl",
            &[
                "start",
                "-D",
                path_str(&data),
                "-l",
                path_str(&log),
                "-w",
                "-t",
                "30",
            ],
        )
        .await;
        self.running = true;
    }

    /// The server's log so far (for a failure message).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("postgresql.log")).unwrap_or_default()
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Runs one of the PostgreSQL programs (as `postgres` when we are root); panics with its
    /// output and the server log if it fails or overruns.
    async fn run(&self, program: &str, args: &[&str]) {
        let mut cmd = as_postgres(&self.bin.join(program));
        cmd.args(args);
        run_checked(&mut cmd, program).await;
    }
}

impl Drop for PgInstance {
    fn drop(&mut self) {
        if !self.running {
            return;
        }
        // Drop cannot await: a blocking pg_ctl, bounded by its own -t.
        let data = self.data();
        let pg_ctl = self.bin.join("pg_ctl");
        let mut cmd = if running_as_root() {
            let mut cmd = std::process::Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(pg_ctl);
            cmd
        } else {
            std::process::Command::new(pg_ctl)
        };
        let _ = cmd
            .args([
                "stop",
                "-D",
                path_str(&data),
                "-m",
                "immediate",
                "-w",
                "-t",
                "20",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// `program` as a command, run as the `postgres` user when we are root.
fn as_postgres(program: &Path) -> Command {
    let mut cmd = if running_as_root() {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    };
    // The temporary folder is ours; run from it rather than from a folder `postgres` cannot read.
    cmd.current_dir("/").kill_on_drop(true);
    cmd
}

async fn run_checked(cmd: &mut Command, what: &str) -> Output {
    let out = tokio::time::timeout(COMMAND_DEADLINE, cmd.output())
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {COMMAND_DEADLINE:?}"))
        .unwrap_or_else(|e| panic!("{what} could not be started: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The folder of the newest installed PostgreSQL's programs (Debian's layout).
fn postgres_bin() -> PathBuf {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL's programs under /usr/lib/postgresql (apt install postgresql)")
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("pg_ctl").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found
        .pop()
        .map(|(_, bin)| bin)
        .expect("no /usr/lib/postgresql/*/bin/pg_ctl")
}

fn running_as_root() -> bool {
    static ROOT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ROOT.get_or_init(|| {
        std::process::Command::new("id")
            .arg("-u")
            .output()
            .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
            .unwrap_or(false)
    })
}

/// A port nothing listens on now (the OS picks it; the small race with other programs is
/// acceptable in a test).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("pick a free port")
        .port()
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

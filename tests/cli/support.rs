//! Running the real `clavex` binary: one-shot subcommands with a deadline, and `clavex serve` as a
//! child process whose stderr tells the bound address. Every child is killed when its handle drops,
//! so a failing test never leaves a process behind, and every wait is bounded.

use std::{
    io::Write as _,
    net::SocketAddr,
    path::Path,
    process::{ExitStatus, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use clavex_testkit::{Backend, TestServer, log_capture};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    process::{Child, Command},
    sync::watch,
};

/// The longest a one-shot subcommand may take (it may generate an RSA key or hash a password in a
/// debug build).
const COMMAND_DEADLINE: Duration = Duration::from_secs(90);
/// The longest `clavex serve` may take to log its address, or to exit once told to.
const SERVE_DEADLINE: Duration = Duration::from_secs(60);

/// A fixed, valid master key for processes that need one (PostgreSQL).
pub const TEST_MASTER_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// The binary under test, with no `CLAVEX_*` variable inherited from the test run (such as
/// `CLAVEX_TEST_BACKEND`), run in `cwd`.
pub fn clavex(cwd: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_clavex"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("CLAVEX_") {
            cmd.env_remove(name);
        }
    }
    cmd.current_dir(cwd).kill_on_drop(true);
    cmd
}

/// What a finished process left.
#[derive(Debug)]
pub struct Output {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// Panics with everything the process said unless it exited 0.
    #[track_caller]
    pub fn assert_ok(&self) -> &Self {
        assert!(self.success(), "expected exit 0: {self}");
        self
    }

    /// Panics unless the process exited non-zero (not killed by a signal) with an empty stdout.
    #[track_caller]
    pub fn assert_failed(&self) -> &Self {
        assert!(
            matches!(self.status.code(), Some(code) if code != 0),
            "expected a non-zero exit: {self}"
        );
        assert!(
            self.stdout.trim().is_empty(),
            "stdout must stay empty on failure: {self}"
        );
        self
    }

    /// Panics unless stderr contains every one of `needles`.
    #[track_caller]
    pub fn assert_stderr_has(&self, needles: &[&str]) -> &Self {
        for needle in needles {
            assert!(
                self.stderr.contains(needle),
                "stderr lacks {needle:?}: {self}"
            );
        }
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {self}"))
    }
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

/// Runs `cmd` to its end with `stdin` as standard input (closed at once when `None`).
pub async fn run(mut cmd: Command, stdin: Option<&str>) -> Output {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn clavex");
    let mut pipe = child.stdin.take().expect("stdin is piped");
    if let Some(text) = stdin {
        pipe.write_all(text.as_bytes()).await.expect("write stdin");
    }
    drop(pipe);
    match tokio::time::timeout(COMMAND_DEADLINE, child.wait_with_output()).await {
        Ok(out) => {
            let out = out.expect("wait for clavex");
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            log_capture::save_log("cli", &stderr);
            Output {
                status: out.status,
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr,
            }
        }
        // The child was moved into the future, which the timeout dropped: kill_on_drop ended it.
        Err(_) => panic!("{cmd:?} did not finish within {COMMAND_DEADLINE:?}"),
    }
}

/// The variables that point a subcommand at `server`'s database.
pub fn db_env(server: &TestServer) -> Vec<(&'static str, String)> {
    let mut env = vec![("CLAVEX_DATABASE_URL", server.db.url.clone())];
    if server.db.backend == Backend::Postgres {
        let key = server
            .settings
            .master_key_base64
            .as_ref()
            .expect("PostgreSQL test servers have a master key");
        env.push(("CLAVEX_MASTER_KEY", key.expose().to_owned()));
    }
    env
}

/// Runs `clavex ARGS` against `server`'s database (in the database's temporary folder).
pub async fn cli(server: &TestServer, args: &[&str]) -> Output {
    cli_stdin(server, args, None).await
}

/// Like [`cli`], with `stdin` as standard input.
pub async fn cli_stdin(server: &TestServer, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = clavex(server.db.dir.path());
    cmd.args(args).envs(db_env(server));
    run(cmd, stdin).await
}

/// `clavex serve` running as a child process.
pub struct ServeProcess {
    child: Child,
    /// The address it logged as bound.
    pub addr: SocketAddr,
    stderr: Arc<Mutex<String>>,
    stdout: Arc<Mutex<String>>,
    reader: tokio::task::JoinHandle<()>,
}

impl ServeProcess {
    /// Starts `cmd` (already holding `serve` and its settings) and waits until it logs
    /// `listening on http://ADDR` (or `https://`). Panics, with its stderr, if it exits or stays silent first.
    pub async fn start(mut cmd: Command) -> ServeProcess {
        verbose_when_capturing(&mut cmd);
        let mut capture = log_capture::log_file("serve");
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn clavex serve");
        let out_pipe = child.stdout.take().expect("stdout is piped");
        let stdout = Arc::new(Mutex::new(String::new()));
        tokio::spawn({
            let stdout = stdout.clone();
            async move {
                let mut lines = BufReader::new(out_pipe).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let mut all = stdout.lock().expect("stdout buffer");
                    all.push_str(&line);
                    all.push('\n');
                }
            }
        });
        let pipe = child.stderr.take().expect("stderr is piped");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, mut rx) = watch::channel(None::<SocketAddr>);
        let reader = tokio::spawn({
            let stderr = stderr.clone();
            async move {
                let mut lines = BufReader::new(pipe).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(addr) = listening_addr(&line) {
                        let _ = tx.send(Some(addr));
                    }
                    if let Some(file) = capture.as_mut() {
                        let _ = writeln!(file, "{line}");
                    }
                    let mut all = stderr.lock().expect("stderr buffer");
                    all.push_str(&line);
                    all.push('\n');
                }
            }
        });
        let started = tokio::time::timeout(SERVE_DEADLINE, async {
            tokio::select! {
                found = rx.wait_for(Option::is_some) => Ok(found.ok().and_then(|a| *a)),
                status = child.wait() => Err(status),
            }
        })
        .await;
        let mut reader = reader;
        match started {
            Ok(Ok(Some(addr))) => ServeProcess {
                child,
                addr,
                stderr,
                stdout,
                reader,
            },
            Ok(Ok(None)) => panic!(
                "clavex serve closed stderr before listening:\n{}",
                take(&stderr)
            ),
            Ok(Err(status)) => {
                // Let the reader take the rest of stderr before it is shown.
                let _ = tokio::time::timeout(Duration::from_secs(10), &mut reader).await;
                panic!(
                    "clavex serve exited before listening ({status:?}):\n{}",
                    take(&stderr)
                )
            }
            Err(_) => panic!(
                "clavex serve did not log its address within {SERVE_DEADLINE:?}:\n{}",
                take(&stderr)
            ),
        }
    }

    /// The process id (for looking at it in /proc).
    pub fn pid(&self) -> u32 {
        self.child.id().expect("clavex serve is still running")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn stderr(&self) -> String {
        take(&self.stderr)
    }

    /// What it printed on stdout so far (the first-run banner).
    pub fn stdout(&self) -> String {
        take(&self.stdout)
    }

    /// Sends SIGTERM and waits (bounded) for the exit; returns the status and all of stderr.
    pub async fn terminate(mut self) -> (ExitStatus, String) {
        let pid = self.child.id().expect("clavex serve is still running");
        let kill = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("run kill -TERM");
        assert!(kill.success(), "kill -TERM {pid} failed");
        let status = match tokio::time::timeout(SERVE_DEADLINE, self.child.wait()).await {
            Ok(status) => status.expect("wait for clavex serve"),
            Err(_) => panic!(
                "clavex serve did not exit within {SERVE_DEADLINE:?} of SIGTERM:\n{}",
                self.stderr()
            ),
        };
        let _ = tokio::time::timeout(Duration::from_secs(10), &mut self.reader).await;
        (status, self.stderr())
    }
}

/// While a run captures logs for the secrets check, a server logs everything, unless the test
/// chose its own level. (One-shot commands keep their level: some tests check where it comes
/// from.)
fn verbose_when_capturing(cmd: &mut Command) {
    let chosen = cmd
        .as_std()
        .get_envs()
        .any(|(k, v)| k == "CLAVEX_LOG" && v.is_some());
    if log_capture::dir().is_some() && !chosen {
        cmd.env("CLAVEX_LOG", "trace");
    }
}

fn take(buffer: &Mutex<String>) -> String {
    buffer.lock().expect("stderr buffer").clone()
}

/// The address in a `... listening on http://ADDR; ...` (or `https://`) log line.
fn listening_addr(line: &str) -> Option<SocketAddr> {
    let rest = line.split("listening on http").nth(1)?;
    let rest = rest
        .strip_prefix("://")
        .or_else(|| rest.strip_prefix("s://"))?;
    let end = rest
        .find(|c: char| c == ';' || c.is_whitespace())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// Runs `clavex serve ...` that is expected to stop by itself (bad settings), bounded in time.
pub async fn serve_to_exit(cmd: Command) -> Output {
    run(cmd, None).await
}

/// An HTTP client for servers started as processes.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("build the HTTP client")
}

impl ServeProcess {
    /// `kill -9`: SIGKILL, so no shutdown code runs (no drain, no pool close), then waits, bounded,
    /// for the exit. The handle stays, for its logs.
    pub async fn kill(&mut self) -> ExitStatus {
        self.child
            .start_kill()
            .expect("send SIGKILL to clavex serve");
        match tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await {
            Ok(status) => status.expect("wait for clavex serve"),
            Err(_) => panic!("clavex serve did not exit within 10 s of SIGKILL"),
        }
    }
}

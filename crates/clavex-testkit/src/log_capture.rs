//! Proof that no secret reaches a log: with `CLAVEX_TEST_LOG_DIR` set, a test run writes every
//! server log it produces (in-process servers and `clavex serve` children) into that folder, at
//! the most verbose levels, and records every secret the tests sent or received (passwords,
//! client secrets, codes, tokens, cookies) beside them. `check-log-secrets DIR` then searches
//! every log for every secret. Without the variable nothing is written or installed.

use std::{
    collections::BTreeSet,
    fs::{File, OpenOptions},
    io::Write,
    path::{Path, PathBuf},
    sync::{Mutex, OnceLock},
};

use serde_json::Value;

/// Names the folder a run writes its logs and secrets to.
pub const DIR_ENV: &str = "CLAVEX_TEST_LOG_DIR";

/// JSON keys and form fields whose values are secrets.
const SECRET_KEYS: &[&str] = &[
    "password",
    "new_password",
    "client_secret",
    "access_token",
    "refresh_token",
    "id_token",
    "id_token_hint",
    "code",
    "code_verifier",
    "token",
    "csrf",
    "request",
    "setup_link",
];

/// Shorter values could occur in a log by chance (a password "secret1" in a word); every secret
/// Clavex generates is far longer.
pub const MIN_SECRET_LEN: usize = 8;

/// The folder of this run, if capture is on.
pub fn dir() -> Option<&'static Path> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(std::env::var_os(DIR_ENV)?);
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot create {DIR_ENV}={}: {e}", dir.display()));
        Some(dir)
    })
    .as_deref()
}

/// Records one secret the tests used.
pub fn record_secret(value: &str) {
    let Some(dir) = dir() else { return };
    if value.len() < MIN_SECRET_LEN {
        return;
    }
    static FILE: OnceLock<Mutex<File>> = OnceLock::new();
    let file = FILE.get_or_init(|| {
        let path = dir.join(format!("secrets-{}.txt", std::process::id()));
        Mutex::new(
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display())),
        )
    });
    // One secret per line: escape what would break the line.
    let line = value.replace('\\', "\\\\").replace('\n', "\\n");
    if let Ok(mut f) = file.lock() {
        let _ = writeln!(f, "{line}");
    }
}

/// Records the values of secret-named keys anywhere in a JSON document.
pub fn record_json(value: &Value) {
    if dir().is_none() {
        return;
    }
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::String(s) if SECRET_KEYS.contains(&k.as_str()) => record_secret(s),
                    _ => record_json(v),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(record_json),
        _ => {}
    }
}

/// Records the secret-named fields of a form.
pub fn record_form(form: &[(&str, &str)]) {
    for (k, v) in form {
        if SECRET_KEYS.contains(k) {
            record_secret(v);
        }
    }
}

/// Records what a response carries: secret-named JSON keys, cookie values, and secret-named
/// parameters of a redirect (`code`, fragments' tokens).
pub fn record_response(headers: &reqwest::header::HeaderMap, body: &str) {
    if dir().is_none() {
        return;
    }
    if let Ok(json) = serde_json::from_str::<Value>(body) {
        record_json(&json);
    }
    for cookie in headers.get_all(reqwest::header::SET_COOKIE) {
        if let Some(value) = cookie
            .to_str()
            .ok()
            .and_then(|c| c.split(';').next())
            .and_then(|pair| pair.split_once('='))
            .map(|(_, v)| v)
        {
            record_secret(value);
        }
    }
    if let Some(location) = headers
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
    {
        record_url(location);
    }
}

/// Records secret-named query and fragment parameters of a URL.
pub fn record_url(url: &str) {
    let params = url
        .split_once('?')
        .map(|(_, q)| q)
        .into_iter()
        .chain(url.split_once('#').map(|(_, f)| f))
        .flat_map(|part| part.split(['&', '#']));
    for pair in params {
        if let Some((k, v)) = pair.split_once('=')
            && SECRET_KEYS.contains(&k)
        {
            record_secret(&percent_decode(v));
        }
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A new log file in the folder (named after `name`, this process and a counter), if capture
/// is on: a child process's stderr goes there line by line, so that a child killed half-way
/// leaves what it wrote.
pub fn log_file(name: &str) -> Option<File> {
    let dir = dir()?;
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = dir.join(format!("{name}-{}-{n}.log", std::process::id()));
    Some(File::create(&path).unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display())))
}

/// Writes one finished child process's log into the folder.
pub fn save_log(name: &str, content: &str) {
    if let Some(mut file) = log_file(name) {
        let _ = file.write_all(content.as_bytes());
    }
}

/// The filter for captured logs: everything of Clavex's own, and the libraries a server runs
/// on at debug. hyper and reqwest stay at info because the tests' own HTTP client shares this
/// process: its logs are not the server's.
pub const CAPTURE_FILTER: &str =
    "trace,hyper=info,hyper_util=info,reqwest=info,h2=info,rustls=info,tokio=info,runtime=info";

/// In the test process, sends every server log (both formats) to files in the folder, once.
pub fn install_subscriber() {
    let Some(dir) = dir() else { return };
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        use tracing_subscriber::{EnvFilter, Layer, layer::SubscriberExt};
        let open = |kind: &str| {
            let path = dir.join(format!("inprocess-{}.{kind}.log", std::process::id()));
            let file = File::create(&path)
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
            Mutex::new(file)
        };
        let text = tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(open("text"))
            .with_filter(EnvFilter::new(CAPTURE_FILTER));
        let json = tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_writer(open("json"))
            .with_filter(EnvFilter::new(CAPTURE_FILTER));
        let subscriber = tracing_subscriber::registry().with(text).with(json);
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other global log subscriber in the test process");
    });
}

/// What a search of a folder found.
#[derive(Debug, Default)]
pub struct Findings {
    pub secrets: usize,
    pub log_files: usize,
    pub log_bytes: u64,
    /// (log file, secret with its middle masked, line)
    pub leaks: Vec<(String, String, String)>,
}

/// Searches every `*.log` in `dir` for every recorded secret.
pub fn search(dir: &Path) -> std::io::Result<Findings> {
    let mut secrets = BTreeSet::new();
    let mut logs = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with("secrets-") && name.ends_with(".txt") {
            for line in std::fs::read_to_string(&path)?.lines() {
                let secret = line.replace("\\n", "\n").replace("\\\\", "\\");
                if secret.len() >= MIN_SECRET_LEN {
                    secrets.insert(secret);
                }
            }
        } else if name.ends_with(".log") {
            logs.push(path);
        }
    }
    let mut findings = Findings {
        secrets: secrets.len(),
        log_files: logs.len(),
        ..Findings::default()
    };
    let secrets: Vec<String> = secrets.into_iter().collect();
    for log in logs {
        let content = std::fs::read_to_string(&log)?;
        findings.log_bytes += content.len() as u64;
        for (line, secret) in leaks_in(&content, &secrets) {
            let masked = mask(&secret);
            let line = line.replace(&secret, &masked);
            findings
                .leaks
                .push((log.display().to_string(), masked, line));
        }
    }
    Ok(findings)
}

/// Every (line, secret) where a secret occurs in `text`, searched all at once.
pub fn leaks_in(text: &str, secrets: &[String]) -> Vec<(String, String)> {
    // A matcher that cannot be built must fail the check, never report "nothing found".
    let automaton = aho_corasick::AhoCorasick::new(secrets).expect("build the secrets matcher");
    let mut found = Vec::new();
    for line in text.lines() {
        for m in automaton.find_iter(line) {
            found.push((line.to_string(), secrets[m.pattern().as_usize()].clone()));
        }
    }
    found
}

/// Enough of a secret to find it in the test, not enough to use it.
fn mask(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}…{tail} ({} chars)", chars.len())
}

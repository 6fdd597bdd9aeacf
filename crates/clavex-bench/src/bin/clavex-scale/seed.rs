//! `clavex-scale seed`: a large installation written straight into the database.
//!
//! The Admin API would take hours for a million users (one Argon2id hash each), so this writes
//! the rows itself, in large multi-row INSERTs inside batched transactions, exactly as the store
//! writes them (`clavex-store/src/sql/{orgs,keys,clients,users}.rs`): the same columns, the
//! normalized `*_norm` columns folded by `normalize_login`, JSON lists as `serde_json` writes
//! them, 0/1 booleans, UUID v4 ids, client secrets as SHA-256 hashes and signing keys sealed under
//! the master key bound to their org and kid. Two shortcuts, both stated in the output: every user
//! shares one Argon2id hash of one password (hashed once here), and every org's key is the same
//! RS256 key pair, sealed once per org. No audit events are written for the seeded rows.
//!
//! One org, `scale-big`, holds a share of the users and clients (default a tenth), interleaved
//! with the other orgs' rows as they would be when they were created over time; the rest are
//! spread evenly over the other orgs.

use std::time::Instant;

use anyhow::{Context, bail, ensure};
use clavex_core::{Clock as _, SystemClock, keys::seal_aad};
use clavex_crypto::{
    MasterKey, password, secret,
    signing::{self, Algorithm},
};
use clavex_store::{Backend, SqlStore, normalize_login};
use serde::Serialize;
use sqlx::{AnyConnection, AssertSqlSafe, Connection as _, Executor as _};

/// Rows per INSERT statement: 500 users are 7,500 parameters, under SQLite's 32,766 and
/// PostgreSQL's 65,535.
const ROWS_PER_STATEMENT: usize = 500;
/// Rows per transaction.
const ROWS_PER_TRANSACTION: usize = 20_000;
/// Slug of the org that holds the big share.
pub const BIG_ORG: &str = "scale-big";
/// The one password every seeded user has (the seed is for benchmarks, never for real use).
pub const PASSWORD: &str = "scale-password-1";

const GIVEN: [&str; 16] = [
    "Ada", "Ben", "Chloe", "David", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Karin",
    "Liam", "Maria", "Noah", "Olga", "Pierre",
];
const FAMILY: [&str; 16] = [
    "Martin", "Schmidt", "Rossi", "Garcia", "Novak", "Kowalski", "Dubois", "Jansen", "Silva",
    "Nielsen", "Horvat", "Popescu", "Virtanen", "Murphy", "Weber", "Costa",
];

#[derive(Debug, Clone)]
pub struct Options {
    pub database_url: String,
    /// Base64 of the installation's master key (the server must be started with the same).
    pub master_key: String,
    pub orgs: usize,
    pub users: usize,
    pub clients: usize,
    /// Share of the users and clients that belong to `scale-big`.
    pub big_share: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TableTiming {
    pub table: &'static str,
    pub rows: usize,
    pub seconds: f64,
    pub rows_per_s: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Seeded {
    pub backend: &'static str,
    pub orgs: usize,
    pub users: usize,
    pub clients: usize,
    pub big_org: &'static str,
    pub big_org_users: usize,
    pub big_org_clients: usize,
    pub password: &'static str,
    /// Rows written per table (signing keys and client secrets included), with their times.
    pub tables: Vec<TableTiming>,
    /// Everything: migrations, the one Argon2id hash, the key, every table.
    pub total_seconds: f64,
    pub rows_per_s: f64,
    /// The database's size on disk after seeding.
    pub database_bytes: Option<u64>,
}

impl std::fmt::Display for Seeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "seeded {} orgs, {} clients, {} users on {} in {:.1} s ({:.0} rows/s); org {} holds {} users and {} clients",
            self.orgs,
            self.clients,
            self.users,
            self.backend,
            self.total_seconds,
            self.rows_per_s,
            self.big_org,
            self.big_org_users,
            self.big_org_clients
        )?;
        for t in &self.tables {
            writeln!(
                f,
                "  {:<16} {:>9} rows in {:>6.1} s, {:>8.0} rows/s",
                t.table, t.rows, t.seconds, t.rows_per_s
            )?;
        }
        if let Some(bytes) = self.database_bytes {
            writeln!(f, "  database size {:.0} MB", bytes as f64 / 1e6)?;
        }
        write!(
            f,
            "  every user shares one Argon2id hash (password {:?}); every org signs with one RS256 key, sealed per org",
            self.password
        )
    }
}

/// One bound value of a row.
enum Val {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    OptInt(Option<i64>),
}

/// Buffers rows of one table and writes them as multi-row INSERTs, committing every
/// [`ROWS_PER_TRANSACTION`] rows.
struct Inserter {
    table: &'static str,
    /// Numbered `$N` placeholders (PostgreSQL) or plain `?` (SQLite): sqlx binds by asking
    /// SQLite each numbered parameter's name, a linear search per parameter, which made a
    /// 7,500-parameter INSERT spend three quarters of its time binding.
    numbered: bool,
    columns: &'static [&'static str],
    pending: Vec<Val>,
    pending_rows: usize,
    rows_in_tx: usize,
    written: usize,
    started: Instant,
}

impl Inserter {
    fn new(backend: Backend, table: &'static str, columns: &'static [&'static str]) -> Self {
        Inserter {
            table,
            numbered: backend == Backend::Postgres,
            columns,
            pending: Vec::new(),
            pending_rows: 0,
            rows_in_tx: 0,
            written: 0,
            started: Instant::now(),
        }
    }

    async fn push(&mut self, conn: &mut AnyConnection, row: Vec<Val>) -> anyhow::Result<()> {
        debug_assert_eq!(row.len(), self.columns.len());
        self.pending.extend(row);
        self.pending_rows += 1;
        if self.pending_rows == ROWS_PER_STATEMENT {
            self.flush(conn).await?;
        }
        Ok(())
    }

    async fn flush(&mut self, conn: &mut AnyConnection) -> anyhow::Result<()> {
        if self.pending_rows == 0 {
            return Ok(());
        }
        if self.rows_in_tx == 0 {
            conn.execute("BEGIN").await.context("BEGIN")?;
        }
        let width = self.columns.len();
        let mut sql = format!(
            "INSERT INTO {} ({}) VALUES ",
            self.table,
            self.columns.join(", ")
        );
        for r in 0..self.pending_rows {
            sql.push_str(if r == 0 { "(" } else { ", (" });
            for c in 0..width {
                if c > 0 {
                    sql.push_str(", ");
                }
                if self.numbered {
                    sql.push('$');
                    sql.push_str(&(r * width + c + 1).to_string());
                } else {
                    sql.push('?');
                }
            }
            sql.push(')');
        }
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for v in self.pending.drain(..) {
            query = match v {
                Val::Text(s) => query.bind(s),
                Val::OptText(s) => query.bind(s),
                Val::Int(n) => query.bind(n),
                Val::OptInt(n) => query.bind(n),
            };
        }
        query
            .execute(&mut *conn)
            .await
            .with_context(|| format!("inserting into {}", self.table))?;
        self.written += self.pending_rows;
        self.rows_in_tx += self.pending_rows;
        self.pending_rows = 0;
        if self.rows_in_tx >= ROWS_PER_TRANSACTION {
            self.commit(conn).await?;
        }
        Ok(())
    }

    async fn commit(&mut self, conn: &mut AnyConnection) -> anyhow::Result<()> {
        if self.rows_in_tx > 0 {
            conn.execute("COMMIT").await.context("COMMIT")?;
            self.rows_in_tx = 0;
            if self.written % 100_000 < ROWS_PER_TRANSACTION {
                eprintln!("  {}: {} rows", self.table, self.written);
            }
        }
        Ok(())
    }

    async fn finish(mut self, conn: &mut AnyConnection) -> anyhow::Result<TableTiming> {
        self.flush(conn).await?;
        self.commit(conn).await?;
        let seconds = self.started.elapsed().as_secs_f64();
        Ok(TableTiming {
            table: self.table,
            rows: self.written,
            seconds,
            rows_per_s: self.written as f64 / seconds.max(1e-9),
        })
    }
}

/// Which org the `index`-th of `total` rows belongs to: `big` of them go to org 0, spread evenly
/// through the sequence; the others go round-robin to orgs 1.. (`others` counts them so far).
fn owner(index: usize, total: usize, big: usize, orgs: usize, others: &mut usize) -> usize {
    let is_big = orgs == 1 || (index + 1) * big / total > index * big / total;
    if is_big {
        0
    } else {
        let org = 1 + *others % (orgs - 1);
        *others += 1;
        org
    }
}

/// How many of `total` rows the big org gets.
fn big_count(total: usize, share: f64, orgs: usize) -> usize {
    if orgs == 1 {
        total
    } else {
        ((total as f64 * share).round() as usize).min(total)
    }
}

pub async fn run(opts: &Options) -> anyhow::Result<Seeded> {
    ensure!(opts.orgs >= 1, "--orgs must be at least 1");
    ensure!(
        (0.0..=1.0).contains(&opts.big_share),
        "--big-share must be between 0 and 1"
    );
    let backend = Backend::of_url(&opts.database_url)
        .context("--database-url must start with sqlite:// or postgres://")?;
    let master = MasterKey::from_base64(&opts.master_key)
        .context("--master-key must be base64 of 32 bytes")?;
    let started = Instant::now();

    // Migrations through the store itself, so the schema is exactly the server's.
    let store = SqlStore::connect_with(&opts.database_url, 1)
        .await
        .context("connecting to the database")?;
    store.migrate().await.context("migrating the database")?;
    store.close().await;

    let url = match backend {
        Backend::Sqlite if !opts.database_url.contains('?') => {
            format!("{}?mode=rwc", opts.database_url)
        }
        _ => opts.database_url.clone(),
    };
    let mut conn = AnyConnection::connect(&url)
        .await
        .context("connecting to the database")?;
    match backend {
        // The server sets WAL itself; during the seed only one writer exists and a crash
        // would simply mean seeding again, so durability is relaxed and the cache large.
        Backend::Sqlite => {
            for pragma in [
                "PRAGMA busy_timeout = 10000",
                "PRAGMA journal_mode = WAL",
                "PRAGMA synchronous = OFF",
                "PRAGMA cache_size = -262144",
                "PRAGMA foreign_keys = ON",
            ] {
                conn.execute(pragma).await.context(pragma)?;
            }
        }
        Backend::Postgres => {
            conn.execute("SET synchronous_commit = off")
                .await
                .context("SET synchronous_commit")?;
        }
    }
    let taken: i64 = sqlx::Row::try_get(
        &sqlx::query("SELECT COUNT(*) AS n FROM organizations WHERE slug LIKE 'scale-%'")
            .fetch_one(&mut conn)
            .await
            .context("counting orgs")?,
        "n",
    )?;
    if taken > 0 {
        bail!("this database holds seeded orgs already (scale-*): seed a fresh database");
    }

    let now = SystemClock.now();
    let phc = password::hash_password(PASSWORD).context("hashing the shared password")?;
    let key = signing::generate(Algorithm::RS256).context("generating the shared RS256 key")?;
    let jwk = key.public_jwk.to_string();

    // Orgs and their keys.
    let org_ids: Vec<String> = (0..opts.orgs).map(|_| new_id()).collect();
    let mut orgs = Inserter::new(
        backend,
        "organizations",
        &[
            "id",
            "slug",
            "name",
            "signing_alg",
            "created_at",
            "updated_at",
        ],
    );
    for (i, id) in org_ids.iter().enumerate() {
        let slug = if i == 0 {
            BIG_ORG.to_string()
        } else {
            format!("scale-{i:05}")
        };
        let row = vec![
            Val::Text(id.clone()),
            Val::Text(slug),
            Val::Text(format!("Scale org {i}")),
            Val::Text("RS256".into()),
            Val::Int(now),
            Val::Int(now),
        ];
        orgs.push(&mut conn, row).await?;
    }
    let orgs_timing = orgs.finish(&mut conn).await?;
    let mut keys = Inserter::new(
        backend,
        "signing_keys",
        &[
            "kid",
            "org_id",
            "alg",
            "public_jwk",
            "private_sealed",
            "created_at",
            "active_from",
            "retired_at",
            "expires_at",
        ],
    );
    for id in &org_ids {
        let sealed = master
            .seal(&key.private_der, &seal_aad(id, &key.kid))
            .context("sealing the signing key")?;
        let row = vec![
            Val::Text(key.kid.clone()),
            Val::Text(id.clone()),
            Val::Text("RS256".into()),
            Val::Text(jwk.clone()),
            Val::Text(sealed),
            Val::Int(now),
            Val::Int(now),
            Val::OptInt(None),
            Val::OptInt(None),
        ];
        keys.push(&mut conn, row).await?;
    }
    let keys_timing = keys.finish(&mut conn).await?;

    // Clients (half code-flow apps, half machine clients), each with one secret.
    let big_clients = big_count(opts.clients, opts.big_share, opts.orgs);
    let mut clients = Inserter::new(
        backend,
        "clients",
        &[
            "id",
            "org_id",
            "client_id",
            "client_name",
            "grant_types",
            "redirect_uris",
            "post_logout_redirect_uris",
            "scopes",
            "token_endpoint_auth_method",
            "created_at",
            "updated_at",
        ],
    );
    let mut secrets = Vec::with_capacity(opts.clients);
    let mut others = 0;
    let scopes = json_list(&["openid", "profile", "email"]);
    for i in 0..opts.clients {
        let org = owner(i, opts.clients, big_clients, opts.orgs, &mut others);
        let id = new_id();
        let client_id = format!("c{i:07}");
        let (grants, redirects) = if i % 2 == 0 {
            (
                json_list(&["authorization_code", "refresh_token"]),
                json_list(&[&format!("https://app-{i}.scale.test/callback")]),
            )
        } else {
            (json_list(&["client_credentials"]), json_list(&[]))
        };
        let row = vec![
            Val::Text(id.clone()),
            Val::Text(org_ids[org].clone()),
            Val::Text(client_id.clone()),
            Val::Text(format!("Scale app {i}")),
            Val::Text(grants),
            Val::Text(redirects),
            Val::Text(json_list(&[])),
            Val::Text(scopes.clone()),
            Val::Text("client_secret_basic".into()),
            Val::Int(now),
            Val::Int(now),
        ];
        clients.push(&mut conn, row).await?;
        secrets.push(id);
    }
    let clients_timing = clients.finish(&mut conn).await?;
    let mut secret_rows = Inserter::new(
        backend,
        "client_secrets",
        &["client_pk", "secret_hash", "created_at", "expires_at"],
    );
    for client_pk in secrets {
        // A real random secret per client; nobody learns it, so these clients are inert.
        let hash = secret::hash_token(&secret::generate_token("cs_"));
        let row = vec![
            Val::Text(client_pk),
            Val::Text(hash),
            Val::Int(now),
            Val::OptInt(None),
        ];
        secret_rows.push(&mut conn, row).await?;
    }
    let secrets_timing = secret_rows.finish(&mut conn).await?;

    // Users.
    let big_users = big_count(opts.users, opts.big_share, opts.orgs);
    let mut users = Inserter::new(
        backend,
        "users",
        &[
            "id",
            "org_id",
            "username",
            "username_norm",
            "email",
            "email_norm",
            "email_verified",
            "name",
            "given_name",
            "family_name",
            "password_hash",
            "disabled",
            "created_at",
            "updated_at",
            "name_norm",
        ],
    );
    let mut others = 0;
    for i in 0..opts.users {
        let org = owner(i, opts.users, big_users, opts.orgs, &mut others);
        let given = GIVEN[i % GIVEN.len()];
        let family = FAMILY[(i / GIVEN.len()) % FAMILY.len()];
        let username = format!("user{i:07}");
        let email = format!("User{i:07}@Scale.Test");
        let name = format!("{given} {family}");
        let row = vec![
            Val::Text(new_id()),
            Val::Text(org_ids[org].clone()),
            Val::Text(username.clone()),
            Val::Text(normalize_login(&username)),
            Val::Text(email.clone()),
            Val::Text(normalize_login(&email)),
            Val::Int(1),
            Val::Text(name.clone()),
            Val::OptText(Some(given.to_string())),
            Val::OptText(Some(family.to_string())),
            Val::OptText(Some(phc.clone())),
            Val::Int(0),
            Val::Int(now),
            Val::Int(now),
            Val::Text(normalize_login(&name)),
        ];
        users.push(&mut conn, row).await?;
    }
    let users_timing = users.finish(&mut conn).await?;

    let database_bytes = match backend {
        Backend::Sqlite => {
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                .await
                .context("checkpointing the WAL")?;
            sqlite_path(&opts.database_url)
                .and_then(|p| std::fs::metadata(p).ok())
                .map(|m| m.len())
        }
        Backend::Postgres => {
            // What autovacuum would do within a minute of such a load; without it the planner
            // would guess on empty-table statistics for the first requests.
            conn.execute("ANALYZE").await.context("ANALYZE")?;
            let row =
                sqlx::query("SELECT CAST(pg_database_size(current_database()) AS BIGINT) AS n")
                    .fetch_one(&mut conn)
                    .await
                    .context("reading the database size")?;
            sqlx::Row::try_get::<i64, _>(&row, "n")
                .ok()
                .and_then(|n| u64::try_from(n).ok())
        }
    };
    conn.close().await.context("closing the connection")?;

    let tables = vec![
        orgs_timing,
        keys_timing,
        clients_timing,
        secrets_timing,
        users_timing,
    ];
    let rows: usize = tables.iter().map(|t| t.rows).sum();
    let total_seconds = started.elapsed().as_secs_f64();
    Ok(Seeded {
        backend: match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        },
        orgs: opts.orgs,
        users: opts.users,
        clients: opts.clients,
        big_org: BIG_ORG,
        big_org_users: big_users,
        big_org_clients: big_clients,
        password: PASSWORD,
        tables,
        total_seconds,
        rows_per_s: rows as f64 / total_seconds.max(1e-9),
        database_bytes,
    })
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A list of strings as the store writes it (`serde_json`).
fn json_list(items: &[&str]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

/// The file behind a `sqlite://PATH[?...]` URL.
fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    Some(rest.split('?').next().unwrap_or(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_give_the_big_org_its_exact_share_spread_out() {
        let (total, orgs) = (1_000, 11);
        let big = big_count(total, 0.1, orgs);
        assert_eq!(big, 100);
        let mut others = 0;
        let owners: Vec<usize> = (0..total)
            .map(|i| owner(i, total, big, orgs, &mut others))
            .collect();
        assert_eq!(owners.iter().filter(|&&o| o == 0).count(), 100);
        // Spread: every run of 20 rows holds two of the big org's.
        for chunk in owners.chunks(20) {
            assert_eq!(chunk.iter().filter(|&&o| o == 0).count(), 2);
        }
        for org in 1..orgs {
            assert_eq!(owners.iter().filter(|&&o| o == org).count(), 90);
        }
    }

    #[test]
    fn one_org_holds_everything() {
        let mut others = 0;
        assert_eq!(big_count(100, 0.1, 1), 100);
        assert!((0..100).all(|i| owner(i, 100, 100, 1, &mut others) == 0));
    }

    #[test]
    fn sqlite_paths() {
        assert_eq!(
            sqlite_path("sqlite:///tmp/x.db?mode=rwc"),
            Some("/tmp/x.db")
        );
        assert_eq!(sqlite_path("sqlite://./x.db"), Some("./x.db"));
        assert_eq!(sqlite_path("postgres://h/db"), None);
    }
}

//! First run: until the installation has a console account, `clavex serve` prints a set-up link
//! that lets whoever reads the server's output create the first superadmin.
//!
//! The link's token is a MAC under the master key, so every node and every restart print the same
//! link without storing anything, and it stops working by itself once any console account exists
//! (however it was made: this link, `clavex admin create` or the bootstrap variables).

use clavex_crypto::secret;
use clavex_store::PageRequest;

use crate::{
    Actor, Core, CoreError, CoreResult,
    console::{CreateConsoleAdmin, CreatedConsoleAdmin},
};

/// Where the set-up page lives, below `P`.
pub const SETUP_PATH: &str = "/admin/setup";

impl Core {
    /// Whether any console account exists.
    pub async fn has_console_accounts(&self) -> CoreResult<bool> {
        let console = self.ensure_console_org().await?;
        let page = self
            .store
            .list_users(&console.id, None, PageRequest::first(1))
            .await?;
        Ok(!page.items.is_empty())
    }

    /// The set-up token of this installation.
    pub fn first_run_token(&self) -> String {
        let key = self.master_key.derive("console-first-run");
        secret::mac(&key, b"first superadmin")
    }

    /// The link to print, or None once a console account exists.
    pub async fn first_run_link(&self) -> CoreResult<Option<String>> {
        if self.has_console_accounts().await? {
            return Ok(None);
        }
        Ok(Some(format!(
            "{}{SETUP_PATH}?token={}",
            self.settings.public_url,
            self.first_run_token()
        )))
    }

    /// Whether `token` is this installation's set-up token and still usable.
    pub async fn first_run_open(&self, token: &str) -> CoreResult<bool> {
        let key = self.master_key.derive("console-first-run");
        if !secret::verify_mac(&key, b"first superadmin", token) {
            return Ok(false);
        }
        Ok(!self.has_console_accounts().await?)
    }

    /// Creates the first superadmin with the set-up token. Refused once any account exists.
    pub async fn first_run_create(
        &self,
        token: &str,
        username: String,
        password: String,
        source_ip: Option<String>,
    ) -> CoreResult<CreatedConsoleAdmin> {
        if !self.first_run_open(token).await? {
            return Err(CoreError::Forbidden(
                "this set-up link has been used or is not valid",
            ));
        }
        let actor = Actor {
            source_ip,
            label: "first-run".into(),
            ..Actor::system()
        };
        self.create_console_admin(
            &actor,
            CreateConsoleAdmin {
                username,
                email: None,
                name: None,
                password: Some(password),
                superadmin: Some(true),
                orgs: None,
            },
        )
        .await
    }
}

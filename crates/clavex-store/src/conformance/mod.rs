//! The conformance suite: one async function per rule of the storage contract (`contract.rs`).
//!
//! Every backend runs every case on a fresh store; a backend's test file is a few lines that hand
//! the suite a migrated store (see `tests/store/conformance.rs`, which expands
//! [`conformance_cases!`](crate::conformance_cases) into one `#[tokio::test]` per case). Cases
//! take an `Arc<dyn Store>` so that the concurrency cases can `tokio::spawn` real parallel tasks.
//!
//! Rules for cases:
//! - each case creates its own uniquely named orgs, so cases never depend on each other or on
//!   what else is in the store (they may run against a shared store);
//! - each assertion compares with a value the store could get wrong (whole records, exact
//!   errors, exact counts); a case fails by panicking;
//! - a case is listed once, in `conformance_cases!` below; an unlisted case is dead code and
//!   fails the build under `-D warnings`.

#![expect(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "the conformance suite is test code: a broken rule fails the case by panicking"
)]

use std::{future::Future, pin::Pin, sync::Arc};

use crate::Store;

#[macro_use]
mod support;

mod admin_tokens;
mod atomicity;
mod clients;
mod concurrency;
mod console;
mod events;
mod grants;
mod groups;
mod isolation;
mod keys;
mod maintenance;
mod orgs;
mod pagination;
mod signin;
mod users;

/// One case, boxed so that cases can be kept in a table.
pub type Case = fn(Arc<dyn Store>) -> Pin<Box<dyn Future<Output = ()> + Send>>;

/// Hands every case of the suite, as `module::case` paths relative to
/// `clavex_store::conformance`, to the macro `$callback`. A backend's runner defines a macro that
/// turns the list into one test per case (each case is re-exported as `conformance::<case>`).
#[macro_export]
macro_rules! conformance_cases {
    ($callback:ident) => {
        $callback! {
            // Orgs.
            orgs::org_create_get_list_round_trip,
            orgs::org_missing_lookups_are_none,
            orgs::org_slug_conflict,
            orgs::org_update_replaces_only_mutable_fields,
            orgs::org_update_missing_is_not_found,
            orgs::org_delete_then_missing,
            orgs::org_list_only_returns_that_org,
            orgs::org_delete_cascades_to_everything_under_it,
            // Admin tokens.
            admin_tokens::admin_token_round_trip,
            admin_tokens::admin_token_name_conflict,
            admin_tokens::ensure_admin_token_is_idempotent_and_replaces_hash,
            // Clients.
            clients::client_round_trip,
            clients::client_missing_lookups_are_none,
            clients::client_id_conflict_within_org,
            clients::client_update_round_trip,
            clients::client_update_missing_is_not_found,
            clients::client_delete_removes_client_and_secrets,
            clients::client_delete_revokes_grants_and_drops_codes,
            clients::client_secret_rotation_with_grace,
            clients::client_secret_rotation_without_grace,
            clients::client_secret_rotation_never_extends_an_earlier_expiry,
            clients::client_secret_rotation_of_missing_client_is_not_found,
            // Users.
            users::user_update_ends_sessions_on_password_change_or_disable,
            users::user_round_trip,
            users::user_missing_lookups_are_none,
            users::username_conflict_is_case_insensitive,
            users::email_conflict_is_case_insensitive,
            users::user_update_round_trip,
            users::user_update_into_a_taken_name_is_conflict,
            users::user_update_missing_is_not_found,
            users::user_delete_removes_user_and_memberships,
            users::find_user_by_login_username_or_email,
            users::find_user_by_login_prefers_username,
            users::list_users_search_is_case_insensitive_substring,
            users::list_users_search_treats_wildcards_literally,
            // Groups.
            groups::group_round_trip,
            groups::group_name_conflict_within_org,
            groups::group_delete_removes_group_and_memberships,
            groups::group_membership_add_remove_list,
            groups::group_membership_add_is_idempotent,
            groups::group_membership_across_orgs_is_not_found,
            groups::user_group_names_are_sorted,
            // Signing keys.
            keys::signing_key_first_key_round_trip,
            keys::signing_key_rotation_retires_and_expires_old_key,
            keys::signing_key_rotation_keeps_earlier_retirements,
            // Events.
            events::event_append_round_trip,
            events::event_filters_narrow_the_list,
            events::event_written_with_each_mutation,
            // Tenant isolation.
            isolation::same_names_in_two_orgs_succeed,
            isolation::clients_of_another_org_are_untouchable,
            isolation::users_of_another_org_are_untouchable,
            isolation::groups_of_another_org_are_untouchable,
            isolation::keys_and_events_of_another_org_are_untouchable,
            isolation::grants_and_sessions_of_another_org_are_untouchable,
            // Pagination.
            pagination::pagination_orgs,
            pagination::pagination_clients,
            pagination::pagination_users,
            pagination::pagination_users_with_search,
            pagination::pagination_groups,
            pagination::pagination_group_members,
            pagination::pagination_events,
            pagination::pagination_position_from_another_org,
            // Atomicity.
            atomicity::failed_create_writes_no_event,
            atomicity::failed_update_changes_nothing,
            atomicity::mutation_whose_event_fails_is_rolled_back,
            atomicity::create_org_whose_key_fails_is_rolled_back,
            // Concurrency.
            concurrency::concurrent_create_user_all_succeed,
            concurrency::concurrent_create_user_same_username_one_wins,
            concurrency::concurrent_add_group_member_one_wins,
            concurrency::concurrent_create_org_same_slug_one_wins,
            concurrency::concurrent_ensure_admin_token_one_changes,
            concurrency::concurrent_redeem_code_one_wins,
            concurrency::concurrent_rotate_refresh_token_one_wins,
            // Codes, grants and tokens.
            grants::code_round_trip,
            grants::code_redeem_then_replay_revokes_grant,
            grants::grant_round_trip_and_revoke,
            grants::refresh_rotation_then_reuse_revokes_grant,
            grants::access_token_revocation,
            grants::token_state_reads_grant_user_and_groups,
            // Sign-in state.
            signin::auth_request_round_trip_and_expiry,
            signin::session_round_trip_expiry_and_delete,
            signin::throttle_put_get_clear,
            // Console.
            console::console_account_created_with_grants_whole_or_not_at_all,
            console::console_account_round_trip,
            console::console_account_conflict_writes_nothing,
            console::console_set_superadmin_is_idempotent,
            console::console_org_admin_grant_list_revoke,
            console::console_org_admin_grant_missing_is_not_found,
            console::console_delete_user_removes_rights_and_sessions,
            console::console_delete_org_removes_grants_not_accounts,
            console::console_session_round_trip_expiry_and_delete,
            console::console_mutation_whose_event_fails_is_rolled_back,
            console::list_orgs_only_lists_those_ids,
            console::list_orgs_only_paginates,
            console::console_org_is_never_listed,
            // Background clean-up.
            maintenance::purge_removes_expired_rows_and_keeps_live_ones,
            maintenance::purge_removes_events_older_than_the_retention,
            // The store itself.
            orgs::ping_answers,
        }
    };
}

macro_rules! define_cases {
    ($($module:ident :: $case:ident),* $(,)?) => {
        $(pub use $module::$case;)*

        /// Every case with its name, for callers that want to run the suite in a loop.
        pub const CASES: &[(&str, Case)] = &[
            $((stringify!($case), |store| Box::pin($module::$case(store)))),*
        ];
    };
}

crate::conformance_cases!(define_cases);

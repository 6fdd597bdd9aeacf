//! The Admin REST API under `/api/v1`, one module per resource. Every handler authenticates with
//! `Admin`, calls one core function and maps the result; none holds logic of its own.

pub mod admins;
pub mod clients;
pub mod events;
pub mod groups;
pub mod keys;
pub mod orgs;
pub mod users;

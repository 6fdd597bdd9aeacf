//! The Admin Console at `/admin`, over HTTP as a browser without JavaScript would use it: sign-in
//! through the console's own issuer, every page's authorization rules and CSRF refusals.

mod accounts;
mod clients;
mod groups;
mod keys;
mod orgs;
mod setup;
mod signin;
mod support;
mod users;

mod seed_step1;

mod admins;
mod audit;
mod auth;
mod clients;
mod common;
mod errors;
mod events;
mod groups;
mod keys;
mod openapi;
mod organizations;
mod pagination;
mod proxies;
mod request_id;
mod users;

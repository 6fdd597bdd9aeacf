//! Starts a real Clavex server on 127.0.0.1:0 over a fresh SQLite file or PostgreSQL database

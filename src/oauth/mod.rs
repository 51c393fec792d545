//! OAuth2 for the mailbox and the outbox: Microsoft 365 and Google accounts log in with
//! access tokens (SASL XOAUTH2 or OAUTHBEARER) instead of passwords, which both providers
//! have switched off. This layer gets and keeps those tokens ([`tokens`]), asks the
//! providers for them ([`grant`], over [`http`], signing assertions with [`jwt`]), seals
//! refresh tokens at rest ([`vault`]), speaks the SASL mechanisms ([`sasl`]), runs the
//! sign-in a person does once ([`login`]), and says, loudly, when an account needs a person
//! ([`health`]).

pub mod grant;
pub mod health;
pub mod http;
pub mod jwt;
pub mod login;
pub mod sasl;
pub mod tokens;
pub mod vault;

pub use tokens::{AccessToken, TokenError, TokenSource};

//! Detection: evaluating a rule's typed matches ([`crate::rules::Detection`]) against
//! packets and buffers.

pub mod payload;
pub mod pcre;

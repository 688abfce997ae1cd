//! The webhook signature, both ways: `Switchyard-Signature: t=<unix seconds>,v1=<hex>` where
//! the hex is HMAC-SHA256 over `<t>.<deploy id>.<body>` with the shared secret. The deploy is
//! signed, so a signature made for one deploy is worth nothing for another; the timestamp is
//! signed, so a captured request is refused once it is older than the allowed skew; an event's
//! body carries its attempt and sequence number, so a replay within the skew is refused too.
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

pub const HEADER: &str = "switchyard-signature";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("the Switchyard-Signature header is missing")]
    Missing,
    #[error("the Switchyard-Signature header is not `t=<unix seconds>,v1=<hex>`")]
    Malformed,
    #[error("the signature's timestamp is {0} s away from now: the request is stale")]
    Stale(i64),
    #[error("the signature does not match the body and the deploy")]
    Mismatch,
}

fn mac(secret: &[u8], timestamp: i64, deploy: Uuid, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length: this cannot fail
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(format!("{timestamp}.{deploy}.").as_bytes());
    mac.update(body);
    mac
}

/// The header value for `body`, about `deploy`, signed at `timestamp`.
pub fn sign(secret: &[u8], timestamp: i64, deploy: Uuid, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", hex::encode(mac(secret, timestamp, deploy, body).finalize().into_bytes()))
}

/// Checks a header against `body` about `deploy` at `now`, in constant time.
pub fn verify(secret: &[u8], header: Option<&str>, deploy: Uuid, body: &[u8], now: i64, max_skew_secs: i64) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut signature = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => signature = hex::decode(v).ok(),
            _ => {}
        }
    }
    let (Some(timestamp), Some(signature)) = (timestamp, signature) else { return Err(SignatureError::Malformed) };
    let skew = now - timestamp;
    if skew.abs() > max_skew_secs {
        return Err(SignatureError::Stale(skew));
    }
    mac(secret, timestamp, deploy, body).verify_slice(&signature).map_err(|_| SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_796_000_000;
    const A: Uuid = Uuid::from_u128(1);
    const B: Uuid = Uuid::from_u128(2);

    #[test]
    fn a_signed_body_verifies() {
        let h = sign(b"s3cret", NOW, A, b"{\"type\":\"log\"}");
        assert_eq!(verify(b"s3cret", Some(&h), A, b"{\"type\":\"log\"}", NOW + 5, 300), Ok(()));
    }

    #[test]
    fn tampering_a_wrong_key_deploy_or_age_is_refused() {
        let ok = b"{\"type\":\"succeeded\"}";
        let h = sign(b"s3cret", NOW, A, ok);
        assert_eq!(verify(b"s3cret", Some(&h), A, b"{\"type\":\"failed\"}", NOW, 300), Err(SignatureError::Mismatch));
        assert_eq!(verify(b"s3cret", Some(&h), B, ok, NOW, 300), Err(SignatureError::Mismatch), "signed for another deploy");
        assert_eq!(verify(b"other", Some(&h), A, ok, NOW, 300), Err(SignatureError::Mismatch));
        assert_eq!(verify(b"s3cret", Some(&h), A, ok, NOW + 301, 300), Err(SignatureError::Stale(301)));
        assert_eq!(verify(b"s3cret", Some("v1=00"), A, b"", NOW, 300), Err(SignatureError::Malformed));
        assert_eq!(verify(b"s3cret", None, A, b"", NOW, 300), Err(SignatureError::Missing));
    }
}

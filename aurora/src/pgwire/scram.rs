//! SCRAM-SHA-256 password authentication (RFC 5802 and RFC 7677), PostgreSQL's default since
//! version 14, as the server side of the SASL exchange.
//!
//! The server offers `SCRAM-SHA-256` only (no `-PLUS`: the listener has no TLS, so there is no
//! channel to bind). A client proves it knows the password without sending it: the server sends
//! a salt, an iteration count and its half of the nonce; the client answers with a proof derived
//! from PBKDF2-HMAC-SHA-256 of the password; the server checks it and signs the exchange so the
//! client can check the server too.
//!
//! Guarantees: [`parse_client_first`] and [`parse_client_final`] take arbitrary bytes and return
//! a typed [`ScramError`], never panic; a proof is accepted only if it matches the password, the
//! nonce is the one this exchange issued and the channel-binding header is the one the client
//! announced first. As PostgreSQL does, the user name in the SCRAM message is ignored (the
//! startup packet's user is the one authenticated).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// PBKDF2 iterations (PostgreSQL's default `scram_iterations`).
pub const ITERATIONS: u32 = 4096;

/// The mechanism name sent in AuthenticationSASL.
pub const MECHANISM: &str = "SCRAM-SHA-256";

/// Why a SCRAM message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScramError {
    /// The message does not follow the SCRAM grammar.
    #[error("malformed SCRAM message: {0}")]
    Malformed(&'static str),
    /// The client asked for channel binding, which this server cannot offer.
    #[error("channel binding is not supported without SSL")]
    ChannelBinding,
    /// The nonce or the channel-binding data differ from the first message.
    #[error("SCRAM exchange does not match the first message")]
    Mismatch,
    /// The proof does not match the password.
    #[error("password authentication failed")]
    WrongProof,
}

/// The client-first-message: its GS2 header and the bare part the signatures cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientFirst {
    /// `n,,` or `y,,` (the client supports binding but thinks the server does not).
    pub gs2_header: String,
    /// `n=…,r=…` as sent.
    pub bare: String,
    /// The client's nonce.
    pub nonce: String,
}

/// The client-final-message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientFinal {
    /// The base64 channel-binding attribute (`c=`).
    pub channel_binding: String,
    /// The full nonce (`r=`).
    pub nonce: String,
    /// The message without its proof (the signatures cover it).
    pub without_proof: String,
    /// The decoded proof.
    pub proof: Vec<u8>,
}

fn printable(s: &str) -> bool {
    // RFC 5802: a nonce is printable ASCII except ','.
    !s.is_empty() && s.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b',')
}

/// Parses a client-first-message.
pub fn parse_client_first(data: &[u8]) -> Result<ClientFirst, ScramError> {
    let text = std::str::from_utf8(data).map_err(|_| ScramError::Malformed("not UTF-8"))?;
    let (flag, rest) = text
        .split_once(',')
        .ok_or(ScramError::Malformed("no GS2 header"))?;
    match flag {
        "n" | "y" => {}
        f if f.starts_with("p=") => return Err(ScramError::ChannelBinding),
        _ => return Err(ScramError::Malformed("unknown channel-binding flag")),
    }
    let (authzid, bare) = rest
        .split_once(',')
        .ok_or(ScramError::Malformed("no GS2 header"))?;
    if !authzid.is_empty() && !authzid.starts_with("a=") {
        return Err(ScramError::Malformed("bad authorization identity"));
    }
    let mut attrs = bare.split(',');
    match attrs.next() {
        Some(n) if n.starts_with("n=") => {}
        Some(m) if m.starts_with("m=") => {
            return Err(ScramError::Malformed(
                "mandatory extensions are not supported",
            ));
        }
        _ => return Err(ScramError::Malformed("no user name attribute")),
    }
    let nonce = attrs
        .next()
        .and_then(|r| r.strip_prefix("r="))
        .ok_or(ScramError::Malformed("no nonce"))?;
    if !printable(nonce) {
        return Err(ScramError::Malformed("bad nonce"));
    }
    Ok(ClientFirst {
        gs2_header: format!("{flag},{authzid},"),
        bare: bare.to_string(),
        nonce: nonce.to_string(),
    })
}

/// Parses a client-final-message.
pub fn parse_client_final(data: &[u8]) -> Result<ClientFinal, ScramError> {
    let text = std::str::from_utf8(data).map_err(|_| ScramError::Malformed("not UTF-8"))?;
    let (without_proof, proof) = text
        .rsplit_once(",p=")
        .ok_or(ScramError::Malformed("no proof"))?;
    let mut attrs = without_proof.split(',');
    let channel_binding = attrs
        .next()
        .and_then(|c| c.strip_prefix("c="))
        .ok_or(ScramError::Malformed("no channel binding attribute"))?;
    let nonce = attrs
        .next()
        .and_then(|r| r.strip_prefix("r="))
        .ok_or(ScramError::Malformed("no nonce"))?;
    let proof = B64
        .decode(proof)
        .map_err(|_| ScramError::Malformed("proof is not base64"))?;
    if proof.len() != 32 {
        return Err(ScramError::Malformed("proof has the wrong length"));
    }
    Ok(ClientFinal {
        channel_binding: channel_binding.to_string(),
        nonce: nonce.to_string(),
        without_proof: without_proof.to_string(),
        proof,
    })
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return [0; 32],
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// PBKDF2-HMAC-SHA-256 with one output block (SCRAM's `Hi`).
pub fn salted_password(password: &str, salt: &[u8], iterations: u32) -> [u8; 32] {
    let key = password.as_bytes();
    let mut u = hmac(key, &[salt, &1u32.to_be_bytes()]);
    let mut out = u;
    for _ in 1..iterations {
        u = hmac(key, &[&u]);
        for (o, x) in out.iter_mut().zip(u) {
            *o ^= x;
        }
    }
    out
}

/// The server side of one exchange.
#[derive(Debug, Clone)]
pub struct ScramServer {
    salted: [u8; 32],
    salt: Vec<u8>,
    iterations: u32,
    server_nonce: String,
    first: Option<(ClientFirst, String)>,
}

impl ScramServer {
    /// An exchange for `password`, with this connection's salt and server nonce (both from the
    /// engine's id generator).
    pub fn new(password: &str, salt: &[u8], server_nonce: &[u8]) -> ScramServer {
        ScramServer {
            salted: salted_password(password, salt, ITERATIONS),
            salt: salt.to_vec(),
            iterations: ITERATIONS,
            server_nonce: B64.encode(server_nonce),
            first: None,
        }
    }

    /// Answers the client-first-message with the server-first-message.
    pub fn first(&mut self, data: &[u8]) -> Result<String, ScramError> {
        let client = parse_client_first(data)?;
        let server_first = format!(
            "r={}{},s={},i={}",
            client.nonce,
            self.server_nonce,
            B64.encode(&self.salt),
            self.iterations
        );
        self.first = Some((client, server_first.clone()));
        Ok(server_first)
    }

    /// Checks the client-final-message; on success returns the server-final-message.
    pub fn finish(&self, data: &[u8]) -> Result<String, ScramError> {
        let (client_first, server_first) = self.first.as_ref().ok_or(ScramError::Mismatch)?;
        let fin = parse_client_final(data)?;
        if fin.nonce != format!("{}{}", client_first.nonce, self.server_nonce)
            || fin.channel_binding != B64.encode(&client_first.gs2_header)
        {
            return Err(ScramError::Mismatch);
        }
        let auth_message = format!(
            "{},{},{}",
            client_first.bare, server_first, fin.without_proof
        );
        let client_key = hmac(&self.salted, &[b"Client Key"]);
        let stored_key: [u8; 32] = Sha256::digest(client_key).into();
        let signature = hmac(&stored_key, &[auth_message.as_bytes()]);
        let recovered: Vec<u8> = fin
            .proof
            .iter()
            .zip(signature)
            .map(|(p, s)| p ^ s)
            .collect();
        let check: [u8; 32] = Sha256::digest(&recovered).into();
        // Compare without stopping at the first difference.
        let diff = check
            .iter()
            .zip(stored_key)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if diff != 0 {
            return Err(ScramError::WrongProof);
        }
        let server_key = hmac(&self.salted, &[b"Server Key"]);
        let server_signature = hmac(&server_key, &[auth_message.as_bytes()]);
        Ok(format!("v={}", B64.encode(server_signature)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A client side written from RFC 5802, to drive the server.
    fn client_final(password: &str, client_first_bare: &str, server_first: &str) -> String {
        let attrs: Vec<&str> = server_first.split(',').collect();
        let nonce = attrs[0].trim_start_matches("r=");
        let salt = B64.decode(attrs[1].trim_start_matches("s=")).unwrap();
        let iterations: u32 = attrs[2].trim_start_matches("i=").parse().unwrap();
        let salted = salted_password(password, &salt, iterations);
        let without_proof = format!("c=biws,r={nonce}");
        let auth = format!("{client_first_bare},{server_first},{without_proof}");
        let client_key = hmac(&salted, &[b"Client Key"]);
        let stored: [u8; 32] = Sha256::digest(client_key).into();
        let sig = hmac(&stored, &[auth.as_bytes()]);
        let proof: Vec<u8> = client_key.iter().zip(sig).map(|(k, s)| k ^ s).collect();
        format!("{without_proof},p={}", B64.encode(proof))
    }

    #[test]
    fn rfc_7677_test_vector() {
        // RFC 7677 §3: user "user", password "pencil".
        let mut server = ScramServer {
            salted: salted_password(
                "pencil",
                &B64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap(),
                4096,
            ),
            salt: B64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap(),
            iterations: 4096,
            server_nonce: "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0".into(),
            first: None,
        };
        let first = server.first(b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO").unwrap();
        assert_eq!(
            first,
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
        );
        let fin = server
            .finish(b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
            .unwrap();
        assert_eq!(fin, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    }

    #[test]
    fn a_wrong_password_a_foreign_nonce_and_channel_binding_are_refused() {
        let mut s = ScramServer::new("right", b"salty-salt-16byt", b"server-nonce");
        let bare = "n=,r=abc";
        let first = s.first(format!("n,,{bare}").as_bytes()).unwrap();
        let wrong = client_final("wrong", bare, &first);
        assert_eq!(s.finish(wrong.as_bytes()), Err(ScramError::WrongProof));
        let right = client_final("right", bare, &first);
        assert!(s.finish(right.as_bytes()).unwrap().starts_with("v="));
        let forged = right.replace("r=abc", "r=xyz");
        assert_eq!(s.finish(forged.as_bytes()), Err(ScramError::Mismatch));
        assert_eq!(
            parse_client_first(b"p=tls-server-end-point,,n=,r=a"),
            Err(ScramError::ChannelBinding)
        );
    }

    proptest! {
        #[test]
        fn parsers_never_panic(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_client_first(&data);
            let _ = parse_client_final(&data);
            // PBKDF2 once per case would dominate: a one-round server parses the same way.
            let mut s = ScramServer {
                salted: salted_password("pw", b"salt", 1),
                salt: b"salt".to_vec(),
                iterations: 1,
                server_nonce: "nonce".into(),
                first: None,
            };
            let _ = s.first(&data);
            let _ = s.finish(&data);
        }

        #[test]
        fn a_well_formed_first_message_round_trips(
            nonce in "[!-+--~]{1,40}",
            user in "[a-z]{0,10}",
        ) {
            let msg = format!("n,,n={user},r={nonce}");
            let parsed = parse_client_first(msg.as_bytes()).unwrap();
            prop_assert_eq!(parsed.nonce, nonce.clone());
            prop_assert_eq!(format!("{}{}", parsed.gs2_header, parsed.bare), msg);
        }
    }

    proptest! {
        // Each case runs PBKDF2 twice (4096 rounds each): few cases.
        #![proptest_config(ProptestConfig::with_cases(12))]
        #[test]
        fn any_password_authenticates_against_itself(password in "\\PC{0,20}", nonce in "[a-zA-Z0-9]{1,24}") {
            let mut s = ScramServer::new(&password, b"0123456789abcdef", b"srv");
            let bare = format!("n=,r={nonce}");
            let first = s.first(format!("n,,{bare}").as_bytes()).unwrap();
            let fin = client_final(&password, &bare, &first);
            prop_assert!(s.finish(fin.as_bytes()).is_ok());
        }
    }
}

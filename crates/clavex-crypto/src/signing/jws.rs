//! Compact JWS verification (RFC 7515 §5.2) and header peeking.
//!
//! Verification picks the key by `kid` among keys the caller trusts and requires the header's
//! `alg` to be that key's own algorithm. Must never accept `alg: none`, an `alg` the key was not
//! made for, a `crit` header, an unsigned or unidentified token, or return claims before the
//! signature has verified. No time checks happen here: the caller checks `exp`/`iss`/`aud`.

use serde_json::{Map, Value};

use super::{Algorithm, VerifyingKey, shorten};
use crate::{CryptoError, b64};

/// Longest token accepted, in bytes: far above any token Clavex issues, and low enough that a
/// hostile value costs little to refuse.
const MAX_TOKEN_LEN: usize = 64 * 1024;

/// The three base64url segments of a compact JWS.
struct Compact<'a> {
    header: &'a str,
    payload: &'a str,
    signature: &'a str,
}

impl<'a> Compact<'a> {
    fn split(token: &'a str) -> Result<Self, CryptoError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(CryptoError::MalformedToken(format!(
                "longer than {MAX_TOKEN_LEN} bytes"
            )));
        }
        let mut parts = token.split('.');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(header), Some(payload), Some(signature), None) => Ok(Self {
                header,
                payload,
                signature,
            }),
            _ => Err(CryptoError::MalformedToken(
                "a compact JWS has exactly three dot-separated parts".into(),
            )),
        }
    }

    /// The bytes the signature covers: ASCII `header.payload`.
    fn signing_input(&self, token: &'a str) -> &'a [u8] {
        let len = self.header.len() + 1 + self.payload.len();
        token.as_bytes().get(..len).unwrap_or_default()
    }
}

/// Decodes one base64url segment holding a JSON object.
fn json_object(segment: &str, what: &str) -> Result<Map<String, Value>, CryptoError> {
    let bytes = b64::decode(segment)
        .ok_or_else(|| CryptoError::MalformedToken(format!("{what} is not base64url")))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(members)) => Ok(members),
        Ok(_) => Err(CryptoError::MalformedToken(format!(
            "{what} is not a JSON object"
        ))),
        Err(e) => Err(CryptoError::MalformedToken(format!(
            "{what} is not JSON ({e})"
        ))),
    }
}

/// The decoded header of a compact JWS, **without** any verification: only for choosing what to
/// do next (e.g. which org's keys to load), never for trusting anything in it.
///
/// # Errors
/// [`CryptoError::MalformedToken`] if the token does not have three parts or its header is not a
/// base64url JSON object.
pub fn decode_unverified_header(token: &str) -> Result<Value, CryptoError> {
    let compact = Compact::split(token)?;
    json_object(compact.header, "header").map(Value::Object)
}

/// Verifies a compact JWS signed by one of `keys` and returns its claims (a JSON object).
///
/// The key is the one whose kid equals the header's `kid`; the header's `alg` must be exactly
/// that key's algorithm, so neither `none` nor algorithm substitution can get through. Only the
/// signature is checked: expiry, issuer and audience are the caller's to check, with its clock.
///
/// # Errors
/// [`CryptoError::MalformedToken`] (format, `crit` present, claims not an object),
/// [`CryptoError::AlgorithmRefused`] (`none`, unknown, or not the key's),
/// [`CryptoError::UnknownKey`] (no `kid`, or not among `keys`),
/// [`CryptoError::InvalidSignature`].
pub fn verify_jwt(token: &str, keys: &[VerifyingKey]) -> Result<Value, CryptoError> {
    let compact = Compact::split(token)?;
    let header = json_object(compact.header, "header")?;

    let alg = match header.get("alg") {
        Some(Value::String(alg)) => alg.as_str(),
        Some(_) => {
            return Err(CryptoError::MalformedToken(
                "\"alg\" is not a string".into(),
            ));
        }
        None => return Err(CryptoError::MalformedToken("header has no \"alg\"".into())),
    };
    if alg.eq_ignore_ascii_case("none") {
        return Err(CryptoError::AlgorithmRefused(
            "unsigned tokens (alg none) are never accepted".into(),
        ));
    }
    let alg: Algorithm = alg.parse().map_err(|_| {
        CryptoError::AlgorithmRefused(format!(
            "{:?} is not one of RS256, ES256, EdDSA",
            shorten(alg)
        ))
    })?;
    // RFC 7515 §4.1.11: extensions listed in "crit" must be understood; Clavex understands none.
    if header.contains_key("crit") {
        return Err(CryptoError::MalformedToken(
            "critical header extensions (\"crit\") are not supported".into(),
        ));
    }

    let kid = match header.get("kid") {
        Some(Value::String(kid)) => kid.as_str(),
        Some(_) => {
            return Err(CryptoError::MalformedToken(
                "\"kid\" is not a string".into(),
            ));
        }
        None => {
            return Err(CryptoError::UnknownKey(
                "the token names no key (no \"kid\")".into(),
            ));
        }
    };
    // Among the keys with this kid, the one of this alg; a kid that exists only under another
    // algorithm is an algorithm-substitution attempt (or a broken client), not an unknown key.
    let mut named = keys.iter().filter(|key| key.kid() == kid).peekable();
    let Some(&first) = named.peek() else {
        return Err(CryptoError::UnknownKey(format!(
            "kid {:?} is not a trusted key",
            shorten(kid)
        )));
    };
    let key = named.find(|key| key.alg() == alg).ok_or_else(|| {
        CryptoError::AlgorithmRefused(format!(
            "token says {alg} but key {:?} is {}",
            shorten(kid),
            first.alg()
        ))
    })?;

    let signature = b64::decode(compact.signature)
        .ok_or_else(|| CryptoError::MalformedToken("signature is not base64url".into()))?;
    key.verify_signature(compact.signing_input(token), &signature)?;

    json_object(compact.payload, "claims").map(Value::Object)
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::encoding::AsDer as _;
    use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeyPairComponents, PublicKeyComponents};
    use aws_lc_rs::signature::Ed25519KeyPair;
    use serde_json::json;

    use super::*;
    use crate::signing::{SigningKey, generate, jwk_thumbprint};

    fn claims() -> Value {
        json!({"iss": "https://id.example/acme", "sub": "u1", "aud": "grafana",
               "exp": 2_000_000_000_i64, "iat": 1_700_000_000_i64, "groups": []})
    }

    fn key_pair(alg: Algorithm) -> (SigningKey, VerifyingKey) {
        let generated = generate(alg).unwrap();
        let signing = SigningKey::from_pkcs8(&generated.kid, alg, &generated.private_der).unwrap();
        let verifying = VerifyingKey::from_jwk(&generated.public_jwk).unwrap();
        (signing, verifying)
    }

    fn segment(token: &str, i: usize) -> Value {
        let part = token.split('.').nth(i).unwrap();
        serde_json::from_slice(&b64::decode(part).unwrap()).unwrap()
    }

    /// Rebuilds a token with another header, keeping payload and signature.
    fn with_header(token: &str, header: &Value) -> String {
        let mut parts = token.splitn(2, '.');
        let _ = parts.next();
        format!(
            "{}.{}",
            b64::encode(header.to_string()),
            parts.next().unwrap()
        )
    }

    #[test]
    fn generated_keys_are_well_formed() {
        for alg in Algorithm::ALL {
            let generated = generate(alg).unwrap();
            let jwk = &generated.public_jwk;
            assert_eq!(generated.alg, alg);
            assert_eq!(jwk["kid"], generated.kid.as_str());
            assert_eq!(jwk["alg"], alg.as_str());
            assert_eq!(jwk["use"], "sig");
            assert_eq!(
                jwk_thumbprint(jwk).unwrap(),
                generated.kid,
                "kid is the RFC 7638 thumbprint"
            );
            assert!(jwk.get("d").is_none());
            match alg {
                Algorithm::RS256 => {
                    assert_eq!(jwk["kty"], "RSA");
                    assert_eq!(jwk["e"], "AQAB");
                    let n = b64::decode(jwk["n"].as_str().unwrap()).unwrap();
                    assert_eq!(n.len(), 256, "2048-bit modulus");
                }
                Algorithm::ES256 => {
                    assert_eq!(jwk["kty"], "EC");
                    assert_eq!(jwk["crv"], "P-256");
                    assert_eq!(b64::decode(jwk["x"].as_str().unwrap()).unwrap().len(), 32);
                    assert_eq!(b64::decode(jwk["y"].as_str().unwrap()).unwrap().len(), 32);
                }
                Algorithm::EdDSA => {
                    assert_eq!(jwk["kty"], "OKP");
                    assert_eq!(jwk["crv"], "Ed25519");
                    assert_eq!(b64::decode(jwk["x"].as_str().unwrap()).unwrap().len(), 32);
                }
            }
            let debug = format!("{generated:?}");
            assert!(
                debug.contains("<redacted>") && !debug.contains("private_der: ["),
                "{debug}"
            );
            let signing =
                SigningKey::from_pkcs8(generated.kid.clone(), alg, &generated.private_der).unwrap();
            assert_eq!(signing.public_jwk(), jwk, "stored JWK and parsed key agree");
            assert_eq!(
                format!("{signing:?}"),
                format!(
                    "SigningKey {{ kid: {:?}, alg: {alg:?}, .. }}",
                    generated.kid
                )
            );
        }
    }

    #[test]
    fn sign_then_verify_round_trip_for_each_algorithm() {
        for alg in Algorithm::ALL {
            let (signing, verifying) = key_pair(alg);
            let token = signing.sign_jwt(&claims()).unwrap();
            assert_eq!(
                segment(&token, 0),
                json!({"alg": alg.as_str(), "typ": "JWT", "kid": signing.kid()})
            );
            if alg == Algorithm::ES256 {
                let sig = b64::decode(token.rsplit('.').next().unwrap()).unwrap();
                assert_eq!(sig.len(), 64, "ES256 signatures are fixed-length r||s");
            }
            let (_, other) = key_pair(Algorithm::EdDSA);
            assert_eq!(
                verify_jwt(&token, &[other, verifying.clone()]).unwrap(),
                claims()
            );
            assert_eq!(
                verify_jwt(&token, &[signing.verifying_key()]).unwrap(),
                claims()
            );

            let at = signing.sign_jwt_typed(&claims(), "at+jwt").unwrap();
            assert_eq!(segment(&at, 0)["typ"], "at+jwt");
            assert_eq!(verify_jwt(&at, &[verifying]).unwrap(), claims());
        }
    }

    #[test]
    fn tampered_payload_or_signature_fails() {
        for alg in Algorithm::ALL {
            let (signing, verifying) = key_pair(alg);
            let token = signing.sign_jwt(&claims()).unwrap();
            let parts: Vec<&str> = token.split('.').collect();

            let mut forged = claims();
            forged["sub"] = json!("admin");
            let tampered = format!(
                "{}.{}.{}",
                parts[0],
                b64::encode(forged.to_string()),
                parts[2]
            );
            assert_eq!(
                verify_jwt(&tampered, std::slice::from_ref(&verifying)),
                Err(CryptoError::InvalidSignature)
            );

            let mut sig = b64::decode(parts[2]).unwrap();
            sig[10] ^= 0x01;
            let tampered = format!("{}.{}.{}", parts[0], parts[1], b64::encode(sig));
            assert_eq!(
                verify_jwt(&tampered, std::slice::from_ref(&verifying)),
                Err(CryptoError::InvalidSignature)
            );

            // A header changed after signing (here: typ) breaks the signature too.
            let mut header = segment(&token, 0);
            header["typ"] = json!("at+jwt");
            assert_eq!(
                verify_jwt(&with_header(&token, &header), &[verifying]),
                Err(CryptoError::InvalidSignature)
            );
        }
    }

    #[test]
    fn alg_none_is_refused() {
        let (signing, verifying) = key_pair(Algorithm::RS256);
        let token = signing.sign_jwt(&claims()).unwrap();
        for none in ["none", "None", "NONE"] {
            let header = json!({"alg": none, "typ": "JWT", "kid": signing.kid()});
            let payload = b64::encode(claims().to_string());
            for unsigned in [
                format!("{}.{payload}.", b64::encode(header.to_string())),
                with_header(&token, &header),
            ] {
                assert!(matches!(
                    verify_jwt(&unsigned, std::slice::from_ref(&verifying)),
                    Err(CryptoError::AlgorithmRefused(_))
                ));
            }
        }
    }

    #[test]
    fn alg_other_than_the_keys_own_is_refused() {
        let (signing, verifying) = key_pair(Algorithm::RS256);
        let token = signing.sign_jwt(&claims()).unwrap();
        for alg in ["ES256", "EdDSA", "HS256", "PS256", "RS512"] {
            let header = json!({"alg": alg, "typ": "JWT", "kid": signing.kid()});
            let err = verify_jwt(
                &with_header(&token, &header),
                std::slice::from_ref(&verifying),
            );
            assert!(
                matches!(err, Err(CryptoError::AlgorithmRefused(_))),
                "{alg}: {err:?}"
            );
        }

        // A real EdDSA token whose kid points at an RSA key of the same kid is refused by alg.
        let ed = generate(Algorithm::EdDSA).unwrap();
        let impostor =
            SigningKey::from_pkcs8(signing.kid(), Algorithm::EdDSA, &ed.private_der).unwrap();
        let token = impostor.sign_jwt(&claims()).unwrap();
        assert!(matches!(
            verify_jwt(&token, &[verifying]),
            Err(CryptoError::AlgorithmRefused(_))
        ));
    }

    #[test]
    fn unknown_or_missing_kid_is_refused() {
        let (signing, _) = key_pair(Algorithm::ES256);
        let (_, stranger) = key_pair(Algorithm::ES256);
        let token = signing.sign_jwt(&claims()).unwrap();
        assert!(matches!(
            verify_jwt(&token, std::slice::from_ref(&stranger)),
            Err(CryptoError::UnknownKey(_))
        ));
        assert!(matches!(
            verify_jwt(&token, &[]),
            Err(CryptoError::UnknownKey(_))
        ));
        let header = json!({"alg": "ES256", "typ": "JWT"});
        assert!(matches!(
            verify_jwt(&with_header(&token, &header), &[stranger]),
            Err(CryptoError::UnknownKey(_))
        ));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let (signing, verifying) = key_pair(Algorithm::EdDSA);
        let token = signing.sign_jwt(&claims()).unwrap();
        let keys = [verifying];
        let parts: Vec<&str> = token.split('.').collect();
        let crit = json!({"alg": "EdDSA", "kid": signing.kid(), "crit": ["exp"], "exp": 1});
        for bad in [
            String::new(),
            "a.b".to_owned(),
            format!("{token}.x"),
            format!("{}=.{}.{}", parts[0], parts[1], parts[2]),
            format!("{}.{}.{}=", parts[0], parts[1], parts[2]),
            format!("{}.{}.{}", b64::encode("[1]"), parts[1], parts[2]),
            with_header(&token, &crit),
            "x".repeat(MAX_TOKEN_LEN + 1),
        ] {
            assert!(
                matches!(verify_jwt(&bad, &keys), Err(CryptoError::MalformedToken(_))),
                "{bad:.60}"
            );
        }
        // Claims must be an object, even when validly signed.
        let not_object = format!("{}.{}", parts[0], b64::encode("[1,2]"));
        let sig = signing.sign_raw(not_object.as_bytes()).unwrap();
        let not_object = format!("{not_object}.{}", b64::encode(sig));
        assert!(matches!(
            verify_jwt(&not_object, &keys),
            Err(CryptoError::MalformedToken(_))
        ));
        assert!(signing.sign_jwt(&json!([1])).is_err());
    }

    #[test]
    fn unverified_header_is_readable() {
        let (signing, _) = key_pair(Algorithm::EdDSA);
        let token = signing.sign_jwt(&claims()).unwrap();
        let header = decode_unverified_header(&token).unwrap();
        assert_eq!(header["kid"], signing.kid());
        assert!(decode_unverified_header("nope").is_err());
    }

    #[test]
    fn foreign_keys_are_refused_at_parse() {
        let ed = generate(Algorithm::EdDSA).unwrap();
        let err = SigningKey::from_pkcs8("k1", Algorithm::RS256, &ed.private_der).err();
        assert!(
            matches!(&err, Some(CryptoError::InvalidPrivateKey { kid, alg: "RS256", .. }) if kid == "k1"),
            "{err:?}"
        );
        assert!(SigningKey::from_pkcs8("k1", Algorithm::ES256, &ed.private_der).is_err());
        assert!(SigningKey::from_pkcs8("k1", Algorithm::EdDSA, b"junk").is_err());
    }

    // --- Published test vectors: a second opinion independent of our own signer. ---

    const RFC7515_PAYLOAD: &str = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";

    /// RFC 7515 Appendix A.2: RS256 is deterministic, so signing the example input with the
    /// example key must give the published signature byte for byte, and it must verify.
    #[test]
    fn rfc7515_a2_rs256_vector() {
        let n = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
        let d = "Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97IjlA7_GQ5sLKMgvfTeXZx9SE-7YwVol2NXOoAJe46sui395IW_GO-pWJ1O0BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn439X0M_V51gfpRLI9JYanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x_jTj3ccPDVZFD9pIuhLhBOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ";
        let p = "4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdiYrqBdss1l58BQ3KhooKeQTa9AB0Hw_Py5PJdTJNPY8cQn7ouZ2KKDcmnPGBY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc";
        let q = "uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYsp1ZSe7zFYHj7C6ul7TjeLQeZD_YwD66t62wDmpe_HlB-TnBA-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc";
        let dp = "BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3QCLdhrqE2e9YkxvuxdBfpT_PI7Yz-FOKnu1R6HsJeDCjn12Sk3vmAktV2zb34MCdy7cpdTh_YVr7tss2u6vneTwrA86rZtu5Mbr1C1XsmvkxHQAdYo0";
        let dq = "h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa7I9xXDoRwbKgB719rrmI2oKr6N3Do9U0ajaHF-NKJnwgjMd2w9cjz3_-kyNlxAr2v4IKhGNpmM5iIgOS1VZnOZ68m6_pbLBSp3nssTdlqvd0tIiTHU";
        let qi = "IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2oy26F0EmpScGLq2MowX7fhd_QJQ3ydy5cY7YIBi87w93IKLEdfnbJtoOPLUW0ITrJReOgo1cq9SbsxYawBgfp_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U";
        let expected = "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
        let dec = |s: &str| b64::decode(s).unwrap();
        let pair = RsaKeyPair::from_components(&KeyPairComponents {
            public_key: PublicKeyComponents {
                n: dec(n),
                e: dec("AQAB"),
            },
            d: dec(d),
            p: dec(p),
            q: dec(q),
            dP: dec(dp),
            dQ: dec(dq),
            qInv: dec(qi),
        })
        .unwrap();
        let der = pair.as_der().unwrap();
        let signing = SigningKey::from_pkcs8("a2", Algorithm::RS256, der.as_ref()).unwrap();
        assert_eq!(signing.public_jwk()["n"], n);

        let input = format!("eyJhbGciOiJSUzI1NiJ9.{RFC7515_PAYLOAD}");
        assert_eq!(
            b64::encode(signing.sign_raw(input.as_bytes()).unwrap()),
            expected
        );

        let verifying =
            VerifyingKey::from_jwk(&json!({"kty": "RSA", "n": n, "e": "AQAB"})).unwrap();
        verifying
            .verify_signature(input.as_bytes(), &dec(expected))
            .unwrap();
        assert!(
            verifying
                .verify_signature(b"other input", &dec(expected))
                .is_err()
        );
    }

    /// RFC 7515 Appendix A.3: verify the published ES256 signature with the example public key.
    #[test]
    fn rfc7515_a3_es256_vector() {
        let verifying = VerifyingKey::from_jwk(&json!({
            "kty": "EC", "crv": "P-256",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
        }))
        .unwrap();
        let input = format!("eyJhbGciOiJFUzI1NiJ9.{RFC7515_PAYLOAD}");
        let sig = b64::decode("DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q").unwrap();
        verifying.verify_signature(input.as_bytes(), &sig).unwrap();
        let mut bad = sig.clone();
        bad[0] ^= 1;
        assert!(verifying.verify_signature(input.as_bytes(), &bad).is_err());
    }

    /// RFC 8037 Appendix A.4/A.5: Ed25519 is deterministic; sign and verify the example.
    #[test]
    fn rfc8037_a4_eddsa_vector() {
        let seed = b64::decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A").unwrap();
        let x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
        let pair =
            Ed25519KeyPair::from_seed_and_public_key(&seed, &b64::decode(x).unwrap()).unwrap();
        let der = pair.to_pkcs8().unwrap();
        let signing = SigningKey::from_pkcs8("rfc8037", Algorithm::EdDSA, der.as_ref()).unwrap();
        assert_eq!(signing.public_jwk()["x"], x);

        let input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
        let expected = "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
        assert_eq!(
            b64::encode(signing.sign_raw(input.as_bytes()).unwrap()),
            expected
        );
        let verifying =
            VerifyingKey::from_jwk(&json!({"kty": "OKP", "crv": "Ed25519", "x": x})).unwrap();
        verifying
            .verify_signature(input.as_bytes(), &b64::decode(expected).unwrap())
            .unwrap();
    }
}

//! OAuth 1.0a signing against fixed vectors: the reference's worked example
//! (`ibkr-samples/oauth1a_lst_test_vector.json`) and independent vectors computed with Python's
//! `cryptography` (`tests/fixtures/oauth/vectors.json`, from `scripts/oauth_vectors.py`).

use std::path::{Path, PathBuf};

use num_bigint::BigUint;
use proptest::prelude::*;
use rsa::PrivateKey;
use serde_json::Value;
use tickline_ibkr::oauth::{
    self, DhParams, DhRandom, Identity, LiveSessionToken, OAuthConfig, OAuthError, OAuthSession,
    Prepend, Stamp,
};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oauth")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad JSON {}: {e}", path.display()))
}

fn reference_vector() -> Value {
    read_json(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/reference/ibkr-samples/oauth1a_lst_test_vector.json"),
    )
}

fn our_vectors() -> Value {
    read_json(&fixtures().join("vectors.json"))
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("vector field {key} missing or not a string"))
}

/// A number given as JSON number or numeric string (the reference vector uses strings).
fn u(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .or_else(|| v[key].as_str().and_then(|t| t.parse().ok()))
        .unwrap_or_else(|| panic!("vector field {key} missing or not a number"))
}

fn hex_uint(hex: &str) -> BigUint {
    BigUint::parse_bytes(hex.as_bytes(), 16).expect("hex integer")
}

fn key_from_pem(pem: &str) -> PrivateKey {
    oauth::parse_private_key_pem(pem.as_bytes()).expect("valid test key")
}

fn key_from_file(name: &str) -> PrivateKey {
    oauth::load_private_key(&fixtures().join(name), "test key").expect("valid test key file")
}

fn identity<'a>(consumer_key: &'a str, token: &'a str, realm: &'a str) -> Identity<'a> {
    Identity {
        consumer_key,
        token: Some(token),
        realm,
    }
}

#[test]
fn reference_vector_full_chain() {
    let v = reference_vector();
    let inputs = &v["inputs"];
    let req = &v["lst_request"];
    let resp = &v["lst_response"];
    let comp = &v["lst_computation"];
    let consumer_key = s(inputs, "consumer_key");
    let token = s(inputs, "access_token");
    let realm = s(inputs, "realm");

    // Step 1: decrypt the access token secret.
    let enc_key = key_from_pem(s(inputs, "private_encryption_key_pem"));
    let prepend =
        oauth::decrypt_access_token_secret(&enc_key, s(inputs, "access_token_secret_base64"))
            .expect("secret decrypts");
    assert_eq!(prepend.hex(), s(req, "prepend_hex"));

    // Step 2: the DH challenge.
    let dh = DhParams::new(
        hex_uint(s(inputs, "dh_prime_hex")),
        BigUint::from(u(inputs, "dh_generator")),
    )
    .expect("valid group");
    let a = DhRandom::from_hex(s(inputs, "dh_random_a_hex")).expect("hex");
    let challenge = oauth::dh_challenge(&dh, &a);
    assert_eq!(challenge, s(req, "diffie_hellman_challenge_hex"));

    // Steps 3–7: params string, base string, RSA-SHA256 signature, header.
    // Nonce and timestamp are only given inside the params string of the vector.
    let param = |name: &str| -> String {
        s(req, "params_sorted_string")
            .split('&')
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{name} not in params string"))
            .to_owned()
    };
    let nonce_text = param("oauth_nonce");
    let nonce = nonce_text.as_str();
    let ts: u64 = param("oauth_timestamp").parse().expect("timestamp");
    assert_eq!(
        (nonce, ts),
        ("3b0e6d2a9c4f4e1b8a7d5c3e1f0a9b8c", 1_714_489_460)
    );
    let ts_text = ts.to_string();
    let params = [
        ("oauth_token", token),
        ("diffie_hellman_challenge", challenge.as_str()),
        ("oauth_timestamp", ts_text.as_str()),
        ("oauth_consumer_key", consumer_key),
        ("oauth_signature_method", "RSA-SHA256"),
        ("oauth_nonce", nonce),
    ];
    assert_eq!(
        oauth::params_string(&params),
        s(req, "params_sorted_string")
    );
    let url = "https://api.ibkr.com/v1/api/oauth/live_session_token";
    let base = oauth::base_string(Some(&prepend), "POST", url, &params);
    assert_eq!(base, s(req, "base_string"));
    assert_eq!(base.len(), 839);
    let sig_key = key_from_pem(s(inputs, "private_signature_key_pem"));
    let signature = oauth::rsa_sha256_signature(&sig_key, &base).expect("signs");
    assert_eq!(signature, s(req, "signature_base64"));
    assert_eq!(
        oauth::percent_encode(&signature),
        s(req, "signature_percent_encoded")
    );
    let header = oauth::lst_request_header(
        identity(consumer_key, token, realm),
        &sig_key,
        &prepend,
        url,
        &challenge,
        &Stamp::new(nonce, ts),
    )
    .expect("header");
    assert_eq!(header, s(req, "authorization_header"));

    // Steps 9–12: shared secret with its sign byte, LST, validation.
    let b_response = s(resp, "diffie_hellman_response");
    let k = hex_uint(b_response).modpow(a.value(), dh.prime());
    assert_eq!(k.bits(), u(comp, "K_bit_length"));
    assert_eq!(
        oauth::hex_bytes(&oauth::java_byte_array(&k)),
        s(comp, "K_bytes_hex_with_sign_byte")
    );
    let lst = oauth::compute_live_session_token(&dh, &a, b_response, &prepend).expect("lst");
    assert_eq!(lst.to_base64(), s(comp, "live_session_token"));
    oauth::validate_lst(&lst, consumer_key, s(resp, "live_session_token_signature"))
        .expect("validates");
    let wrong = LiveSessionToken::from_base64(s(comp, "live_session_token_if_sign_byte_forgotten"))
        .expect("b64");
    assert!(matches!(
        oauth::validate_lst(
            &wrong,
            consumer_key,
            s(resp, "live_session_token_signature")
        ),
        Err(OAuthError::LstValidation)
    ));

    // The emulator's side of the exchange arrives at the same token.
    let b = hex_uint(s(inputs, "emulator_server_secret_b_hex"));
    let a_pub = hex_uint(&challenge);
    assert_eq!(a_pub.modpow(&b, dh.prime()), k);
    assert_eq!(
        dh.generator().modpow(&b, dh.prime()).to_str_radix(16),
        b_response
    );

    // §11.4: HMAC-SHA256 requests signed with that LST.
    let requests = v["signed_requests"].as_array().expect("array");
    assert_eq!(requests.len(), 3);
    for r in requests {
        let stamp = Stamp::new(s(r, "oauth_nonce"), u(r, "oauth_timestamp"));
        let ts_text = stamp.timestamp.to_string();
        let params = [
            ("oauth_consumer_key", consumer_key),
            ("oauth_nonce", stamp.nonce.as_str()),
            ("oauth_signature_method", "HMAC-SHA256"),
            ("oauth_timestamp", ts_text.as_str()),
            ("oauth_token", token),
        ];
        let base = oauth::base_string(None, s(r, "method"), s(r, "url"), &params);
        assert_eq!(base, s(r, "base_string"));
        assert_eq!(
            oauth::hmac_sha256_signature(&lst, &base),
            s(r, "signature_base64")
        );
        let header = oauth::hmac_request_header(
            identity(consumer_key, token, realm),
            &lst,
            s(r, "method"),
            s(r, "url"),
            &stamp,
        );
        assert_eq!(header, s(r, "authorization_header"));
    }
}

#[test]
fn independent_vectors_both_sign_byte_cases() {
    let v = our_vectors();
    let consumer_key = s(&v, "consumer_key");
    let token = s(&v, "access_token");
    let realm = s(&v, "realm");
    let dh = DhParams::load(&fixtures().join("dhparam.pem")).expect("dhparam.pem");
    assert_eq!(dh.prime(), &hex_uint(s(&v, "dh_prime_hex")));
    assert_eq!(dh.generator(), &BigUint::from(u(&v, "dh_generator")));
    assert_eq!(dh.prime().bits(), 2048);

    for enc_file in ["encryption_key_pkcs1.pem", "encryption_key_pkcs8.pem"] {
        let prepend = oauth::decrypt_access_token_secret(
            &key_from_file(enc_file),
            s(&v, "access_token_secret_base64"),
        )
        .expect("decrypts");
        // The secret starts with a zero byte: byte-wise hex keeps it.
        assert_eq!(prepend.hex(), s(&v, "prepend_hex"), "{enc_file}");
        assert!(prepend.hex().starts_with("00"));
    }
    let prepend = Prepend::from_hex(s(&v, "prepend_hex")).expect("hex");

    let cases = v["lst_cases"].as_array().expect("cases");
    let mut sign_byte_cases = 0;
    for case in cases {
        let name = s(case, "name");
        let a = DhRandom::from_hex(s(case, "dh_random_hex")).expect("hex");
        let challenge = oauth::dh_challenge(&dh, &a);
        assert_eq!(challenge, s(case, "diffie_hellman_challenge_hex"), "{name}");
        let stamp = Stamp::new(s(case, "oauth_nonce"), u(case, "oauth_timestamp"));
        for sig_file in ["signature_key_pkcs8.pem", "signature_key_pkcs1.pem"] {
            let header = oauth::lst_request_header(
                identity(consumer_key, token, realm),
                &key_from_file(sig_file),
                &prepend,
                s(case, "url"),
                &challenge,
                &stamp,
            )
            .expect("header");
            assert_eq!(header, s(case, "authorization_header"), "{name} {sig_file}");
        }
        let ts_text = stamp.timestamp.to_string();
        let params = [
            ("diffie_hellman_challenge", challenge.as_str()),
            ("oauth_consumer_key", consumer_key),
            ("oauth_nonce", stamp.nonce.as_str()),
            ("oauth_signature_method", "RSA-SHA256"),
            ("oauth_timestamp", ts_text.as_str()),
            ("oauth_token", token),
        ];
        let base = oauth::base_string(Some(&prepend), "POST", s(case, "url"), &params);
        assert_eq!(base, s(case, "base_string"), "{name}");
        assert_eq!(oauth::params_string(&params), s(case, "params_string"));
        let sig = oauth::rsa_sha256_signature(&key_from_file("signature_key_pkcs8.pem"), &base)
            .expect("signs");
        assert_eq!(sig, s(case, "signature_base64"), "{name}");

        let b_hex = s(case, "diffie_hellman_response_hex");
        let k = hex_uint(b_hex).modpow(a.value(), dh.prime());
        assert_eq!(k.bits(), u(case, "k_bit_length"), "{name}");
        let k_bytes = oauth::java_byte_array(&k);
        assert_eq!(oauth::hex_bytes(&k_bytes), s(case, "k_bytes_hex"), "{name}");
        if k.bits().is_multiple_of(8) {
            sign_byte_cases += 1;
            assert_eq!(k_bytes[0], 0, "{name}: sign byte expected");
        } else {
            assert_ne!(k_bytes[0], 0, "{name}: no sign byte expected");
        }
        let lst = oauth::compute_live_session_token(&dh, &a, b_hex, &prepend).expect("lst");
        assert_eq!(lst.to_base64(), s(case, "live_session_token"), "{name}");
        oauth::validate_lst(&lst, consumer_key, s(case, "live_session_token_signature"))
            .expect("validates");
        let forgotten =
            LiveSessionToken::from_base64(s(case, "live_session_token_if_sign_byte_forgotten"))
                .expect("b64");
        let forgotten_validates = oauth::validate_lst(
            &forgotten,
            consumer_key,
            s(case, "live_session_token_signature"),
        )
        .is_ok();
        // Without the sign byte the magnitude bytes are the same, so only the sign-byte case
        // tells the encodings apart.
        assert_eq!(forgotten_validates, !k.bits().is_multiple_of(8), "{name}");
    }
    assert_eq!(sign_byte_cases, 1, "one case of each kind");

    let lst = LiveSessionToken::from_base64(s(&cases[0], "live_session_token")).expect("b64");
    let requests = v["signed_requests"].as_array().expect("requests");
    assert!(requests.len() >= 5);
    for r in requests {
        let header = oauth::hmac_request_header(
            identity(consumer_key, token, realm),
            &lst,
            s(r, "method"),
            s(r, "url"),
            &Stamp::new(s(r, "oauth_nonce"), u(r, "oauth_timestamp")),
        );
        assert_eq!(header, s(r, "authorization_header"), "{}", s(r, "url"));
    }
}

#[test]
fn independent_third_party_vectors() {
    let v = our_vectors();
    let consumer_key = s(&v, "consumer_key");
    let realm = s(&v, "realm");
    let key = key_from_file("signature_key_pkcs1.pem");
    let rt = &v["third_party"]["request_token"];
    let header = oauth::rsa_request_header(
        Identity {
            consumer_key,
            token: None,
            realm,
        },
        &key,
        "POST",
        s(rt, "url"),
        &[("oauth_callback", s(rt, "callback"))],
        &Stamp::new(s(rt, "oauth_nonce"), u(rt, "oauth_timestamp")),
    )
    .expect("header");
    assert_eq!(header, s(rt, "authorization_header"));
    let at = &v["third_party"]["access_token"];
    let header = oauth::rsa_request_header(
        identity(consumer_key, s(at, "request_token"), realm),
        &key,
        "POST",
        s(at, "url"),
        &[("oauth_verifier", s(at, "verifier"))],
        &Stamp::new(s(at, "oauth_nonce"), u(at, "oauth_timestamp")),
    )
    .expect("header");
    assert_eq!(header, s(at, "authorization_header"));
}

#[test]
fn percent_encoding_matches_python_quote() {
    let v = our_vectors();
    for case in v["percent_encoding"].as_array().expect("cases") {
        assert_eq!(oauth::percent_encode(s(case, "input")), s(case, "encoded"));
    }
}

#[test]
fn config_fixture_loads_into_a_session() {
    let path = fixtures().join("config.toml");
    let cfg = OAuthConfig::from_file(&path).expect("config");
    assert_eq!(cfg.realm, "limited_poa");
    assert!(cfg.signature_key_path.is_absolute());
    assert!(cfg.signature_key_path.ends_with("signature_key_pkcs8.pem"));
    let session = OAuthSession::from_config(cfg).expect("session");
    assert_eq!(session.access_token(), "0f1e2d3c4b5a69788796");
    assert_eq!(session.base_url().as_str(), "https://api.ibkr.com/v1/api");
    let dbg = format!("{session:?}");
    assert!(!dbg.contains("0f1e2d3c4b5a69788796"), "{dbg}");
}

#[test]
fn config_comes_from_flag_or_environment() {
    let path = fixtures().join("config.toml");
    let path_text = path.display().to_string();
    // The flag wins; IBKR_BASE_URL overrides base_url.
    let cfg = OAuthConfig::from_env_or_file_with(Some(&path), |name| match name {
        "IBKR_BASE_URL" => Some("http://127.0.0.1:5000/v1/api".into()),
        _ => Some("/nonexistent.toml".into()),
    })
    .expect("flag");
    assert_eq!(cfg.base_url.as_str(), "http://127.0.0.1:5000/v1/api");
    // Without the flag the environment names the file.
    let cfg = OAuthConfig::from_env_or_file_with(None, |name| {
        (name == "IBKR_OAUTH_CONFIG").then(|| path_text.clone())
    })
    .expect("env");
    assert_eq!(cfg.consumer_key, "TICKLINE1");
    assert_eq!(cfg.base_url.as_str(), "https://api.ibkr.com/v1/api");
    // Neither: a clear error.
    assert!(matches!(
        OAuthConfig::from_env_or_file_with(None, |_| None),
        Err(OAuthError::NoConfig)
    ));
    // A third-party consumer reads the same file.
    let consumer = oauth::Consumer::from_env_or_file_with(Some(&path), |_| None).expect("consumer");
    assert_eq!(consumer.consumer_key(), "TICKLINE1");
}

#[test]
fn bad_material_gives_typed_errors_without_secrets() {
    let v = our_vectors();
    let secret = s(&v, "access_token_secret_base64");
    // Not base64.
    let enc = key_from_file("encryption_key_pkcs1.pem");
    let err = oauth::decrypt_access_token_secret(&enc, "not base64 !!").expect_err("bad b64");
    assert!(matches!(err, OAuthError::AccessTokenSecret(_)));
    // The wrong key "decrypts" (implicit rejection) to something else, so the LST won't validate.
    let wrong =
        oauth::decrypt_access_token_secret(&key_from_file("signature_key_pkcs1.pem"), secret);
    if let Ok(p) = wrong {
        assert_ne!(p.hex(), s(&v, "prepend_hex"));
        assert!(!format!("{p:?}").contains(&p.hex()));
    }
    // Not a key.
    let err = oauth::load_private_key(&fixtures().join("dhparam.pem"), "signature key")
        .expect_err("not a key");
    assert!(matches!(err, OAuthError::Key { .. }), "{err}");
    assert!(err.to_string().contains("DH PARAMETERS"), "{err}");
    // Missing file.
    let err = oauth::load_private_key(Path::new("/nonexistent/key.pem"), "signature key")
        .expect_err("missing");
    assert!(matches!(err, OAuthError::ReadFile { .. }));
    // Not DH parameters.
    let err = DhParams::load(&fixtures().join("signature_key_pkcs1.pem")).expect_err("not dh");
    assert!(matches!(err, OAuthError::DhParams { .. }), "{err}");
    // A response B outside 2..p-2 is refused.
    let dh = DhParams::load(&fixtures().join("dhparam.pem")).expect("dh");
    let a = DhRandom::from_hex("1234").expect("hex");
    let prepend = Prepend::from_hex("00ff").expect("hex");
    assert!(oauth::compute_live_session_token(&dh, &a, "1", &prepend).is_err());
    assert!(oauth::compute_live_session_token(&dh, &a, "xyz", &prepend).is_err());
    let p_minus_1 = oauth::hex_bytes(&(dh.prime() - 1u32).to_bytes_be());
    assert!(oauth::compute_live_session_token(&dh, &a, &p_minus_1, &prepend).is_err());
}

proptest! {
    #[test]
    fn java_bytes_are_minimal_twos_complement(bytes in proptest::collection::vec(any::<u8>(), 1..300)) {
        let n = BigUint::from_bytes_be(&bytes);
        let java = oauth::java_byte_array(&n);
        let bits = n.bits();
        prop_assert_eq!(java.len() as u64, bits / 8 + 1);
        prop_assert!(java[0] & 0x80 == 0, "never negative");
        let magnitude = if n.bits() == 0 { vec![0] } else { n.to_bytes_be() };
        let stripped: Vec<u8> = if java.len() > magnitude.len() { java[1..].to_vec() } else { java.clone() };
        prop_assert_eq!(stripped, magnitude);
    }

    #[test]
    fn percent_encoding_round_trips_and_keeps_only_unreserved(text in "\\PC{0,40}") {
        let encoded = oauth::percent_encode(&text);
        prop_assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)));
        let decoded = percent_encoding::percent_decode_str(&encoded).decode_utf8().expect("utf8");
        prop_assert_eq!(decoded, text);
    }

    #[test]
    fn params_string_ignores_input_order(mut keys in proptest::collection::btree_set("[a-z_]{1,12}", 1..8)) {
        let ordered: Vec<String> = std::mem::take(&mut keys).into_iter().collect();
        let pairs: Vec<(&str, &str)> = ordered.iter().map(|k| (k.as_str(), "v")).collect();
        let mut reversed = pairs.clone();
        reversed.reverse();
        prop_assert_eq!(oauth::params_string(&pairs), oauth::params_string(&reversed));
        let expected: Vec<String> = ordered.iter().map(|k| format!("{k}=v")).collect();
        prop_assert_eq!(oauth::params_string(&pairs), expected.join("&"));
    }
}

//! OAuth 1.0a verification mode (`--oauth DIR`): the directory is generated, the live
//! session token is derived by Diffie-Hellman, good signatures are accepted and every wrong
//! field is refused with a 401 naming it. The requests are signed here, by the test.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{KeyInit, Mac};
use num_bigint::BigUint;
use rsa::PrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::common::*;
use tickline_gateway::oauth::{DhGroup, base_string, java_bytes, pct};

fn hmac_sha1(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut m = <hmac::Hmac<sha1::Sha1> as KeyInit>::new_from_slice(key).unwrap();
    m.update(msg);
    m.finalize().into_bytes().to_vec()
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> String {
    let mut m = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
    m.update(msg);
    B64.encode(m.finalize().into_bytes())
}

/// The consumer side, built from the generated directory.
struct Signer {
    consumer: String,
    token: String,
    prepend: Vec<u8>,
    key: PrivateKey,
    dh: DhGroup,
    lst: Vec<u8>,
    wrong_lst: Vec<u8>,
    nonce: u64,
    /// Seconds the gateway's clock was advanced.
    offset: i64,
}

impl Signer {
    fn load(dir: &Path) -> Signer {
        let record: toml::Table =
            toml::from_str(&std::fs::read_to_string(dir.join("gateway_oauth.toml")).unwrap())
                .unwrap();
        let secret = record["secret_hex"].as_str().unwrap();
        let prepend = (0..secret.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&secret[i..i + 2], 16).unwrap())
            .collect();
        Signer {
            consumer: record["consumer_key"].as_str().unwrap().into(),
            token: record["access_token"].as_str().unwrap().into(),
            prepend,
            key: PrivateKey::from_pkcs8_pem(
                &std::fs::read_to_string(dir.join("private_signature.pem")).unwrap(),
            )
            .unwrap(),
            dh: DhGroup::from_pem(&std::fs::read_to_string(dir.join("dhparam.pem")).unwrap())
                .unwrap(),
            lst: Vec::new(),
            wrong_lst: Vec::new(),
            nonce: 0,
            offset: 0,
        }
    }

    fn params(&mut self, method: &str) -> BTreeMap<String, String> {
        self.nonce += 1;
        let now = chrono::Utc::now().timestamp() + self.offset;
        BTreeMap::from([
            ("oauth_consumer_key".into(), self.consumer.clone()),
            ("oauth_nonce".into(), format!("n{:015}", self.nonce)),
            ("oauth_signature_method".into(), method.into()),
            ("oauth_timestamp".into(), now.to_string()),
            ("oauth_token".into(), self.token.clone()),
        ])
    }

    fn header(p: &BTreeMap<String, String>, signature: &str, realm: &str) -> String {
        let mut parts = vec![format!("realm=\"{realm}\"")];
        for (k, v) in p {
            parts.push(format!("{k}=\"{}\"", pct(v)));
        }
        parts.push(format!("oauth_signature=\"{}\"", pct(signature)));
        format!("OAuth {}", parts.join(", "))
    }

    /// Sign an HMAC request to `url` with `lst`; `tweak` edits the parameters afterwards.
    fn hmac(
        &mut self,
        method: &str,
        url: &str,
        lst: &[u8],
        tweak: impl FnOnce(&mut BTreeMap<String, String>, &mut String),
    ) -> String {
        let mut p = self.params("HMAC-SHA256");
        let mut sig = hmac_sha256(lst, base_string(None, method, url, &p).as_bytes());
        let mut realm = "limited_poa".to_string();
        tweak(&mut p, &mut sig);
        if let Some(r) = p.remove("realm") {
            realm = r;
        }
        Self::header(&p, &sig, &realm)
    }
}

struct OAuthGw {
    gw: Gw,
    signer: Signer,
    _dir: tempfile::TempDir,
}

async fn start() -> OAuthGw {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = ready();
    cfg.oauth = Some(dir.path().to_path_buf());
    cfg.faults.session_timeout_secs = 0;
    let gw = Gw::start(cfg).await;
    // Serving means the directory was generated.
    assert_eq!(gw.get("/control/state").await.0, 200);
    let signer = Signer::load(dir.path());
    OAuthGw {
        gw,
        signer,
        _dir: dir,
    }
}

impl OAuthGw {
    fn url(&self, path: &str) -> String {
        format!("{}/v1/api{path}", self.gw.base)
    }

    async fn send(&self, method: &str, path: &str, header: Option<String>) -> (u16, Value) {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.gw.http.request(m, self.url(path));
        if let Some(h) = header {
            req = req.header("Authorization", h);
        }
        if method == "POST" {
            req = req.json(&json!({}));
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// The live session token handshake, as IBKR's reference code does it.
    async fn handshake(&mut self) -> Value {
        let a = BigUint::from(0x1234_5678_9abc_def1_u64) << 180;
        let challenge = self.signer.dh.g.modpow(&a, &self.signer.dh.p);
        let url = self.url("/oauth/live_session_token");
        let mut p = self.signer.params("RSA-SHA256");
        p.insert(
            "diffie_hellman_challenge".into(),
            challenge.to_str_radix(16),
        );
        let base = base_string(Some(&self.signer.prepend), "POST", &url, &p);
        let sig = B64.encode(
            self.signer
                .key
                .pkcs1v15_sign::<Sha256>(base.as_bytes())
                .unwrap(),
        );
        let header = Signer::header(&p, &sig, "limited_poa");
        let (s, v) = self
            .send("POST", "/oauth/live_session_token", Some(header))
            .await;
        assert_eq!(s, 200, "{v}");
        let b = BigUint::parse_bytes(
            v["diffie_hellman_response"].as_str().unwrap().as_bytes(),
            16,
        )
        .unwrap();
        let k = java_bytes(&b.modpow(&a, &self.signer.dh.p));
        let wrong = if k[0] == 0 {
            k[1..].to_vec()
        } else {
            [&[0u8][..], &k].concat()
        };
        self.signer.lst = hmac_sha1(&k, &self.signer.prepend);
        self.signer.wrong_lst = hmac_sha1(&wrong, &self.signer.prepend);
        let check: String = hmac_sha1(&self.signer.lst, self.signer.consumer.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            v["live_session_token_signature"], check,
            "the token validates"
        );
        v
    }

    async fn signed(&mut self, method: &str, path: &str) -> (u16, Value) {
        let url = self.url(path);
        let lst = self.signer.lst.clone();
        let h = self.signer.hmac(method, &url, &lst, |_, _| {});
        self.send(method, path, Some(h)).await
    }
}

fn reason(v: &Value) -> &str {
    v["error"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn the_directory_holds_the_client_files() {
    let o = start().await;
    let dir = o._dir.path();
    for f in [
        "private_signature.pem",
        "public_signature.pem",
        "private_encryption.pem",
        "public_encryption.pem",
        "dhparam.pem",
        "gateway_oauth.toml",
        "ibkr_oauth.toml",
        "ibind.env",
    ] {
        assert!(dir.join(f).exists(), "{f}");
    }
    let client: toml::Table =
        toml::from_str(&std::fs::read_to_string(dir.join("ibkr_oauth.toml")).unwrap()).unwrap();
    assert_eq!(
        client["consumer_key"].as_str(),
        Some(o.signer.consumer.as_str())
    );
    assert_eq!(client["base_url"].as_str(), Some(o.url("").as_str()));
    assert_eq!(client["realm"].as_str(), Some("limited_poa"));
    let env = std::fs::read_to_string(dir.join("ibind.env")).unwrap();
    assert!(env.contains("IBIND_USE_OAUTH=True"), "{env}");
    assert!(env.contains(&format!("IBIND_OAUTH1A_REST_URL={}/", o.url(""))));
    assert_eq!(o.signer.consumer.len(), 9);
    assert_eq!(o.signer.token.len(), 20);
    let consumer = o.signer.consumer.clone();
    o.gw.stop().await;
    // Restarting over the same directory reuses the consumer.
    let mut cfg = ready();
    cfg.oauth = Some(dir.to_path_buf());
    let gw = Gw::start(cfg).await;
    assert_eq!(gw.get("/control/state").await.0, 200);
    assert_eq!(Signer::load(dir).consumer, consumer);
    gw.stop().await;
}

#[tokio::test]
async fn handshake_then_signed_requests_are_accepted() {
    let mut o = start().await;
    let (s, v) = o.send("GET", "/iserver/auth/status", None).await;
    assert_eq!(s, 401);
    assert!(reason(&v).contains("missing Authorization header"), "{v}");
    let (s, v) = o.signed("GET", "/portfolio/accounts").await;
    assert_eq!(s, 401);
    assert!(reason(&v).contains("no live session token"), "{v}");
    let v = o.handshake().await;
    let expires = v["live_session_token_expiration"].as_i64().unwrap();
    assert!(expires > chrono::Utc::now().timestamp_millis() + 23 * 3_600_000);
    // The session is read-only until ssodh/init, as with IBKR.
    let (s, v) = o.signed("GET", "/iserver/accounts").await;
    assert_eq!((s, reason(&v)), (400, "Bad Request: no bridge"));
    let (s, v) = o.signed("POST", "/iserver/auth/ssodh/init").await;
    assert_eq!((s, &v["authenticated"]), (200, &json!(true)));
    assert_eq!(o.signed("GET", "/iserver/accounts").await.0, 200);
    // With the query string signed (IBKR's reference code) and without it (ibind).
    let path = "/iserver/marketdata/snapshot?conids=265598&fields=31,84,86";
    assert_eq!(o.signed("GET", path).await.0, 200);
    let url = o.url("/iserver/marketdata/snapshot");
    let lst = o.signer.lst.clone();
    let h = o.signer.hmac("GET", &url, &lst, |_, _| {});
    assert_eq!(o.send("GET", path, Some(h)).await.0, 200);
    let st = o.gw.state().await;
    assert_eq!(st["session"]["state"], "ready");
    o.gw.stop().await;
}

#[tokio::test]
async fn every_wrong_field_is_refused_with_its_reason() {
    let mut o = start().await;
    o.handshake().await;
    let url = o.url("/portfolio/accounts");
    let lst = o.signer.lst.clone();
    let wrong_lst = o.signer.wrong_lst.clone();
    type Tweak = Box<dyn FnOnce(&mut BTreeMap<String, String>, &mut String)>;
    let cases: Vec<(&str, Tweak, &str)> = vec![
        (
            "realm",
            Box::new(|p, _| {
                p.insert("realm".into(), "test_realm".into());
            }),
            "invalid realm \"test_realm\"",
        ),
        (
            "consumer key",
            Box::new(|p, _| {
                p.insert("oauth_consumer_key".into(), "NOTMINE01".into());
            }),
            "invalid consumer",
        ),
        (
            "token",
            Box::new(|p, _| {
                p.insert("oauth_token".into(), "00000000000000000000".into());
            }),
            "invalid oauth_token",
        ),
        (
            "timestamp in ms",
            Box::new(|p, _| {
                let ms = format!("{}000", p["oauth_timestamp"]);
                p.insert("oauth_timestamp".into(), ms);
            }),
            "in milliseconds",
        ),
        (
            "stale timestamp",
            Box::new(|p, _| {
                let old: i64 = p["oauth_timestamp"].parse::<i64>().unwrap() - 400;
                p.insert("oauth_timestamp".into(), old.to_string());
            }),
            "s away from the server clock (at most ±300 s)",
        ),
        (
            "tampered signature",
            Box::new(|_, sig| {
                let mut b = B64.decode(sig.as_bytes()).unwrap();
                b[0] ^= 1;
                *sig = B64.encode(b);
            }),
            "invalid signature: the HMAC-SHA256",
        ),
        (
            "signature method",
            Box::new(|p, _| {
                p.insert("oauth_signature_method".into(), "HMAC-SHA1".into());
            }),
            "must be signed HMAC-SHA256",
        ),
    ];
    for (what, tweak, expected) in cases {
        let h = o.signer.hmac("GET", &url, &lst, tweak);
        let (s, v) = o.send("GET", "/portfolio/accounts", Some(h)).await;
        assert_eq!(s, 401, "{what}: {v}");
        assert!(reason(&v).contains(expected), "{what}: {v}");
    }
    // A token derived with the wrong K prefix.
    let h = o.signer.hmac("GET", &url, &wrong_lst, |_, _| {});
    let (s, v) = o.send("GET", "/portfolio/accounts", Some(h)).await;
    assert_eq!(s, 401);
    assert!(reason(&v).contains("0x00 byte in front of K"), "{v}");
    // A signature for another URL.
    let h = o.signer.hmac("GET", &url, &lst, |_, _| {});
    let (s, v) = o.send("GET", "/iserver/auth/status", Some(h)).await;
    assert_eq!(s, 401);
    assert!(reason(&v).contains("invalid signature"), "{v}");
    // A reused nonce: the same header twice.
    let h = o.signer.hmac("GET", &url, &lst, |_, _| {});
    assert_eq!(
        o.send("GET", "/portfolio/accounts", Some(h.clone()))
            .await
            .0,
        200
    );
    let (s, v) = o.send("GET", "/portfolio/accounts", Some(h)).await;
    assert_eq!(s, 401);
    assert!(reason(&v).contains("already used"), "{v}");
    let st = o.gw.get("/control/state").await.1;
    assert!(st["oauth"]["refused"].as_u64().unwrap() >= 10, "{st}");
    o.gw.stop().await;
}

#[tokio::test]
async fn the_live_session_token_request_is_verified_too() {
    let mut o = start().await;
    let url = o.url("/oauth/live_session_token");
    let mut p = o.signer.params("RSA-SHA256");
    p.insert("diffie_hellman_challenge".into(), "abcdef0123".into());
    // Signed without the prepend: the signature does not verify.
    let base = base_string(None, "POST", &url, &p);
    let sig = B64.encode(
        o.signer
            .key
            .pkcs1v15_sign::<Sha256>(base.as_bytes())
            .unwrap(),
    );
    let (s, v) = o
        .send(
            "POST",
            "/oauth/live_session_token",
            Some(Signer::header(&p, &sig, "limited_poa")),
        )
        .await;
    assert_eq!(s, 401);
    assert!(reason(&v).contains("RSA-SHA256"), "{v}");
    let (s, v) = o.send("GET", "/oauth/live_session_token", None).await;
    assert_eq!(s, 405, "{v}");
    o.handshake().await;
    assert_eq!(o.signed("GET", "/portfolio/accounts").await.0, 200);
    // After 24 h the token is gone.
    o.gw.advance_secs(25 * 3_600).await;
    o.signer.offset = 25 * 3_600;
    let (s, v) = o.signed("GET", "/portfolio/accounts").await;
    assert_eq!(s, 401);
    assert!(reason(&v).contains("expired"), "{v}");
    o.handshake().await;
    assert_eq!(o.signed("GET", "/portfolio/accounts").await.0, 200);
    o.gw.stop().await;
}

#[tokio::test]
async fn the_websocket_needs_the_access_token_and_a_live_session_token() {
    let mut o = start().await;
    let addr = o.gw.addr;
    let ws_url = |token: &str| format!("ws://{addr}/v1/api/ws?oauth_token={token}");
    o.handshake().await;
    o.signed("POST", "/iserver/auth/ssodh/init").await;
    let err = tokio_tungstenite::connect_async(ws_url("0000"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
    let (s, _) = tokio_tungstenite::connect_async(ws_url(&o.signer.token))
        .await
        .unwrap();
    let mut ws = Ws { s };
    let (auth, _) = ws.hello().await;
    assert_eq!(auth["args"]["authenticated"], true);
    o.gw.stop().await;
}

/// IBKR's worked example (reference §11.5): the HMAC-SHA256 base string and signature of
/// `GET /portfolio/accounts` with the example's live session token, and the K byte rule.
#[test]
fn reference_vector() {
    let lst = B64.decode("e/6ZX0RwKEkUE/6WqjSteifiOtQ=").unwrap();
    let p = BTreeMap::from([
        ("oauth_consumer_key".to_string(), "TESTCONS1".to_string()),
        (
            "oauth_nonce".into(),
            "5a1f0c9e2b7d4c3a8e6f1d0b9a2c4e6f".into(),
        ),
        ("oauth_signature_method".into(), "HMAC-SHA256".into()),
        ("oauth_timestamp".into(), "1714489500".into()),
        ("oauth_token".into(), "a1b2c3d4e5f6a7b8c9d0".into()),
        ("realm".into(), "limited_poa".into()),
    ]);
    let base = base_string(
        None,
        "GET",
        "https://api.ibkr.com/v1/api/portfolio/accounts",
        &p,
    );
    assert_eq!(
        base,
        "GET&https%3A%2F%2Fapi.ibkr.com%2Fv1%2Fapi%2Fportfolio%2Faccounts&oauth_consumer_key%3DTESTCONS1%26oauth_nonce%3D5a1f0c9e2b7d4c3a8e6f1d0b9a2c4e6f%26oauth_signature_method%3DHMAC-SHA256%26oauth_timestamp%3D1714489500%26oauth_token%3Da1b2c3d4e5f6a7b8c9d0"
    );
    assert_eq!(
        hmac_sha256(&lst, base.as_bytes()),
        "disIZ+R5EVmU2r3ryTOF7Nayls7bff/wvENz4ylZsgI="
    );
    // A 2048-bit K gets the 0x00 byte; without it the token differs.
    let k = BigUint::from(1u32) << 2047;
    assert_eq!(java_bytes(&k).len(), 257);
}

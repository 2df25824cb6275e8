//! `wss://` against a local TLS websocket server with a self-signed certificate: accepted only
//! with `insecure_tls = true`, refused in the default strict mode.

use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tickline_ibkr::ws::{Subscription, SystemMessage, WsClient, WsConfig, WsError, WsEvent};
use tokio_tungstenite::tungstenite::{self, Message};
use url::Url;

// Throwaway certificate for localhost/127.0.0.1, from scripts/ws_test_cert.py.
const CERT_PEM: &str = "\
-----BEGIN CERTIFICATE-----
MIIBYTCCAQigAwIBAgIUIkVFkwhYdJbkB/V9uPvkYF8afJkwCgYIKoZIzj0EAwIw
IDEeMBwGA1UEAwwVdGlja2xpbmUgdGVzdCBnYXRld2F5MCAXDTIwMDEwMTAwMDAw
MFoYDzIxMjAwMTAxMDAwMDAwWjAgMR4wHAYDVQQDDBV0aWNrbGluZSB0ZXN0IGdh
dGV3YXkwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASscuuOwx+pA3vyOZIMQPr6
cqBimPYaSMXsYcJ+glgVZz8/naM/5xkjw5zH8ZnJsiCAoMUPaK5kth+4Gmy09zft
ox4wHDAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwCgYIKoZIzj0EAwIDRwAw
RAIgVjDI22W1RVvoD2cPFrAFKfuTbN7Pimi942Cdn0Uh89ICIArMrzCfQ/z/Lzgf
uZhFAPhOkedXNDAPdyxmAA8sBDJR
-----END CERTIFICATE-----
";
const KEY_PEM: &str = "\
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgC8hEfvfbGGf6Z0u/
tHNh5cEu6PjT2++szjAWhzuaIwmhRANCAASscuuOwx+pA3vyOZIMQPr6cqBimPYa
SMXsYcJ+glgVZz8/naM/5xkjw5zH8ZnJsiCAoMUPaK5kth+4Gmy09zft
-----END PRIVATE KEY-----
";

/// What the server thread saw on each connection.
#[derive(Debug, PartialEq)]
enum Seen {
    HandshakeFailed,
    Command(String),
}

/// A blocking wss server on its own thread: sends a `system` welcome, then reports every text
/// command it receives.
fn start_tls_server() -> (SocketAddr, mpsc::Receiver<Seen>) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cert = pem::parse(CERT_PEM).expect("cert pem");
    let key = pem::parse(KEY_PEM).expect("key pem");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(
        vec![CertificateDer::from(cert.into_contents())],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.into_contents())),
    )
    .expect("server config");
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(tcp) = stream else { continue };
            let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
            let Ok(conn) = rustls::ServerConnection::new(config.clone()) else {
                continue;
            };
            match tungstenite::accept(rustls::StreamOwned::new(conn, tcp)) {
                Err(_) => {
                    if tx.send(Seen::HandshakeFailed).is_err() {
                        return;
                    }
                }
                Ok(mut ws) => {
                    let welcome = r#"{"topic":"system","success":"tls-user","isPaper":true}"#;
                    if ws.send(Message::text(welcome)).is_err() {
                        continue;
                    }
                    while let Ok(message) = ws.read() {
                        if let Message::Text(t) = message
                            && t.as_str() != "tic"
                            && tx.send(Seen::Command(t.as_str().to_owned())).is_err()
                        {
                            return;
                        }
                    }
                }
            }
        }
    });
    (addr, rx)
}

fn config(addr: SocketAddr, insecure: bool) -> WsConfig {
    let mut cfg = WsConfig::new(Url::parse(&format!("wss://{addr}/v1/api/ws")).expect("url"));
    cfg.insecure_tls = insecure;
    cfg.connect_timeout = Duration::from_secs(5);
    cfg
}

async fn next_event(client: &mut WsClient) -> WsEvent {
    tokio::time::timeout(Duration::from_secs(5), client.next_event())
        .await
        .expect("event in time")
        .expect("client running")
}

#[tokio::test]
async fn insecure_mode_accepts_the_self_signed_gateway() {
    let (addr, seen) = start_tls_server();
    let mut client = WsClient::connect(config(addr, true))
        .await
        .expect("insecure TLS connects");
    assert_eq!(next_event(&mut client).await, WsEvent::Connected);
    assert_eq!(
        next_event(&mut client).await,
        WsEvent::System(SystemMessage::Welcome {
            username: "tls-user".into(),
            is_ft: None,
            is_paper: Some(true),
        })
    );
    client.subscribe(Subscription::Pnl).expect("subscribe");
    let got = tokio::task::spawn_blocking(move || seen.recv_timeout(Duration::from_secs(5)))
        .await
        .expect("join");
    assert_eq!(got, Ok(Seen::Command("spl+{}".into())));
    client.close().await;
}

#[tokio::test]
async fn strict_mode_refuses_the_self_signed_certificate() {
    let (addr, seen) = start_tls_server();
    let err = WsClient::connect(config(addr, false))
        .await
        .expect_err("strict TLS must refuse a self-signed certificate");
    let WsError::Connect { url, message } = &err else {
        panic!("expected a connect error, got {err:?}");
    };
    assert_eq!(url, &format!("wss://{addr}/v1/api/ws"));
    assert!(
        message.to_ascii_lowercase().contains("certificate"),
        "the failure names the certificate: {message}"
    );
    let got = tokio::task::spawn_blocking(move || seen.recv_timeout(Duration::from_secs(5)))
        .await
        .expect("join");
    assert_eq!(got, Ok(Seen::HandshakeFailed));
}

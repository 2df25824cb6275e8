//! HTTPS/WSS with the generated self-signed certificate.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;
use tokio::net::TcpListener;

use crate::common::*;
use tickline_gateway::{TlsIdentity, run_tls};

#[tokio::test]
async fn https_and_wss() {
    install_crypto();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let identity = TlsIdentity::self_signed().unwrap();
    let cert = identity.cert_der().to_vec();
    assert!(
        identity
            .cert_pem()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(run_tls(listener, ready(), identity, async {
        let _ = rx.await;
    }));
    let http = reqwest::Client::builder()
        .tls_danger_accept_invalid_certs(true)
        .cookie_store(true)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let r = http
        .get(format!("https://{addr}/v1/api/tickle"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().await.unwrap();
    let session = v["session"].as_str().unwrap().to_string();
    // Plain HTTP on the TLS port does not get an answer.
    assert!(
        reqwest::get(format!("http://{addr}/v1/api/tickle"))
            .await
            .is_err()
    );

    // WSS, trusting exactly the generated certificate.
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(cert))
        .unwrap();
    let cfg = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
        format!("wss://127.0.0.1:{}/v1/api/ws", addr.port()),
    )
    .unwrap();
    req.headers_mut()
        .insert("cookie", format!("api={session}").parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async_tls_with_config(
        req,
        None,
        false,
        Some(tokio_tungstenite::Connector::Rustls(Arc::new(cfg))),
    )
    .await
    .unwrap();
    let first = ws.next().await.unwrap().unwrap();
    let v: Value = serde_json::from_str(first.to_text().unwrap()).unwrap();
    assert_eq!(v["topic"], "system");
    drop(ws);
    let _ = tx.send(());
    assert!(matches!(
        tokio::time::timeout(Duration::from_secs(10), server).await,
        Ok(Ok(Ok(())))
    ));
}

#!/usr/bin/env python3
"""Print a throwaway self-signed certificate and key (EC P-256, for localhost/127.0.0.1,
valid 2020-2120) as the Rust constants used by tests/ws_tls.rs. Not a secret: it only lets the
websocket TLS tests run a local wss:// server.

Usage: python3 engine/ibkr/scripts/ws_test_cert.py
"""

import datetime
import ipaddress
import subprocess
import sys

try:
    import cryptography  # noqa: F401
except ImportError:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", "cryptography"])

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

key = ec.generate_private_key(ec.SECP256R1())
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tickline test gateway")])
cert = (
    x509.CertificateBuilder()
    .subject_name(name)
    .issuer_name(name)
    .public_key(key.public_key())
    .serial_number(x509.random_serial_number())
    .not_valid_before(datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc))
    .not_valid_after(datetime.datetime(2120, 1, 1, tzinfo=datetime.timezone.utc))
    .add_extension(
        x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        ),
        critical=False,
    )
    .sign(key, hashes.SHA256())
)
cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
key_pem = key.private_bytes(
    serialization.Encoding.PEM,
    serialization.PrivateFormat.PKCS8,
    serialization.NoEncryption(),
).decode()
print(f'const CERT_PEM: &str = "\\\n{cert_pem}";')
print(f'const KEY_PEM: &str = "\\\n{key_pem}";')

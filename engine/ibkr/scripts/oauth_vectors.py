#!/usr/bin/env python3
"""Independent OAuth 1.0a test vectors for tickline-ibkr (IBKR first-party flavour).

Writes into ``engine/ibkr/tests/fixtures/oauth/``:

* throwaway RSA-2048 keys: ``signature_key_pkcs8.pem`` / ``signature_key_pkcs1.pem`` (one key,
  two encodings) and ``encryption_key_pkcs1.pem`` / ``encryption_key_pkcs8.pem``;
* ``dhparam.pem``: a freshly generated 2048-bit PKCS#3 ``DH PARAMETERS`` block (g = 2);
* ``config.toml``: an OAuth config using those files (relative paths);
* ``vectors.json``: expected values for fixed nonces, timestamps and DH randoms.

Keys and DH parameters are generated only when their files are missing, so re-running the
script reproduces ``vectors.json`` byte for byte. Everything is computed with Python's
``cryptography`` package and plain integer arithmetic, independently of the Rust code.

Usage: python3 engine/ibkr/scripts/oauth_vectors.py
"""

import base64
import hashlib
import hmac
import json
import os
import random
import subprocess
import sys
import urllib.parse

try:
    import cryptography  # noqa: F401
except ImportError:  # the one install step this script needs
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", "cryptography"])

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dh, padding, rsa

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "tests", "fixtures", "oauth"))

CONSUMER_KEY = "TICKLINE1"
ACCESS_TOKEN = "0f1e2d3c4b5a69788796"
REALM = "limited_poa"
BASE_URL = "https://api.ibkr.com/v1/api"


def path(name):
    return os.path.join(OUT, name)


def pct(s):
    """RFC 3986 percent-encoding: everything but A-Z a-z 0-9 - . _ ~ (uppercase hex)."""
    return urllib.parse.quote(s, safe="")


def b64(data):
    return base64.b64encode(data).decode("ascii")


def java_bytes(n):
    """Java BigInteger.toByteArray() of a positive integer."""
    return n.to_bytes(n.bit_length() // 8 + 1, "big")


def magnitude_bytes(n):
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


def load_or_make_rsa(pkcs8_name, pkcs1_name):
    if os.path.exists(path(pkcs8_name)):
        with open(path(pkcs8_name), "rb") as f:
            key = serialization.load_pem_private_key(f.read(), password=None)
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pkcs8 = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    pkcs1 = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    with open(path(pkcs8_name), "wb") as f:
        f.write(pkcs8)
    with open(path(pkcs1_name), "wb") as f:
        f.write(pkcs1)
    return key


def load_or_make_dh():
    if not os.path.exists(path("dhparam.pem")):
        params = dh.generate_parameters(generator=2, key_size=2048)
        with open(path("dhparam.pem"), "wb") as f:
            f.write(
                params.parameter_bytes(
                    serialization.Encoding.PEM, serialization.ParameterFormat.PKCS3
                )
            )
    with open(path("dhparam.pem"), "rb") as f:
        params = serialization.load_pem_parameters(f.read())
    numbers = params.parameter_numbers()
    return numbers.p, numbers.g


def pkcs1v15_encrypt_deterministic(public_key, message, rng):
    """RSAES-PKCS1-v1_5 with seeded padding, so the committed ciphertext is reproducible."""
    numbers = public_key.public_numbers()
    k = (numbers.n.bit_length() + 7) // 8
    ps_len = k - 3 - len(message)
    ps = bytes(rng.randrange(1, 256) for _ in range(ps_len))
    em = b"\x00\x02" + ps + b"\x00" + message
    c = pow(int.from_bytes(em, "big"), numbers.e, numbers.n)
    return c.to_bytes(k, "big")


def params_string(params):
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()))


def header(params, signature_b64, realm):
    items = dict(params)
    items["oauth_signature"] = signature_b64
    items["realm"] = realm
    return "OAuth " + ", ".join(f'{k}="{pct(v)}"' for k, v in sorted(items.items()))


def rsa_sign(key, text):
    return b64(key.sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256()))


def hmac_b64(key, msg, algo):
    return b64(hmac.new(key, msg, algo).digest())


def derived(label, bits):
    """Deterministic pseudo-random integer from a label."""
    out = b""
    counter = 0
    while len(out) * 8 < bits:
        out += hashlib.sha256(f"{label}/{counter}".encode()).digest()
        counter += 1
    return int.from_bytes(out, "big") >> (len(out) * 8 - bits)


def lst_case(name, sig_key, prepend, p, g, a, b, nonce, timestamp):
    url = BASE_URL + "/oauth/live_session_token"
    A = pow(g, a, p)
    params = {
        "diffie_hellman_challenge": format(A, "x"),
        "oauth_consumer_key": CONSUMER_KEY,
        "oauth_nonce": nonce,
        "oauth_signature_method": "RSA-SHA256",
        "oauth_timestamp": str(timestamp),
        "oauth_token": ACCESS_TOKEN,
    }
    ps = params_string(params)
    base = prepend.hex() + "POST&" + pct(url) + "&" + pct(ps)
    sig = rsa_sign(sig_key, base)
    B = pow(g, b, p)
    K = pow(B, a, p)
    assert K == pow(A, b, p)
    k_bytes = java_bytes(K)
    lst = hmac.new(k_bytes, prepend, hashlib.sha1).digest()
    lst_signature = hmac.new(lst, CONSUMER_KEY.encode(), hashlib.sha1).hexdigest()
    wrong = hmac.new(magnitude_bytes(K), prepend, hashlib.sha1).digest()
    return {
        "name": name,
        "url": url,
        "dh_random_hex": format(a, "x"),
        "server_secret_hex": format(b, "x"),
        "oauth_nonce": nonce,
        "oauth_timestamp": timestamp,
        "diffie_hellman_challenge_hex": format(A, "x"),
        "params_string": ps,
        "base_string": base,
        "signature_base64": sig,
        "authorization_header": header(params, sig, REALM),
        "diffie_hellman_response_hex": format(B, "x"),
        "k_bit_length": K.bit_length(),
        "k_bytes_hex": k_bytes.hex(),
        "live_session_token": b64(lst),
        "live_session_token_signature": lst_signature,
        "live_session_token_if_sign_byte_forgotten": b64(wrong),
    }


def signed_request(lst, method, url, nonce, timestamp):
    params = {
        "oauth_consumer_key": CONSUMER_KEY,
        "oauth_nonce": nonce,
        "oauth_signature_method": "HMAC-SHA256",
        "oauth_timestamp": str(timestamp),
        "oauth_token": ACCESS_TOKEN,
    }
    base = method + "&" + pct(url) + "&" + pct(params_string(params))
    sig = hmac_b64(lst, base.encode("utf-8"), hashlib.sha256)
    return {
        "method": method,
        "url": url,
        "oauth_nonce": nonce,
        "oauth_timestamp": timestamp,
        "base_string": base,
        "signature_base64": sig,
        "authorization_header": header(params, sig, REALM),
    }


def third_party(sig_key):
    out = {}
    rt_url = BASE_URL + "/oauth/request_token"
    rt_params = {
        "oauth_callback": "oob",
        "oauth_consumer_key": CONSUMER_KEY,
        "oauth_nonce": "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
        "oauth_signature_method": "RSA-SHA256",
        "oauth_timestamp": "1714490000",
    }
    base = "POST&" + pct(rt_url) + "&" + pct(params_string(rt_params))
    sig = rsa_sign(sig_key, base)
    out["request_token"] = {
        "url": rt_url,
        "callback": "oob",
        "oauth_nonce": rt_params["oauth_nonce"],
        "oauth_timestamp": int(rt_params["oauth_timestamp"]),
        "base_string": base,
        "signature_base64": sig,
        "authorization_header": header(rt_params, sig, REALM),
    }
    at_url = BASE_URL + "/oauth/access_token"
    at_params = {
        "oauth_consumer_key": CONSUMER_KEY,
        "oauth_nonce": "b0b1b2b3b4b5b6b7b8b9babbbcbdbebf",
        "oauth_signature_method": "RSA-SHA256",
        "oauth_timestamp": "1714490060",
        "oauth_token": "e0d75b4c5c1d2c0f2af7",
        "oauth_verifier": "5f2b7c9d1e3a",
    }
    base = "POST&" + pct(at_url) + "&" + pct(params_string(at_params))
    sig = rsa_sign(sig_key, base)
    out["access_token"] = {
        "url": at_url,
        "request_token": at_params["oauth_token"],
        "verifier": at_params["oauth_verifier"],
        "oauth_nonce": at_params["oauth_nonce"],
        "oauth_timestamp": int(at_params["oauth_timestamp"]),
        "base_string": base,
        "signature_base64": sig,
        "authorization_header": header(at_params, sig, REALM),
    }
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    sig_key = load_or_make_rsa("signature_key_pkcs8.pem", "signature_key_pkcs1.pem")
    enc_key = load_or_make_rsa("encryption_key_pkcs8.pem", "encryption_key_pkcs1.pem")
    p, g = load_or_make_dh()

    # The access token secret: 20 bytes whose first byte is zero, so byte-wise hex must keep it.
    rng = random.Random(20240430)
    prepend = b"\x00" + bytes(rng.randrange(0, 256) for _ in range(19))
    ciphertext = pkcs1v15_encrypt_deterministic(enc_key.public_key(), prepend, rng)
    assert enc_key.decrypt(ciphertext, padding.PKCS1v15()) == prepend
    secret_b64 = b64(ciphertext)

    # Two DH randoms: the first whose shared secret K has a bit length that is a multiple of 8
    # (Java's toByteArray adds a 0x00 sign byte), the second whose K does not.
    b = derived("tickline-oauth-server-secret", 256)
    cases = []
    wanted = [("sign_byte", True), ("no_sign_byte", False)]
    for name, needs_sign_byte in wanted:
        i = 0
        while True:
            a = derived(f"tickline-oauth-dh-random/{name}/{i}", 256)
            K = pow(pow(g, b, p), a, p)
            if (K.bit_length() % 8 == 0) == needs_sign_byte:
                break
            i += 1
        nonce = hashlib.md5(f"lst-nonce/{name}".encode()).hexdigest()
        cases.append(lst_case(name, sig_key, prepend, p, g, a, b, nonce, 1714489460 + len(cases)))

    lst = base64.b64decode(cases[0]["live_session_token"])
    requests = [
        signed_request(lst, "GET", BASE_URL + "/portfolio/accounts",
                       "5a1f0c9e2b7d4c3a8e6f1d0b9a2c4e6f", 1714489500),
        signed_request(lst, "POST", BASE_URL + "/iserver/auth/ssodh/init",
                       "7c2e9a1b3d5f4e6a8b0c2d4e6f8a1b3c", 1714489501),
        signed_request(lst, "GET",
                       BASE_URL + "/iserver/marketdata/snapshot?conids=265598,8314&fields=31,84,86",
                       "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b", 1714489502),
        signed_request(lst, "GET",
                       BASE_URL + "/iserver/secdef/search?symbol=BRK%20B&name=true&secType=STK~x",
                       "00112233445566778899aabbccddeeff", 1714489503),
        signed_request(lst, "DELETE",
                       "http://127.0.0.1:5000/v1/api/iserver/account/DU1234567/order/352055828",
                       "ffeeddccbbaa99887766554433221100", 1714489504),
    ]

    pct_cases = [
        "AZaz09-._~",
        "https://api.ibkr.com/v1/api?a=b&c=d,e",
        "sp ace+plus/slash=eq%pct",
        "épée £ 日本",
        "a1b2c3d4==",
    ]

    vectors = {
        "description": (
            "Generated by engine/ibkr/scripts/oauth_vectors.py with Python's cryptography "
            "package; keys, dhparam.pem and config.toml are in this folder."
        ),
        "consumer_key": CONSUMER_KEY,
        "access_token": ACCESS_TOKEN,
        "realm": REALM,
        "access_token_secret_base64": secret_b64,
        "prepend_hex": prepend.hex(),
        "dh_prime_hex": format(p, "x"),
        "dh_generator": g,
        "lst_cases": cases,
        "signed_requests": requests,
        "third_party": third_party(sig_key),
        "percent_encoding": [{"input": s, "encoded": pct(s)} for s in pct_cases],
    }
    with open(path("vectors.json"), "w", encoding="utf-8") as f:
        json.dump(vectors, f, indent=2, ensure_ascii=False)
        f.write("\n")

    config = (
        "# OAuth 1.0a test configuration (throwaway keys generated by scripts/oauth_vectors.py)\n"
        f'consumer_key = "{CONSUMER_KEY}"\n'
        f'access_token = "{ACCESS_TOKEN}"\n'
        f'access_token_secret = "{secret_b64}"\n'
        'signature_key_path = "signature_key_pkcs8.pem"\n'
        'encryption_key_path = "encryption_key_pkcs1.pem"\n'
        'dh_param_path = "dhparam.pem"\n'
        f'base_url = "{BASE_URL}"\n'
    )
    with open(path("config.toml"), "w", encoding="utf-8") as f:
        f.write(config)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""gen-sim-pki.py - generate the software TEE simulator's published provisioning hierarchy ONCE.

Run from lib/tee/sim/ only to replace the hierarchy (which changes the pinned simulator root and
so every client's pin): root CA, PCK CA, TCB signing certificate (all P-256, valid until
99991231235959Z) with their private keys, and the RSA-3072 simulator signing key (exponent 3, as
SGX SIGSTRUCT requires). Everything written here is public by design (api.md section 1.1).
"""
import datetime
import hashlib
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

NOT_BEFORE = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
NOT_AFTER = datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=datetime.timezone.utc)


def name(cn):
    return x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cas"),
    ])


def issue(subject_cn, key, issuer_cn, issuer_key, ca, pathlen, key_usage):
    b = (x509.CertificateBuilder()
         .subject_name(name(subject_cn))
         .issuer_name(name(issuer_cn))
         .public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(NOT_BEFORE)
         .not_valid_after(NOT_AFTER)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=pathlen), critical=True)
         .add_extension(key_usage, critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                        critical=False))
    return b.sign(issuer_key, hashes.SHA256())


def usage(sign_certs):
    return x509.KeyUsage(digital_signature=not sign_certs, content_commitment=not sign_certs,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=sign_certs, crl_sign=sign_certs, encipher_only=False,
                         decipher_only=False)


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    root_key = ec.generate_private_key(ec.SECP256R1())
    pck_key = ec.generate_private_key(ec.SECP256R1())
    tcb_key = ec.generate_private_key(ec.SECP256R1())
    root_cn = "CAS TEE Simulator Root CA"
    root = issue(root_cn, root_key, root_cn, root_key, True, 1, usage(True))
    pck_ca = issue("CAS TEE Simulator PCK CA", pck_key, root_cn, root_key, True, 0, usage(True))
    tcb = issue("CAS TEE Simulator TCB Signing", tcb_key, root_cn, root_key, False, None,
                usage(False))
    signer = rsa.generate_private_key(public_exponent=3, key_size=3072)
    pkcs8 = dict(encoding=serialization.Encoding.PEM, format=serialization.PrivateFormat.PKCS8,
                 encryption_algorithm=serialization.NoEncryption())
    for stem, cert, key in (("root_ca", root, root_key), ("pck_ca", pck_ca, pck_key),
                            ("tcb_signing", tcb, tcb_key)):
        write(os.path.join(out, stem + ".crt"), cert.public_bytes(serialization.Encoding.PEM))
        write(os.path.join(out, stem + ".key"), key.private_bytes(**pkcs8))
    write(os.path.join(out, "signing_key.pem"), signer.private_bytes(**pkcs8))
    der = root.public_bytes(serialization.Encoding.DER)
    write(os.path.join(out, "root_ca.sha256"), (hashlib.sha256(der).hexdigest() + "\n").encode())


if __name__ == "__main__":
    main()

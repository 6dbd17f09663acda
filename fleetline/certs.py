"""Certificates for the hub-agent wire: a fleet CA, per-cluster client certificates, hub serving certificates.

Owns the identity format of a cluster credential (SAN URI spiffe://fleetline/cluster/<name>, CN=<name>) and
how to read it back from a certificate (`identity_of`), which the hub uses to decide which cluster a mutual-TLS
session belongs to. Keys are ECDSA P-256. Files and the command line live in `fleetline.certs_cli`; this module
only turns bytes into bytes and touches no file.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import re
from collections.abc import Iterable, Mapping

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SPIFFE_PREFIX = "spiffe://fleetline/cluster/"
CA_DAYS = 3650
# Cluster names become a URI path segment and a file name: a DNS-label-like alphabet, no separators.
_CLUSTER_NAME = re.compile(r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$")
# Issued certificates start a little in the past so that small clock skew between machines does not reject them.
_BACKDATE = datetime.timedelta(minutes=5)


def validate_cluster_name(cluster: str) -> None:
    """ValueError unless `cluster` is a lowercase DNS-style name (letters, digits, '-', '.')."""
    if not _CLUSTER_NAME.match(cluster) or ".." in cluster:
        raise ValueError(
            f"cluster name {cluster!r} is not valid: use lowercase letters, digits, '-' and '.', "
            "starting and ending with a letter or digit (e.g. us-east-1)"
        )


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _load_ca(ca_cert_pem: bytes, ca_key_pem: bytes) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    ca_cert = x509.load_pem_x509_certificate(ca_cert_pem)
    ca_key = serialization.load_pem_private_key(ca_key_pem, password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise ValueError("the CA key is not an ECDSA key created by `fleetline certs init`")
    if ca_cert.public_key() != ca_key.public_key():
        raise ValueError("the CA key does not belong to the CA certificate")
    return ca_cert, ca_key


def create_ca(common_name: str) -> tuple[bytes, bytes]:
    """A self-signed CA certificate and its key, both PEM, valid for ten years."""
    key = _new_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def _issue(
    ca_cert_pem: bytes,
    ca_key_pem: bytes,
    common_name: str,
    san: list[x509.GeneralName],
    usage: x509.ObjectIdentifier,
    days: int,
) -> tuple[bytes, bytes]:
    if days < 1:
        raise ValueError(f"days must be at least 1, not {days}")
    ca_cert, ca_key = _load_ca(ca_cert_pem, ca_key_pem)
    key = _new_key()
    now = _now()
    not_after = min(now + datetime.timedelta(days=days), ca_cert.not_valid_after_utc)
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def issue_cluster_certificate(
    ca_cert_pem: bytes, ca_key_pem: bytes, cluster: str, days: int = 365
) -> tuple[bytes, bytes]:
    """A client certificate (and key, PEM) for an agent: CN=<cluster>, SAN URI spiffe://fleetline/cluster/<cluster>."""
    validate_cluster_name(cluster)
    san: list[x509.GeneralName] = [x509.UniformResourceIdentifier(SPIFFE_PREFIX + cluster)]
    return _issue(ca_cert_pem, ca_key_pem, cluster, san, ExtendedKeyUsageOID.CLIENT_AUTH, days)


def issue_server_certificate(
    ca_cert_pem: bytes, ca_key_pem: bytes, hostnames: list[str], days: int = 365
) -> tuple[bytes, bytes]:
    """A serving certificate (and key, PEM) for the hub, valid for each DNS name or IP address in `hostnames`."""
    if not hostnames:
        raise ValueError("a server certificate needs at least one hostname or IP address")
    san: list[x509.GeneralName] = []
    for host in hostnames:
        try:
            san.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            san.append(x509.DNSName(host))
    return _issue(ca_cert_pem, ca_key_pem, hostnames[0], san, ExtendedKeyUsageOID.SERVER_AUTH, days)


def _load(cert_pem: bytes | str) -> x509.Certificate:
    data = cert_pem.encode() if isinstance(cert_pem, str) else cert_pem
    return x509.load_pem_x509_certificate(data)


def identity_of(cert_pem: bytes | str) -> str | None:
    """The cluster a certificate names: its SAN URI spiffe://fleetline/cluster/<name>, else its CN, else None.

    None as well for bytes that are not a PEM certificate. A SPIFFE URI of another trust domain or path is not
    an identity (the CN then decides); this function does not verify the chain, the TLS handshake does.
    """
    try:
        cert = _load(cert_pem)
    except ValueError:
        return None
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    except x509.ExtensionNotFound:
        uris = []
    for uri in uris:
        if uri.startswith(SPIFFE_PREFIX):
            name = uri[len(SPIFFE_PREFIX) :]
            if name and "/" not in name:
                return name
    common_names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if common_names:
        value = common_names[0].value
        return value if isinstance(value, str) and value else None
    return None


def certificate_fingerprint(cert_pem: bytes | str) -> str:
    """"sha256:<hex>" over the certificate's DER encoding (the form a revocation list stores)."""
    return "sha256:" + hashlib.sha256(_load(cert_pem).public_bytes(serialization.Encoding.DER)).hexdigest()


# The keys grpc puts in ServicerContext.auth_context() for a mutual-TLS peer (each maps to a list of bytes).
AUTH_PEM_CERT = "x509_pem_cert"  # the client's leaf certificate, PEM
AUTH_SPIFFE_ID = "peer_spiffe_id"  # the SAN URI when it is a SPIFFE ID
AUTH_COMMON_NAME = "x509_common_name"  # the subject CN


def identity_from_auth_context(auth_context: Mapping[str, Iterable[bytes]]) -> str | None:
    """The cluster identity of a verified mutual-TLS peer, from grpc's `context.auth_context()`; None if none.

    Prefers the PEM certificate (read with identity_of), then the SPIFFE ID, then the CN grpc extracted.
    Only meaningful on a server that requires and verifies client certificates.
    """
    for pem in auth_context.get(AUTH_PEM_CERT, ()):
        identity = identity_of(pem)
        if identity:
            return identity
    for uri in auth_context.get(AUTH_SPIFFE_ID, ()):
        text = uri.decode("utf-8", "replace")
        if text.startswith(SPIFFE_PREFIX) and text[len(SPIFFE_PREFIX) :] and "/" not in text[len(SPIFFE_PREFIX) :]:
            return text[len(SPIFFE_PREFIX) :]
    for common_name in auth_context.get(AUTH_COMMON_NAME, ()):
        text = common_name.decode("utf-8", "replace")
        if text:
            return text
    return None


def peer_certificate_pem(auth_context: Mapping[str, Iterable[bytes]]) -> bytes | None:
    """The peer's leaf certificate PEM from grpc's `context.auth_context()` (for certificate_fingerprint)."""
    for pem in auth_context.get(AUTH_PEM_CERT, ()):
        return pem
    return None

"""Outbound safety: which targets are refused, and how a delivery connects, reads and stops."""

import socket

import pytest

from tests.factories import OwnerFactory
from webhooks import safety, services
from webhooks.errors import EndpointValidationError, UnsafeTargetError
from webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db

REAL_GETADDRINFO = socket.getaddrinfo


def _resolving(monkeypatch, names: dict[str, str]):
    """Make chosen host names resolve to chosen addresses (as a hostile DNS server would)."""

    def fake(host, port, *args, **kwargs):
        if host in names:
            family = socket.AF_INET6 if ":" in names[host] else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (names[host], port))]
        return REAL_GETADDRINFO(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://127.0.0.1/hook", "loopback"),
        ("https://localhost:8443/hook", "loopback"),
        ("https://[::1]/hook", "loopback"),
        ("https://[::ffff:127.0.0.1]/hook", "loopback"),
        ("https://2130706433/hook", "loopback"),  # 127.0.0.1 written as a number
        ("https://10.0.0.1/hook", "private"),
        ("https://192.168.1.20/hook", "private"),
        ("https://172.16.0.5/hook", "private"),
        ("https://169.254.169.254/latest/meta-data/", "metadata"),
        ("https://[fd00:ec2::254]/latest/meta-data/", "metadata"),
        ("https://169.254.10.10/hook", "link-local"),
        ("https://0.0.0.0/hook", "unspecified"),
        ("https://100.64.0.1/hook", "reserved"),
        ("https://224.0.0.1/hook", "multicast"),
        ("http://example.com/hook", "https"),
    ],
)
def test_unsafe_targets_are_refused_with_the_default_settings(production_defaults, url, reason):
    with pytest.raises(EndpointValidationError) as caught:
        services.validate_url(url)
    assert reason in caught.value.field_errors["url"][0]


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("2002:a00:1::1", "private address (10.0.0.1, through 6to4)"),
        ("2002:7f00:1::", "loopback address (127.0.0.1, through 6to4)"),
        ("2002:a9fe:a9fe::1", "metadata address (169.254.169.254, through 6to4)"),
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "private address (10.0.0.1, through Teredo)"),  # client 10.0.0.1
        ("2001:0:4136:e378:8000:63bf:3f57:fdd2", "private address (192.168.2.45, through Teredo)"),
        ("2001:0:c0a8:101::1", "private address (192.168.1.1, through Teredo)"),  # the server side
        ("64:ff9b::a00:1", "private address (10.0.0.1, through NAT64)"),
        ("64:ff9b::7f00:1", "loopback address (127.0.0.1, through NAT64)"),
        ("64:ff9b::a9fe:a9fe", "metadata address (169.254.169.254, through NAT64)"),
        ("::ffff:10.0.0.1", "private address"),
        ("::ffff:169.254.169.254", "metadata address"),
    ],
)
def test_ipv6_addresses_that_reach_a_private_ipv4_are_refused(production_defaults, monkeypatch, address, reason):
    assert reason in safety.address_refusal(address)
    with pytest.raises(EndpointValidationError):
        services.validate_url(f"https://[{address}]/hook")
    _resolving(monkeypatch, {"hooks.evil.test": address})  # and when a name resolves to it
    with pytest.raises(UnsafeTargetError, match=r"through|private|metadata"):
        safety.check_target("https://hooks.evil.test/x")


def test_a_6to4_address_of_a_public_ipv4_is_judged_like_any_address(production_defaults):
    assert safety.address_refusal("2002:5db8:d822::1") is None  # 93.184.216.34
    assert safety.address_refusal("2606:4700:4700::1111") is None


def test_an_endpoint_on_an_unsafe_target_is_not_created(production_defaults):
    owner = OwnerFactory()
    for url in ("https://127.0.0.1/hook", "https://10.0.0.1/hook", "https://169.254.169.254/", "http://example.com/"):
        with pytest.raises(EndpointValidationError) as caught:
            services.endpoint_create(user=owner.user, organization=owner.organization, url=url, events=["job.failed"])
        assert list(caught.value.field_errors) == ["url"]
    assert not WebhookEndpoint.objects.exists()


def test_a_name_that_resolves_to_a_private_address_is_refused(production_defaults, monkeypatch):
    _resolving(monkeypatch, {"hooks.evil.test": "10.1.2.3"})
    with pytest.raises(UnsafeTargetError, match=r"10\.1\.2\.3.*private"):
        safety.check_target("https://hooks.evil.test/x")


def test_a_public_target_is_accepted(production_defaults, monkeypatch):
    _resolving(monkeypatch, {"hooks.studio.test": "93.184.216.34"})
    target = safety.check_target("https://hooks.studio.test:8443/in?x=1")
    assert (target.host, target.port, target.path, target.addresses) == (
        "hooks.studio.test", 8443, "/in?x=1", ("93.184.216.34",)
    )
    assert target.host_header == "hooks.studio.test:8443"


def test_the_metadata_address_is_refused_even_inside_an_allowed_network(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = ["169.254.0.0/16", "fd00::/8"]
    assert safety.address_refusal("169.254.169.254") == "the cloud metadata address"
    assert safety.address_refusal("fd00:ec2::254") == "the cloud metadata address"
    assert safety.address_refusal("169.254.1.1") is None


def test_allowing_loopback_allows_only_loopback(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = ["127.0.0.0/8"]
    assert safety.address_refusal("127.0.0.1") is None
    assert safety.address_refusal("10.0.0.1") == "a private address"
    assert safety.address_refusal("::1") == "a loopback address"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("hooks.studio.test/x", "full URL"),
        ("ftp://hooks.studio.test/x", "full URL"),
        ("https://user:pw@hooks.studio.test/x", "password"),
        ("https://hooks.studio.test/x#frag", "fragment"),
        ("https://hooks.studio.test:99999/x", "not a valid URL"),
    ],
)
def test_malformed_urls_get_a_clear_error(production_defaults, url, message):
    with pytest.raises(UnsafeTargetError, match=message):
        safety.check_url_form(url)


def test_a_delivery_connects_to_the_checked_address_with_the_name_in_the_host_header(receiver, monkeypatch):
    # Given a name that resolves to the (allowed) receiver's loopback address
    port = int(receiver.url.rsplit(":", 1)[1].split("/")[0])
    _resolving(monkeypatch, {"pipeline.studio.test": "127.0.0.1"})
    response = safety.post(f"http://pipeline.studio.test:{port}/in", b"{}", {"webhook-id": "msg_1"})
    assert response.status_code == 200, response.error
    [request] = receiver.requests
    assert request.headers["host"] == f"pipeline.studio.test:{port}"
    assert request.path == "/in"


def test_dns_rebinding_at_delivery_time_is_refused_before_connecting(receiver, monkeypatch):
    # The endpoint was checked when saved; by delivery its name points at a private address.
    port = int(receiver.url.rsplit(":", 1)[1].split("/")[0])
    _resolving(monkeypatch, {"pipeline.studio.test": "10.0.0.1"})
    response = safety.post(f"http://pipeline.studio.test:{port}/in", b"{}", {})
    assert response.status_code is None
    assert "private" in response.error
    assert receiver.requests == []


def test_redirects_are_not_followed(receiver):
    receiver.status = 307
    receiver.extra_headers = {"Location": "http://169.254.169.254/latest/meta-data/"}
    response = safety.post(receiver.url, b"{}", {})
    assert response.status_code == 307
    assert not response.ok
    assert len(receiver.requests) == 1


def test_the_answer_is_read_only_up_to_the_limit(receiver, settings):
    settings.WEBHOOKS_RESPONSE_MAX_BYTES = 4096
    receiver.answer = b"x" * 2_000_000
    response = safety.post(receiver.url, b"{}", {})
    assert response.status_code == 200
    assert len(response.body) == 4096


def test_a_slow_receiver_times_out(receiver, settings):
    settings.WEBHOOKS_TIMEOUT_SECONDS = 1
    receiver.delay = 2.5
    response = safety.post(receiver.url, b"{}", {})
    assert response.status_code is None
    assert "Timed out" in response.error
    assert response.duration_ms < 2500


def test_a_closed_port_is_an_error_not_an_exception(settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    response = safety.post(f"http://127.0.0.1:{port}/", b"{}", {})
    assert response.status_code is None
    assert "connect" in response.error.lower()


@pytest.fixture
def tls_receiver(tmp_path):
    """An https receiver on loopback with a certificate for pipeline.studio.test from a CA of the test's own."""
    import datetime
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def name(cn):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder().subject_name(name("test CA")).issuer_name(name("test CA"))
        .public_key(ca_key.public_key()).serial_number(1).not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert = (
        x509.CertificateBuilder().subject_name(name("pipeline.studio.test")).issuer_name(ca.subject)
        .public_key(key.public_key()).serial_number(2).not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("pipeline.studio.test")]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ))
    seen = {"sni": [], "hosts": []}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen["hosts"].append(self.headers["Host"])
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    context.sni_callback = lambda sock, server_name, ctx: seen["sni"].append(server_name)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server.server_address[1], str(tmp_path / "ca.pem"), seen
    server.shutdown()
    server.server_close()


def test_https_connects_to_the_checked_address_but_verifies_the_urls_name(tls_receiver, monkeypatch):
    port, ca_file, seen = tls_receiver
    _resolving(monkeypatch, {"pipeline.studio.test": "127.0.0.1", "other.studio.test": "127.0.0.1"})

    # An untrusted certificate is refused.
    response = safety.post(f"https://pipeline.studio.test:{port}/in", b"{}", {})
    assert response.status_code is None
    assert response.error == "The TLS handshake failed (certificate not valid for the host?)."

    # Trusted, for the URL's name: delivered, with SNI and Host naming the host, not the address.
    monkeypatch.setattr(safety.certifi, "where", lambda: ca_file)
    response = safety.post(f"https://pipeline.studio.test:{port}/in", b"{}", {})
    assert response.status_code == 200, response.error
    assert seen["sni"][-1] == "pipeline.studio.test"
    assert seen["hosts"] == [f"pipeline.studio.test:{port}"]

    # A name the certificate does not cover is refused even though the address is the same.
    response = safety.post(f"https://other.studio.test:{port}/in", b"{}", {})
    assert response.status_code is None
    assert "TLS" in response.error

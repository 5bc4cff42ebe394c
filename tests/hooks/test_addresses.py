"""Which target URLs a hook may have: the syntax, and every address the host resolves to."""

import ipaddress
import socket
from unittest import mock

import hypothesis
import pytest
from hypothesis import strategies as st

from hooks.addresses import TargetRefused, target_check
from tests.hooks.conftest import PUBLIC, answers

REFUSED_ADDRESSES = [
    "127.0.0.1",
    "127.255.0.9",
    "[::1]",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "100.64.0.1",
    "169.254.169.254",
    "169.254.1.1",
    "0.0.0.0",
    "[::]",
    "224.0.0.1",
    "239.255.255.250",
    "255.255.255.255",
    "240.0.0.1",
    "192.0.2.1",
    "198.51.100.7",
    "203.0.113.7",
    "198.18.0.1",
    "[fe80::1]",
    "[fc00::1]",
    "[fd12:3456::1]",
    "[ff02::1]",
    "[2001:db8::1]",
    "[::ffff:127.0.0.1]",
    "[::ffff:10.0.0.1]",
    "[::ffff:169.254.169.254]",
    "[::127.0.0.1]",
    "[2002:7f00:1::1]",  # 6to4 of 127.0.0.1
    "[2002:a00:1::1]",  # 6to4 of 10.0.0.1
    "[2001:0:4136:e378:8000:63bf:f5ff:fffe]",  # Teredo
    "[64:ff9b::a00:1]",  # NAT64 of 10.0.0.1
    "[64:ff9b::a9fe:a9fe]",  # NAT64 of 169.254.169.254
]

# How a URL parser (getaddrinfo, a browser) reads hosts made of numbers.
NUMERIC_HOSTS = {
    "2130706433": "127.0.0.1",
    "0x7f.1": "127.0.0.1",
    "017700000001": "127.0.0.1",
    "0x7f000001": "127.0.0.1",
    "0177.0.0.1": "127.0.0.1",
    "127.1": "127.0.0.1",
    "127.0.0.1.": "127.0.0.1",
    "0xA9FEA9FE": "169.254.169.254",
    "3232235777": "192.168.1.1",
    "10.0x10000": "10.1.0.0",
    "0": "0.0.0.0",
}


@pytest.fixture
def no_lookups(resolve):
    """An address in the URL is never looked up as a name."""
    return resolve(AssertionError("looked up an address as a name"))


def refusal(url: str) -> str:
    with pytest.raises(TargetRefused) as refused:
        target_check(url=url)
    return str(refused.value)


@pytest.mark.parametrize("host", REFUSED_ADDRESSES)
def test_a_url_naming_a_non_public_address_is_refused(host, no_lookups):
    assert "not public" in refusal(f"https://{host}/hooks")


@pytest.mark.parametrize("host, address", NUMERIC_HOSTS.items())
def test_numeric_ipv4_forms_are_read_as_the_address_they_are(host, address, no_lookups):
    assert f"not public: {address} " in refusal(f"https://{host}/")


def test_a_numeric_form_of_a_public_address_is_that_address(no_lookups):
    target = target_check(url="https://1572395042/in")
    assert (target.host, target.addresses, target.host_header) == (PUBLIC, (ipaddress.ip_address(PUBLIC),), PUBLIC)


@pytest.mark.parametrize("host", ["08.0.0.1", "999999999999", "1.2.3.0x1ff"])
def test_numbers_that_are_no_ipv4_address_are_refused(host, no_lookups):
    assert refusal(f"https://{host}/") == "target_url's host is not a valid IPv4 address."


def test_localhost_is_refused():
    assert "not public" in refusal("https://localhost/")


def test_a_name_resolving_to_a_private_address_is_refused(resolve):
    resolve(answers("10.0.0.5"))
    assert refusal("https://internal.example.com/") == (
        "target_url resolves to an address that is not public: 10.0.0.5 "
        "(HOOKS_ALLOW_PRIVATE_TARGETS allows it locally)."
    )


def test_every_address_of_a_name_must_be_public(resolve):
    resolve(answers(PUBLIC, "2606:2800:220:1::1", "169.254.169.254"))
    assert "169.254.169.254" in refusal("https://mixed.example.com/")


def test_a_name_resolving_to_public_addresses_passes_with_its_addresses(resolve):
    resolver = resolve(answers(PUBLIC, "2606:2800:220:1::1", PUBLIC))
    target = target_check(url="https://Hooks.Example.com/in/?a=1&b=2#frag")
    assert resolver.calls == ["hooks.example.com"]
    assert target.addresses == (ipaddress.ip_address(PUBLIC), ipaddress.ip_address("2606:2800:220:1::1"))
    assert (target.scheme, target.host, target.port) == ("https", "hooks.example.com", 443)
    assert (target.request_target, target.host_header) == ("/in/?a=1&b=2", "hooks.example.com")


def test_a_public_ipv6_address_passes_without_a_lookup(no_lookups):
    target = target_check(url="https://[2606:4700::1111]:8443")
    assert (target.host_header, target.request_target) == ("[2606:4700::1111]:8443", "/")


def test_a_name_that_does_not_resolve_is_refused(resolve):
    resolve(socket.gaierror(socket.EAI_NONAME, "Name or service not known"))
    assert refusal("https://nowhere.example.com/") == "target_url's host does not resolve: nowhere.example.com."


def test_an_international_name_is_looked_up_and_sent_in_ascii(resolve):
    resolver = resolve(answers(PUBLIC))
    target = target_check(url="https://bücher.example/straße")
    assert resolver.calls == ["xn--bcher-kva.example"]
    assert (target.host_header, target.request_target) == ("xn--bcher-kva.example", "/stra%C3%9Fe")


@pytest.mark.parametrize(
    "url", ["https://user@example.com/", "https://user:secret@example.com/", "https://example.com@10.0.0.1/"]
)
def test_a_url_with_a_user_name_or_password_is_refused(url, no_lookups):
    assert refusal(url) == "target_url may not contain a user name or password."


@pytest.mark.parametrize(
    "url", ["http://example.com/", "ftp://example.com/", "example.com/in", "//example.com/in", "https:///in", ""]
)
def test_anything_but_an_absolute_https_url_is_refused(url, no_lookups):
    assert refusal(url) == "target_url must be an absolute https:// URL."


def test_http_is_allowed_by_its_setting(settings, resolve):
    settings.HOOKS_ALLOW_HTTP = True
    resolve(answers(PUBLIC, port=80))
    assert target_check(url="http://example.com/in").host_header == "example.com"


def test_where_http_is_allowed_another_scheme_is_told_both(settings, no_lookups):
    settings.HOOKS_ALLOW_HTTP = True
    assert refusal("ftp://example.com/") == "target_url must be an absolute https:// or http:// URL."


def test_a_url_of_2048_characters_passes_and_one_more_is_refused(resolve):
    resolve(answers(PUBLIC))
    url = "https://example.com/" + "a" * (2048 - len("https://example.com/"))
    assert target_check(url=url).url == url
    assert refusal(url + "a") == "target_url must be at most 2048 characters."


@pytest.mark.parametrize(
    "url", ["https://exa mple.com/", "https://example.com/\r\nX-Injected: 1", "https://example.com\\@10.0.0.1/"]
)
def test_spaces_control_characters_and_backslashes_are_refused(url, no_lookups):
    assert refusal(url) == "target_url may not contain spaces, control characters or backslashes."


@pytest.mark.parametrize("url", ["https://[::1/", "https://[not-an-address]/", "https://a]b/"])
def test_brackets_that_hold_no_ipv6_address_are_refused(url, no_lookups):
    assert refusal(url) == "target_url is not a valid URL."


@pytest.mark.parametrize("url", ["https://example.com:99999/", "https://example.com:http/"])
def test_an_invalid_port_is_refused(url, no_lookups):
    assert refusal(url) == "target_url has an invalid port."


def test_private_targets_are_allowed_by_their_setting(settings):
    settings.HOOKS_ALLOW_PRIVATE_TARGETS = True
    assert target_check(url="https://127.0.0.1:8443/").addresses == (ipaddress.ip_address("127.0.0.1"),)
    assert ipaddress.ip_address("127.0.0.1") in target_check(url="https://localhost/").addresses


METADATA_HOSTS = [
    "169.254.169.254",
    "169.254.170.2",
    "2852039166",
    "0xA9FEA9FE",
    "0251.0376.0251.0376",
    "169.254.43518",
    "[::ffff:169.254.169.254]",
    "[::ffff:a9fe:a9fe]",
    "[::169.254.169.254]",
    "[64:ff9b::a9fe:a9fe]",
    "[2002:a9fe:a9fe::1]",
    "[fd00:ec2::254]",
]


@pytest.mark.parametrize("host", METADATA_HOSTS)
def test_the_metadata_address_is_refused_even_where_private_targets_are_allowed(settings, host, no_lookups):
    settings.HOOKS_ALLOW_PRIVATE_TARGETS = settings.HOOKS_ALLOW_HTTP = True
    assert refusal(f"http://{host}/latest/meta-data/").endswith(" (cloud metadata: never a target).")


def test_a_name_resolving_to_the_metadata_address_is_refused_where_private_targets_are_allowed(settings, resolve):
    settings.HOOKS_ALLOW_PRIVATE_TARGETS = True
    resolve(answers("127.0.0.1", "169.254.169.254"))
    assert refusal("https://metadata.example.com/") == (
        "target_url resolves to an address that is not public: 169.254.169.254 (cloud metadata: never a target)."
    )


def test_the_refusal_names_the_field_for_the_api():
    with pytest.raises(ValueError) as refused:
        target_check(url="https://10.0.0.1/")
    assert refused.value.field == "target_url"


@hypothesis.given(st.text(max_size=200) | st.builds("https://{}/{}".format, st.text(max_size=80), st.text(max_size=40)))
@hypothesis.settings(max_examples=400, deadline=None)
def test_any_text_is_either_a_checked_target_or_a_refusal(url):
    with mock.patch("socket.getaddrinfo", return_value=answers(PUBLIC)):
        try:
            target = target_check(url=url)
        except TargetRefused as refused:
            assert str(refused).startswith("target_url")
        else:
            assert target.scheme == "https" and target.addresses and target.request_target.isascii()

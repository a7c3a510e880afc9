import pytest

from aci_ip_registrar.config import check_endpoint, check_number, parse_target_spec
from aci_ip_registrar.errors import ConfigError, UsageError

POOL = ("/subscriptions/3f2c1a9e-8b7d-4c6e-9f10-2a3b4c5d6e7f/resourceGroups/rg/providers/"
        "Microsoft.Network/applicationGateways/gw/backendAddressPools/p")
REC = ("/subscriptions/3f2c1a9e-8b7d-4c6e-9f10-2a3b4c5d6e7f/resourceGroups/rg/providers/"
       "Microsoft.Network/privateDnsZones/corp.internal/A/app")


@pytest.mark.parametrize("url,expected", [
    ("HTTPS://Management.Azure.com", "https://management.azure.com"),
    ("https://127.0.0.1:8443/", "https://127.0.0.1:8443"),
    (" https://management.usgovcloudapi.net ", "https://management.usgovcloudapi.net"),
])
def test_endpoint_accepted_and_normalised(url, expected):
    assert check_endpoint(url) == expected


@pytest.mark.parametrize("url,needle", [
    ("https://user:secret@127.0.0.1:1", "user info"), ("https://127.0.0.1:1/arm", "path"),
    ("https://127.0.0.1:1?x=1", "query"), ("http://127.0.0.1:1", "must be https"),
    ("https://127.0.0.1:99999", "must be https"), ("https://", "must be https"),
])
def test_endpoint_refused_without_echoing_secrets(url, needle):
    with pytest.raises(ConfigError, match=needle) as info:
        check_endpoint(url)
    assert "secret" not in info.value.message


@pytest.mark.parametrize("value,zero_ok,bad", [
    (float("nan"), False, True), (float("inf"), False, True), (-1.0, True, True),
    (0.0, False, True), (0.0, True, False), (5.0, False, False),
])
def test_numbers_finite(value, zero_ok, bad):
    assert (check_number("--x", value, zero_ok) is not None) is bad


@pytest.mark.parametrize("options", [";mode=shared;mode=exclusive", ";ttl=60;ttl=30",
                                     ";MODE=shared;mode=shared"])
def test_option_given_twice_is_a_usage_error(options):
    with pytest.raises(UsageError, match="more than once"):
        parse_target_spec(REC + options)


@pytest.mark.parametrize("ttl", ["²", "٣", "1e3", "-1", "0", "2147483648", "+5", "0x10"])
def test_ttl_ascii_digits_in_range(ttl):
    with pytest.raises(ConfigError, match="ttl"):
        parse_target_spec(f"{REC};ttl={ttl}")
    assert parse_target_spec(f"{REC};ttl=2147483647").ttl == 2147483647

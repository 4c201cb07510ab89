"""Twilio's request signature, checked as twilio-python's own RequestValidator does."""

import pytest
from twilio.request_validator import RequestValidator

from messaging.twilio_signature import twilio_signature_verified, url_forms

TOKEN = "12345"
PARAMS = {
    "MessageSid": ["SM123"],
    "MessageStatus": ["delivered"],
    "To": ["+5215512345678"],
    "MediaUrl0": ["https://media.example/a.jpg", "https://media.example/b.jpg"],
}
URLS = [
    "https://fc.example/hooks/7/status?message=9",
    "https://fc.example:443/hooks/7/status?message=9",
    "http://fc.example/hooks/7/status?message=9",
    "http://fc.example:80/hooks/7/status?message=9",
    "https://fc.example:8443/hooks/7/status?message=9",
    "https://user:pw@fc.example/hooks/7/inbound",
    "https://[2001:db8::1]:443/hooks/7/inbound",
]


class _MultiDict(dict[str, list[str]]):
    """What a Django QueryDict gives RequestValidator: every value of a name."""

    def getlist(self, name: str) -> list[str]:
        return self[name]


@pytest.mark.parametrize("signed", URLS)
@pytest.mark.parametrize("called", URLS)
def test_twilios_own_validator_and_ours_agree(signed: str, called: str) -> None:
    validator = RequestValidator(TOKEN)
    given = validator.compute_signature(signed, _MultiDict(PARAMS))

    ours = twilio_signature_verified(
        token=TOKEN, url=called, params=PARAMS, given=given
    )

    assert ours == validator.validate(called, _MultiDict(PARAMS), given)


@pytest.mark.parametrize(
    ("url", "forms"),
    [
        (
            "https://fc.example:443/h?a=1",
            ("https://fc.example/h?a=1", "https://fc.example:443/h?a=1"),
        ),
        (
            "https://fc.example/h",
            ("https://fc.example/h", "https://fc.example:443/h"),
        ),
        ("http://fc.example/h", ("http://fc.example/h", "http://fc.example:80/h")),
        (
            "https://fc.example:8443/h",
            ("https://fc.example/h", "https://fc.example:8443/h"),
        ),
    ],
)
def test_a_url_is_tried_with_the_port_and_without(
    url: str, forms: tuple[str, str]
) -> None:
    assert url_forms(url) == forms


def test_a_parameter_given_as_one_string_is_one_value() -> None:
    single = {"MessageSid": "SM123", "MessageStatus": "delivered"}
    given = RequestValidator(TOKEN).compute_signature(URLS[0], single)

    assert twilio_signature_verified(
        token=TOKEN, url=URLS[0], params=single, given=given
    )


def test_a_wrong_token_a_missing_one_or_an_odd_signature_verify_nothing() -> None:
    url = URLS[0]
    given = RequestValidator(TOKEN).compute_signature(url, _MultiDict(PARAMS))

    assert twilio_signature_verified(token=TOKEN, url=url, params=PARAMS, given=given)
    assert not twilio_signature_verified(
        token="54321", url=url, params=PARAMS, given=given
    )
    assert not twilio_signature_verified(token="", url=url, params=PARAMS, given="")
    assert not twilio_signature_verified(
        token=TOKEN, url=url, params=PARAMS, given="é" + given
    )

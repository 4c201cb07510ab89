"""Phone numbers: parse what operators and spreadsheets write, store E.164."""

import functools
import importlib.resources
import re
import unicodedata
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError

_COUNTRY_CODES = phonenumbers.COUNTRY_CODE_TO_REGION_CODE
# Number types in the order phonenumbers tests them; any match makes a number valid.
_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)


class _RegionRules:
    """phonenumbers' validity test for one region, compiled into few regexes.

    is_valid_number() tries up to eleven patterns one Python call at a time; here the
    patterns of the types that allow a number's length are one alternation. Same
    answers (tests/audiences/test_phones.py compares the two on random numbers).
    """

    def __init__(self, metadata: Any) -> None:
        general = metadata.general_desc
        self.general = (
            re.compile(general.national_number_pattern)
            if general is not None and general.national_number_pattern
            else None
        )
        self.general_lengths = set(general.possible_length) if general else set()
        self.leading = (
            re.compile(metadata.leading_digits) if metadata.leading_digits else None
        )
        by_length: dict[int, list[str]] = {}
        any_length: list[str] = []
        for name in _TYPES:
            desc = getattr(metadata, name)
            if desc is None or not desc.national_number_pattern:
                continue
            if name == "mobile" and metadata.same_mobile_and_fixed_line_pattern:
                continue  # phonenumbers does not test it apart from fixed_line
            if desc.possible_length:
                for length in desc.possible_length:
                    by_length.setdefault(length, []).append(
                        desc.national_number_pattern
                    )
            else:
                any_length.append(desc.national_number_pattern)
        self.types = {
            length: re.compile("(?:" + ")|(?:".join(patterns + any_length) + ")")
            for length, patterns in by_length.items()
        }
        self.types_any = (
            re.compile("(?:" + ")|(?:".join(any_length) + ")") if any_length else None
        )

    def known_type(self, national: str) -> bool:
        if self.general is None:
            return False
        if self.general_lengths and len(national) not in self.general_lengths:
            return False
        if not self.general.fullmatch(national):
            return False
        types = self.types.get(len(national), self.types_any)
        return bool(types is not None and types.fullmatch(national))


@functools.cache
def _region_rules(region: str) -> _RegionRules | None:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region, None)
    return _RegionRules(metadata) if metadata is not None else None


def _is_valid(code: int, national: str) -> bool | None:
    """phonenumbers.is_valid_number for +<code><national>; None where it must decide
    itself (non-geographic codes)."""
    regions = _COUNTRY_CODES.get(code)
    if not regions:
        return False
    if "001" in regions:
        return None
    region = regions[0]
    if len(regions) > 1:
        for candidate in regions:
            rules = _region_rules(candidate)
            if rules is None:
                continue
            if rules.leading is not None:
                if rules.leading.match(national):
                    break
            elif rules.known_type(national):
                break
        else:
            return False
        region = candidate
    rules = _region_rules(region)
    return rules is not None and rules.known_type(national)


def _valid_e164(text: str) -> bool:
    """True when ``text`` is already a valid E.164 number; False when unsure.

    Builds the number from its digits instead of parsing it, three times faster than
    phonenumbers.parse. Country calling codes are prefix-free, so one of the first
    three digits' prefixes is the code. A national number with a leading zero needs
    the parser's care and is left to it.
    """
    digits = text[1:]
    if text[:1] != "+" or not (digits.isascii() and digits.isdigit()):
        return False
    for size in (1, 2, 3):
        code = int(digits[:size])
        if code in _COUNTRY_CODES:
            national = digits[size:]
            if not national or national[0] == "0":
                return False
            verdict = _is_valid(code, national)
            if verdict is None:
                number = phonenumbers.PhoneNumber(
                    country_code=code, national_number=int(national)
                )
                verdict = phonenumbers.is_valid_number(number)
            return bool(verdict)
    return False


# Invisible marks a number copied from a phone's screen or a chat may carry
# (left-to-right marks, zero-width spaces, byte-order marks: Unicode's format
# characters), dropped. Every kind of space (no-break, narrow no-break, thin,
# ideographic, tabs ...) is one that str.split() splits on.
_INVISIBLE = dict.fromkeys(
    code for code in range(0x10000) if unicodedata.category(chr(code)) == "Cf"
)

# Dialling prefixes a country has abolished but its numbers are still written with,
# by country calling code. phonenumbers reads a country's current prefixes from its
# metadata (national_prefix_for_parsing); these are gone from it. Mexico: the 1 after
# +52 for mobiles, 044 / 045 for mobiles from a fixed line, 01 / 02 for long distance,
# all abolished in August 2019; libphonenumber's Mexican metadata parsed them with this
# national_prefix_for_parsing until release 8.13.38 (2024) deleted it.
_ABOLISHED_PREFIXES = {52: re.compile(r"0(?:[12]|4[45])|1")}


def _without_abolished_prefix(number: phonenumbers.PhoneNumber) -> str | None:
    """The E.164 form of ``number`` read without an abolished dialling prefix of its
    country, when that leaves a valid number; else None."""
    code = int(number.country_code or 0)
    prefix = _ABOLISHED_PREFIXES.get(code)
    if prefix is None:
        return None
    national = phonenumbers.national_significant_number(number)
    found = prefix.match(national)
    rest = national[found.end() :] if found else ""
    if not rest or rest[0] == "0":
        return None
    bare = phonenumbers.PhoneNumber(country_code=code, national_number=int(rest))
    return f"+{code}{rest}" if phonenumbers.is_valid_number(bare) else None


def normalize_phone(raw: object, *, region: str | None = None) -> str:
    """Return ``raw`` as an E.164 string (``+525500998877``) or raise ValidationError.

    Accepts what spreadsheets produce: blanks of any kind, separators, and a number
    cell read back as a float (``525500998877.0``), and dialling prefixes a country
    has abolished (``+52 1``, ``044``). A number without ``+`` is read in ``region``
    (default: the PHONE_DEFAULT_REGION setting).
    """
    return phone_read(raw, region=region)[0]


def phone_read(raw: object, *, region: str | None = None) -> tuple[str, bool]:
    """normalize_phone's number, and whether its country came from ``region`` (or
    the PHONE_DEFAULT_REGION setting) because it was written with no country code
    (``55 0099 8877``; not ``+52…``, ``0052…`` nor ``52…``)."""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = str(raw if raw is not None else "").strip()
    if text.endswith(".0") and text[:-2].lstrip("+").isdigit():
        text = text[:-2]
    if not text:
        raise ValidationError("A phone number is required.", code="required")
    if _valid_e164(text):
        return text, False
    text = " ".join(text.translate(_INVISIBLE).split())
    if not text:
        raise ValidationError("A phone number is required.", code="required")
    try:
        number = phonenumbers.parse(
            text, region or settings.PHONE_DEFAULT_REGION, keep_raw_input=True
        )
    except phonenumbers.NumberParseException:
        raise ValidationError(
            "%(value)s is not a phone number.", code="invalid", params={"value": text}
        ) from None
    from_region = (
        number.country_code_source
        == phonenumbers.CountryCodeSource.FROM_DEFAULT_COUNTRY
    )
    if not phonenumbers.is_valid_number(number):
        if bare := _without_abolished_prefix(number):
            return bare, from_region
        if text.startswith("+"):
            # It has its country code already: telling to add one misleads.
            raise ValidationError(
                "%(value)s is not a valid phone number: no number of country code "
                "+%(code)s has these digits; check them.",
                code="invalid",
                params={"value": text, "code": number.country_code},
            )
        raise ValidationError(
            "%(value)s is not a valid phone number; write it with its country code, "
            "e.g. +525500998877.",
            code="invalid",
            params={"value": text},
        )
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164, from_region


def region_named(region: str | None = None) -> str:
    """A region as the console names it: ``Mexico (+52)`` for MX (default: the
    PHONE_DEFAULT_REGION setting)."""
    region = (region or settings.PHONE_DEFAULT_REGION).upper()
    name = _country_names().get(region, region)
    return f"{name} (+{phonenumbers.country_code_for_region(region)})"


@functools.cache
def _country_names() -> dict[str, str]:
    """ISO 3166 codes to English names, from the time-zone database's table (the
    tzdata package, a dependency of django-celery-beat). phonenumbers' geocoder
    has them too, but loading it costs every process ~95 MB."""
    try:
        table = importlib.resources.files("tzdata").joinpath("zoneinfo/iso3166.tab")
        lines = table.read_text(encoding="utf-8").splitlines()
    except (ModuleNotFoundError, OSError):
        return {}
    return dict(
        line.split("\t", 1)
        for line in lines
        if line and not line.startswith("#") and "\t" in line
    )


# Digits, maybe a leading +, spaces, dashes, dots or brackets: a phone number.
PHONE_LIKE = re.compile(r"^\+?[\d\s().-]{7,}$")


def phone_in_search(term: str) -> str | None:
    """The E.164 number an admin search term spells, or None if it is no phone."""
    if not PHONE_LIKE.match(term.strip()):
        return None
    try:
        return normalize_phone(term)
    except ValidationError:
        return None


def contact_search(queryset: Any, term: str, field: str = "contact__phone") -> Any:
    """Rows of ``queryset`` whose contact has the phone ``term`` spells (the unique
    phone index, then the rows' contact index); none when it spells no phone."""
    if not term.strip():
        return queryset
    phone = phone_in_search(term)
    return queryset.filter(**{field: phone}) if phone else queryset.none()

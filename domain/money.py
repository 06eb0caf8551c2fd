"""Money as integer minor units with an ISO 4217 currency. No floats anywhere."""

from __future__ import annotations

from domain.errors import InvalidInput
from domain.model import Money

# Active ISO 4217 codes for money people pay with (precious metals, testing and
# fund codes such as XAU, XTS and XDR are left out on purpose).
ISO_4217 = frozenset(
    [
        "AED",
        "AFN",
        "ALL",
        "AMD",
        "AOA",
        "ARS",
        "AUD",
        "AWG",
        "AZN",
        "BAM",
        "BBD",
        "BDT",
        "BHD",
        "BIF",
        "BMD",
        "BND",
        "BOB",
        "BOV",
        "BRL",
        "BSD",
        "BTN",
        "BWP",
        "BYN",
        "BZD",
        "CAD",
        "CDF",
        "CHE",
        "CHF",
        "CHW",
        "CLF",
        "CLP",
        "CNY",
        "COP",
        "COU",
        "CRC",
        "CUP",
        "CVE",
        "CZK",
        "DJF",
        "DKK",
        "DOP",
        "DZD",
        "EGP",
        "ERN",
        "ETB",
        "EUR",
        "FJD",
        "FKP",
        "GBP",
        "GEL",
        "GHS",
        "GIP",
        "GMD",
        "GNF",
        "GTQ",
        "GYD",
        "HKD",
        "HNL",
        "HTG",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "IQD",
        "IRR",
        "ISK",
        "JMD",
        "JOD",
        "JPY",
        "KES",
        "KGS",
        "KHR",
        "KMF",
        "KPW",
        "KRW",
        "KWD",
        "KYD",
        "KZT",
        "LAK",
        "LBP",
        "LKR",
        "LRD",
        "LSL",
        "LYD",
        "MAD",
        "MDL",
        "MGA",
        "MKD",
        "MMK",
        "MNT",
        "MOP",
        "MRU",
        "MUR",
        "MVR",
        "MWK",
        "MXN",
        "MXV",
        "MYR",
        "MZN",
        "NAD",
        "NGN",
        "NIO",
        "NOK",
        "NPR",
        "NZD",
        "OMR",
        "PAB",
        "PEN",
        "PGK",
        "PHP",
        "PKR",
        "PLN",
        "PYG",
        "QAR",
        "RON",
        "RSD",
        "RUB",
        "RWF",
        "SAR",
        "SBD",
        "SCR",
        "SDG",
        "SEK",
        "SGD",
        "SHP",
        "SLE",
        "SOS",
        "SRD",
        "SSP",
        "STN",
        "SVC",
        "SYP",
        "SZL",
        "THB",
        "TJS",
        "TMT",
        "TND",
        "TOP",
        "TRY",
        "TTD",
        "TWD",
        "TZS",
        "UAH",
        "UGX",
        "USD",
        "USN",
        "UYI",
        "UYU",
        "UYW",
        "UZS",
        "VED",
        "VES",
        "VND",
        "VUV",
        "WST",
        "XAD",
        "XAF",
        "XCD",
        "XCG",
        "XOF",
        "XPF",
        "YER",
        "ZAR",
        "ZMW",
        "ZWG",
    ]
)

# Largest order total accepted: ten million major units of a two-decimal currency
# (GraphQL's Int is 32-bit, so the API could not carry much more anyway).
MAX_AMOUNT_MINOR = 1_000_000_000


def validate_currency(code: str, field: tuple[str, ...]) -> str:
    """Return the upper-case ISO 4217 code, or raise INVALID_INPUT for anything else."""
    normalised = code.strip().upper()
    if normalised not in ISO_4217:
        raise InvalidInput(f"{code!r} is not an ISO 4217 currency code.", field)
    return normalised


def validate_money(
    amount_minor: int, currency: str, expected_currency: str, field: tuple[str, ...]
) -> Money:
    """Check an amount is positive, sane and in the program's currency."""
    code = validate_currency(currency, (*field, "currency"))
    if code != expected_currency:
        raise InvalidInput(
            f"The program's currency is {expected_currency}, not {code}.", (*field, "currency")
        )
    if amount_minor <= 0:
        raise InvalidInput("The amount must be positive.", (*field, "amountMinor"))
    if amount_minor > MAX_AMOUNT_MINOR:
        raise InvalidInput("The amount is too large.", (*field, "amountMinor"))
    return Money(amount_minor=amount_minor, currency=code)

"""The member card, card secrets, the till's view of a scanned member, and the audit log."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api import ids
from api.types.node import Node
from domain import audit
from domain.services import instore


@strawberry.type(description="The member's card as the app shows it at the counter.")
class MemberCard:
    card_number: str = strawberry.field(description="Card number (digits, Luhn check digit).")
    qr_payload: str = strawberry.field(
        description="Short-lived signed text to encode in the QR code shown at the counter: "
        "`L1:<cardNumber>:<8-digit TOTP code>` (RFC 6238, 30 s steps)."
    )
    qr_svg: str = strawberry.field(description="The QR code of qrPayload as an SVG document.")
    expires_at: datetime = strawberry.field(
        description="When this code's time step ends; fetch a new one then (tills accept one "
        "step of drift)."
    )


@strawberry.type(
    description="What an app needs to show card codes offline: a TOTP (RFC 6238) secret "
    "and its parameters. Fetching it again issues a new secret and retires the old one."
)
class CardSecret:
    secret: str = strawberry.field(description="The TOTP secret, base32 without padding.")
    algorithm: str = strawberry.field(description="HMAC algorithm of the TOTP: SHA1.")
    digits: int = strawberry.field(description="Digits of a code: 8.")
    period: int = strawberry.field(description="Seconds per time step: 30.")
    payload_format: str = strawberry.field(
        description="How to build the QR text from the card number and the current code."
    )
    otpauth_uri: str = strawberry.field(
        description="The same as an otpauth:// URI, for libraries that take one."
    )

    @classmethod
    def from_domain(cls, secret: instore.CardSecret, issuer: str) -> CardSecret:
        uri = (
            f"otpauth://totp/{issuer}:{secret.card_number}?secret={secret.secret_base32}"
            f"&issuer={issuer}&algorithm={secret.algorithm}&digits={secret.digits}"
            f"&period={secret.period}"
        )
        return cls(
            secret=secret.secret_base32,
            algorithm=secret.algorithm,
            digits=secret.digits,
            period=secret.period,
            payload_format="L1:{cardNumber}:{code}",
            otpauth_uri=uri,
        )


@strawberry.type(
    description="One audited action: a scan, lookup or staff, partner or web shop action."
)
class AuditEvent(Node):
    actor: str = strawberry.field(
        description="Who: role:subject, with @store for staff and @partner for partners "
        "(shop:<subject> for the web shop)."
    )
    store: str | None = strawberry.field(description="The store of a staff actor.")
    member_id: strawberry.ID | None = strawberry.field(description="The member concerned.")
    action: str = strawberry.field(
        description="What was done, one of: scan, lookup, purchase, refund, partner-purchase, "
        "redeem, use-voucher, cancel-redemption, pay-with-points, refund-points-payment."
    )
    outcome: str = strawberry.field(description="OK, or the error code it ended with.")
    detail: str = strawberry.field(description="Order id, reward or voucher concerned.")
    occurred_at: datetime = strawberry.field(description="When the action happened (UTC).")

    @classmethod
    def from_domain(cls, event: audit.AuditEvent) -> AuditEvent:
        return cls(
            id=strawberry.ID(ids.encode("AuditEvent", event.id)),
            actor=event.actor,
            store=event.store,
            member_id=strawberry.ID(ids.encode("Member", event.member_id))
            if event.member_id
            else None,
            action=event.action,
            outcome=event.outcome,
            detail=event.detail,
            occurred_at=event.occurred_at,
        )

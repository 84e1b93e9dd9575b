from datetime import datetime
from typing import Annotated

import msgspec

from backend.lib.auth import Role
from backend.lib.id_documents import IdType

Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Password = Annotated[str, msgspec.Meta(min_length=8, max_length=128)]
DisplayName = Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
VenueSlug = Annotated[str, msgspec.Meta(min_length=1, max_length=80, pattern=r"^[a-z0-9][a-z0-9-]*$")]
MerchantId = Annotated[str, msgspec.Meta(min_length=1, max_length=80, pattern=r"^[a-z0-9][a-z0-9-]*$")]


class RegisterRequest(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    password: Password
    display_name: DisplayName


PhoneNumber = Annotated[str, msgspec.Meta(min_length=1, max_length=32, description="a mainland mobile number")]
SmsCode = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6}$", description="the 6 digits of POST /auth/sms-code")]


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True):
    """`{email, password}`, or `{phone, sms_code}` (the code POST /auth/sms-code sent to that phone)."""

    email: Annotated[str, msgspec.Meta(min_length=1, max_length=254)] | None = None
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=128)] | None = None
    phone: PhoneNumber | None = None
    sms_code: SmsCode | None = None


class SmsCodeRequest(msgspec.Struct, forbid_unknown_fields=True):
    phone: PhoneNumber


class SmsCodeSent(msgspec.Struct):
    sent: bool
    expires_in: int  # seconds the code is good for
    resend_after: int  # seconds before another code may be asked for this phone


class PhoneIn(msgspec.Struct, forbid_unknown_fields=True):
    """PUT /me/phone: a phone for this account, proved by the code POST /auth/sms-code sent to it."""

    phone: PhoneNumber
    sms_code: SmsCode


class CreateUserRequest(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    password: Password
    display_name: DisplayName
    roles: Annotated[list[Role], msgspec.Meta(min_length=1, max_length=7)]
    venue_slugs: Annotated[list[VenueSlug], msgspec.Meta(max_length=200)] = []
    merchant_ids: Annotated[list[MerchantId], msgspec.Meta(max_length=200)] = []  # for the `merchant` role


class UserOut(msgspec.Struct):
    id: int
    email: str | None  # None for an account made by phone sign-in
    display_name: str
    roles: list[str]


class MeOut(msgspec.Struct, omit_defaults=True):
    id: int
    email: str | None  # None for an account made by phone sign-in
    display_name: str
    roles: list[str]
    venue_slugs: list[str]
    merchant_ids: list[str] = []  # a merchant account's shops (absent for other accounts)
    phone_masked: str | None = None  # 139****5678, for an account with a phone


class LoginResult(msgspec.Struct):
    access_token: str
    token_type: str
    expires_in: int


class IdentityIn(msgspec.Struct, forbid_unknown_fields=True):
    """PUT /me/identity: the account holder's real name and ID document (checked like a booking's visitor)."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
    id_type: IdType
    id_number: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class IdentityOut(msgspec.Struct):
    name_masked: str
    id_type: str
    id_number_masked: str
    verified_at: datetime

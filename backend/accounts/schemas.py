from typing import Annotated

import msgspec

from backend.lib.auth import Role

Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Password = Annotated[str, msgspec.Meta(min_length=8, max_length=128)]
DisplayName = Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
VenueSlug = Annotated[str, msgspec.Meta(min_length=1, max_length=80, pattern=r"^[a-z0-9][a-z0-9-]*$")]


class RegisterRequest(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    password: Password
    display_name: DisplayName


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True):
    email: Annotated[str, msgspec.Meta(min_length=1, max_length=254)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class CreateUserRequest(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    password: Password
    display_name: DisplayName
    roles: Annotated[list[Role], msgspec.Meta(min_length=1, max_length=6)]
    venue_slugs: Annotated[list[VenueSlug], msgspec.Meta(max_length=200)] = []


class UserOut(msgspec.Struct):
    id: int
    email: str
    display_name: str
    roles: list[str]


class MeOut(msgspec.Struct):
    id: int
    email: str
    display_name: str
    roles: list[str]
    venue_slugs: list[str]


class LoginResult(msgspec.Struct):
    access_token: str
    token_type: str
    expires_in: int

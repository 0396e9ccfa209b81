"""What slot extraction finds: one frozen dataclass per kind of slot, each with
the text it was read from and its character span in the input, and
:class:`Slots`, every slot found in one text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, TypeVar

# Levels of an address, from the widest.
LEVELS = ("province", "city", "district", "street", "community", "road", "landmark", "building")

TimeKind = Literal["point", "recurring", "duration"]
PhoneKind = Literal["mobile", "landline", "service"]


@dataclass(frozen=True)
class AddressPart:
    """One piece of an address as said: ``level`` is one of :data:`LEVELS`;
    ``value`` is normalised where the place is known (天河 → 天河区)."""

    level: str
    value: str
    text: str
    span: tuple[int, int]


@dataclass(frozen=True)
class Address:
    """An address (地址) made of the parts said close together; the wider levels
    are filled in from the tables where a narrower one is known (天河区 → 广州市,
    广东省).  ``address`` joins everything into one line for the work order."""

    address: str
    text: str
    span: tuple[int, int]
    province: str = ""
    city: str = ""
    district: str = ""
    street: str = ""
    community: str = ""
    road: str = ""
    building: str = ""
    landmarks: tuple[str, ...] = ()
    parts: tuple[AddressPart, ...] = ()


@dataclass(frozen=True)
class Phone:
    """A phone number: ``value`` is digits only for mobiles (13800138000), area
    code and number for landlines (020-87654321)."""

    value: str
    kind: PhoneKind
    masked: str
    text: str
    span: tuple[int, int]


@dataclass(frozen=True)
class IdNumber:
    """A resident ID number (身份证号), kept in full; ``masked`` is for summaries;
    ``valid`` says the check character and the birth date are right."""

    value: str
    masked: str
    valid: bool
    text: str
    span: tuple[int, int]


@dataclass(frozen=True)
class Name:
    """A person's name as the caller gave it (``value`` = surname + given + title)."""

    value: str
    surname: str
    given: str
    title: str
    text: str
    span: tuple[int, int]


@dataclass(frozen=True)
class TimeMention:
    """A time: a ``point`` (resolved to a date or datetime where it can be), a
    ``recurring`` time (每天晚上, with ``clock`` "22:00" where said) or a
    ``duration`` (三个月了, in ``seconds`` where a number was said)."""

    kind: TimeKind
    text: str
    span: tuple[int, int]
    value: datetime | date | None = None
    seconds: int | None = None
    clock: str | None = None
    approximate: bool = False


@dataclass(frozen=True)
class Organisation:
    """A business or organisation (企业/单位) by name, with the word that says what it is."""

    value: str
    kind: str
    text: str
    span: tuple[int, int]


@dataclass(frozen=True)
class Slots:
    addresses: tuple[Address, ...] = ()
    phones: tuple[Phone, ...] = ()
    id_numbers: tuple[IdNumber, ...] = ()
    names: tuple[Name, ...] = ()
    times: tuple[TimeMention, ...] = ()
    organisations: tuple[Organisation, ...] = ()

    @property
    def address(self) -> Address | None:
        """The fullest address said, if any."""
        return self.addresses[0] if self.addresses else None


_Slot = TypeVar("_Slot", AddressPart, Address, Phone, IdNumber, Name, TimeMention, Organisation)

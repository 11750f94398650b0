"""The parcel carriers (택배사) orders ship with: how each one's tracking numbers (송장번호) look, and
where the customer follows a parcel on the carrier's public tracking page.

Tracking numbers are digits only, of a length each carrier uses; staff paste them as printed on
the waybill, so hyphens and spaces are dropped first ("6012-3456-7890" is 601234567890).
"""

import re
from dataclasses import dataclass
from functools import cache

from django.utils import translation
from django.utils.translation import gettext

from orders import errors
from orders.constants import Carrier


@dataclass(frozen=True)
class CarrierFormat:
    name: str  # the carrier's Korean trade name, as the audit trail writes it (never translated)
    lengths: range  # the digits a tracking number has
    tracking_url: str  # the carrier's public tracking page, {number} the tracking number
    aliases: tuple[str, ...] = ()  # other names staff write in a bulk-ship file


CARRIERS: dict[Carrier, CarrierFormat] = {
    Carrier.CJ: CarrierFormat(
        "CJ대한통운",
        range(10, 13),
        "https://trace.cjlogistics.com/next/tracking.html?wblNo={number}",
        ("대한통운", "CJ"),
    ),
    Carrier.LOTTE: CarrierFormat(
        "롯데택배",
        range(12, 14),
        "https://www.lotteglogis.com/home/reservation/tracking/linkView?InvNo={number}",
        ("롯데",),
    ),
    Carrier.HANJIN: CarrierFormat(
        "한진택배",
        range(10, 15),
        "https://www.hanjin.com/kor/CMS/DeliveryMgr/WaybillResult.do?mCode=MN038&schLang=KR&wblnumText2={number}",
        ("한진",),
    ),
    Carrier.EPOST: CarrierFormat(
        "우체국택배",
        range(13, 14),
        "https://service.epost.go.kr/trace.RetrieveDomRigiTraceList.comm?sid1={number}",
        ("우체국", "우체국소포"),
    ),
    Carrier.LOGEN: CarrierFormat(
        "로젠택배", range(11, 12), "https://www.ilogen.com/web/personal/trace/{number}", ("로젠",)
    ),
    Carrier.KDEXP: CarrierFormat(
        "경동택배", range(9, 17), "https://kdexp.com/service/delivery/etc/delivery.do?barcode={number}", ("경동",)
    ),
    Carrier.DAESIN: CarrierFormat(
        "대신택배",
        range(13, 14),
        "https://www.ds3211.co.kr/freight/internalFreightSearch.ht?billno={number}",
        ("대신",),
    ),
    Carrier.ILYANG: CarrierFormat(
        "일양로지스",
        range(9, 12),
        "https://www.ilyanglogis.com/functionality/tracking_result.asp?hawb_no={number}",
        ("일양",),
    ),
    Carrier.CVSNET: CarrierFormat(
        "GS Postbox 택배",
        range(10, 13),
        "https://www.cvsnet.co.kr/invoice/tracking.do?invoice_no={number}",
        ("GS편의점택배", "GS25"),
    ),
    Carrier.CUPOST: CarrierFormat(
        "CU 편의점택배",
        range(10, 13),
        "https://www.cupost.co.kr/postbox/delivery/localResult.cupost?invoice_no={number}",
        ("CU",),
    ),
}

_SEPARATORS = re.compile(r"[\s\-]")


def _name_key(name: str) -> str:
    return _SEPARATORS.sub("", name).casefold()


@cache
def _by_name() -> dict[str, Carrier]:
    """Every way a carrier may be written (its code, its Korean trade name, its English name, with or
    without spaces): its code. Built on first use, once the translation machinery is ready."""
    with translation.override(None):  # the English names as they are, whatever the request's language
        return {
            _name_key(name): carrier
            for carrier, spec in CARRIERS.items()
            for name in (carrier.value, spec.name, str(carrier.label), *spec.aliases)
        }


def trade_name(carrier: Carrier | str) -> str:
    """The carrier's Korean trade name (CJ대한통운), the same in every language."""
    return CARRIERS[Carrier(carrier)].name


def carrier_from(name: str) -> Carrier:
    """The carrier written as its code (kr.cjlogistics), its trade name (CJ대한통운, 대한통운, 롯데택배 …)
    or its English name (CJ Logistics); anything else is UnknownCarrier (400, naming carrier)."""
    carrier = _by_name().get(_name_key(name or ""))
    if carrier is None:
        message = gettext("No carrier is called %(name)s: use one of %(carriers)s.")
        raise errors.UnknownCarrier(message % {"name": repr(name), "carriers": ", ".join(Carrier)}, field="carrier")
    return carrier


def tracking_number_clean(*, carrier: Carrier, tracking_number: str) -> str:
    """The tracking number without hyphens and spaces, checked against the carrier's format: digits
    only, of one of its lengths; anything else is InvalidTrackingNumber (400, naming tracking_number)."""
    number = _SEPARATORS.sub("", tracking_number or "")
    lengths = CARRIERS[carrier].lengths
    if not (number.isascii() and number.isdigit() and len(number) in lengths):
        if len(lengths) == 1:
            message = gettext("A %(carrier)s tracking number is %(digits)d digits (hyphens and spaces are ignored).")
            message %= {"carrier": carrier.label, "digits": lengths.start}
        else:
            message = gettext(
                "A %(carrier)s tracking number is %(shortest)d to %(longest)d digits (hyphens and spaces are ignored)."
            )
            message %= {"carrier": carrier.label, "shortest": lengths.start, "longest": lengths.stop - 1}
        raise errors.InvalidTrackingNumber(message, field="tracking_number")
    return number


def tracking_url(*, carrier: str, tracking_number: str) -> str:
    """The carrier's public tracking page of this parcel."""
    return CARRIERS[Carrier(carrier)].tracking_url.format(number=tracking_number)

"""The parcel carriers (택배사) orders ship with: how each one's tracking numbers (송장번호) look, and
where the customer follows a parcel on the carrier's public tracking page.

Tracking numbers are digits only, of a length each carrier uses; staff paste them as printed on
the waybill, so hyphens and spaces are dropped first ("6012-3456-7890" is 601234567890).
"""

import re
from dataclasses import dataclass

from orders import errors
from orders.constants import Carrier


@dataclass(frozen=True)
class CarrierFormat:
    lengths: range  # the digits a tracking number has
    tracking_url: str  # the carrier's public tracking page, {number} the tracking number
    aliases: tuple[str, ...] = ()  # other names staff write in a bulk-ship file


CARRIERS: dict[Carrier, CarrierFormat] = {
    Carrier.CJ: CarrierFormat(
        range(10, 13), "https://trace.cjlogistics.com/next/tracking.html?wblNo={number}", ("대한통운", "CJ")
    ),
    Carrier.LOTTE: CarrierFormat(
        range(12, 14), "https://www.lotteglogis.com/home/reservation/tracking/linkView?InvNo={number}", ("롯데",)
    ),
    Carrier.HANJIN: CarrierFormat(
        range(10, 15),
        "https://www.hanjin.com/kor/CMS/DeliveryMgr/WaybillResult.do?mCode=MN038&schLang=KR&wblnumText2={number}",
        ("한진",),
    ),
    Carrier.EPOST: CarrierFormat(
        range(13, 14),
        "https://service.epost.go.kr/trace.RetrieveDomRigiTraceList.comm?sid1={number}",
        ("우체국", "우체국소포"),
    ),
    Carrier.LOGEN: CarrierFormat(range(11, 12), "https://www.ilogen.com/web/personal/trace/{number}", ("로젠",)),
    Carrier.KDEXP: CarrierFormat(
        range(9, 17), "https://kdexp.com/service/delivery/etc/delivery.do?barcode={number}", ("경동",)
    ),
    Carrier.DAESIN: CarrierFormat(
        range(13, 14), "https://www.ds3211.co.kr/freight/internalFreightSearch.ht?billno={number}", ("대신",)
    ),
    Carrier.ILYANG: CarrierFormat(
        range(9, 12), "https://www.ilyanglogis.com/functionality/tracking_result.asp?hawb_no={number}", ("일양",)
    ),
    Carrier.CVSNET: CarrierFormat(
        range(10, 13), "https://www.cvsnet.co.kr/invoice/tracking.do?invoice_no={number}", ("GS편의점택배", "GS25")
    ),
    Carrier.CUPOST: CarrierFormat(
        range(10, 13), "https://www.cupost.co.kr/postbox/delivery/localResult.cupost?invoice_no={number}", ("CU",)
    ),
}

_SEPARATORS = re.compile(r"[\s\-]")


def _name_key(name: str) -> str:
    return _SEPARATORS.sub("", name).casefold()


# Every way a carrier may be written (its code, its Korean name, with or without spaces): its code.
_BY_NAME = {
    _name_key(name): carrier
    for carrier, spec in CARRIERS.items()
    for name in (carrier.value, carrier.label, *spec.aliases)
}


def carrier_from(name: str) -> Carrier:
    """The carrier written as its code (kr.cjlogistics) or its name (CJ대한통운, 대한통운, 롯데택배 …);
    anything else is UnknownCarrier (400, naming carrier)."""
    carrier = _BY_NAME.get(_name_key(name or ""))
    if carrier is None:
        raise errors.UnknownCarrier(f"No carrier is called {name!r}: use one of {', '.join(Carrier)}.", field="carrier")
    return carrier


def tracking_number_clean(*, carrier: Carrier, tracking_number: str) -> str:
    """The tracking number without hyphens and spaces, checked against the carrier's format: digits
    only, of one of its lengths; anything else is InvalidTrackingNumber (400, naming tracking_number)."""
    number = _SEPARATORS.sub("", tracking_number or "")
    lengths = CARRIERS[carrier].lengths
    if not (number.isascii() and number.isdigit() and len(number) in lengths):
        digits = f"{lengths.start}" if len(lengths) == 1 else f"{lengths.start} to {lengths.stop - 1}"
        raise errors.InvalidTrackingNumber(
            f"A {carrier.label} tracking number is {digits} digits (hyphens and spaces are ignored).",
            field="tracking_number",
        )
    return number


def tracking_url(*, carrier: str, tracking_number: str) -> str:
    """The carrier's public tracking page of this parcel."""
    return CARRIERS[Carrier(carrier)].tracking_url.format(number=tracking_number)

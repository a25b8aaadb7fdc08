"""A commune's contracts as an OCDS 1.1 release package (JSON).

One release per contract: tagged `award` while the contract is `pending` (awarded,
not yet in force), `contract` otherwise, with the signed contract beside its award.
Our contract statuses are OCDS contract status codes already. Releases built from
sample rows say so in `x_sample` (an extension field): these figures are invented.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.models import Commune, Contract
from bot.models.enums import ContractStatus

OCDS_VERSION = "1.1"
CURRENCY = "XOF"


def _timestamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _slug_id(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def buyer(commune: Commune) -> dict[str, str]:
    return {"id": f"BJ-MAIRIE-{commune.slug}", "name": f"Mairie de {commune.name}"}


def release(commune: Commune, contract: Contract) -> dict[str, Any]:
    tag = "award" if contract.status == ContractStatus.PENDING else "contract"
    supplier = {"id": f"{commune.slug}-{_slug_id(contract.supplier)}", "name": contract.supplier}
    value = {"amount": contract.amount_xof, "currency": CURRENCY}
    award_id = f"{contract.ocid}-award"
    award: dict[str, Any] = {
        "id": award_id,
        "title": contract.title,
        "status": "active",
        "value": value,
        "suppliers": [supplier],
    }
    if contract.date_signed is not None:
        award["date"] = contract.date_signed.isoformat()
    changed = contract.updated_at or contract.created_at
    body: dict[str, Any] = {
        "ocid": contract.ocid,
        "id": f"{contract.ocid}-{changed:%Y%m%dT%H%M%S}",
        "date": _timestamp(changed),
        "tag": [tag],
        "initiationType": "tender",
        "language": "fr",
        "buyer": buyer(commune),
        "parties": [
            {**buyer(commune), "roles": ["buyer", "procuringEntity"]},
            {**supplier, "roles": ["supplier"]},
        ],
        "tender": {"id": f"{contract.ocid}-tender", "procurementMethod": contract.method.value},
        "awards": [award],
        "x_sample": contract.is_sample,
    }
    if tag == "contract":
        signed = {"dateSigned": contract.date_signed.isoformat()} if contract.date_signed else {}
        body["contracts"] = [
            {
                "id": f"{contract.ocid}-contract",
                "awardID": award_id,
                "title": contract.title,
                "status": contract.status.value,
                "value": value,
                **signed,
            }
        ]
    return body


def release_package(
    commune: Commune, contracts: list[Contract], uri: str, published: datetime
) -> dict[str, Any]:
    return {
        "uri": uri,
        "version": OCDS_VERSION,
        "publishedDate": _timestamp(published),
        "publisher": {"name": f"Mairie de {commune.name}"},
        "releases": [release(commune, contract) for contract in contracts],
    }

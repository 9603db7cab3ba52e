"""China's administrative divisions, and tying a written place to its division."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from families import divisions
from families.places import is_china, settle


class Division(models.Model):
    """One of China's administrative divisions (GB/T 2260), loaded from ``families.divisions``.

    The code drops GB/T 2260's trailing zeros (51 Sichuan, 5101 Chengdu, 510107 Wuhou), so a
    place lies in a division when its code starts with the division's. Cases and postings
    hold a code, not a key to this table: the list is the package's, the table is for
    reading it in SQL and the admin.
    """

    class Level(models.IntegerChoices):
        PROVINCE = 1, _("province")
        CITY = 2, _("city")
        DISTRICT = 3, _("district")

    code = models.CharField(_("code"), max_length=6, primary_key=True)
    name = models.CharField(_("name"), max_length=50)
    short_name = models.CharField(_("short name"), max_length=50)
    pinyin = models.CharField(_("pinyin"), max_length=100, db_index=True)
    english = models.CharField(_("English name"), max_length=100)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children",
        db_constraint=False,
    )

    class Meta:
        verbose_name = _("administrative division")
        verbose_name_plural = _("administrative divisions")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


#: Where a place is written as free text: a country other than China.
CHINA = ""


def _settle_place(obj: models.Model, prefix: str) -> None:
    """Sets ``{prefix}_place_code`` from the place's fields; a place named by a code or as a
    whole in the province field is written out as its division's names.

    Parts not in the list leave the code at what was understood (the forms say so; the
    admin lists such places): what was written is kept either way.
    """
    province = getattr(obj, f"{prefix}_province")
    settled = settle(province=province, city=getattr(obj, f"{prefix}_city"),
                     district=getattr(obj, f"{prefix}_district"),
                     country=getattr(obj, f"{prefix}_country"), prefix=prefix)
    setattr(obj, f"{prefix}_place_code", settled.code)
    if is_china(getattr(obj, f"{prefix}_country")):
        setattr(obj, f"{prefix}_country", CHINA)
    city, district = getattr(obj, f"{prefix}_city"), getattr(obj, f"{prefix}_district")
    if settled.code and (province.strip().isdigit() or (
            len(settled.code) > 2 and not city.strip() and not district.strip())):
        chain = {d.level: d.name for d in divisions.ancestry(settled.code)}
        setattr(obj, f"{prefix}_province", chain.get(Division.Level.PROVINCE, ""))
        setattr(obj, f"{prefix}_city", chain.get(Division.Level.CITY, ""))
        setattr(obj, f"{prefix}_district", chain.get(Division.Level.DISTRICT, ""))

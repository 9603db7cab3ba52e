"""Seeds the load-test database: published cases with photos, seekers, uploader accounts.

Run by bench/load/run.sh against its own database; writes var/bench/load/seed.json
(the ids and accounts the locustfile uses).
"""

from __future__ import annotations

import itertools
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _django import FACES_DIR, ROOT, setup

PASSWORD = "load test password 1"  # noqa: S105 - a throw-away account on a throw-away database
CASES = 120
CASES_WITH_PHOTOS = 60
SEEKERS = 30
UPLOADERS = 5
GIVEN = ["Ming", "Lan", "Hua", "Jun", "Li", "Mei", "Qiang", "Yan", "Bo", "Xiu", "Tao", "Fang"]
FAMILY = ["Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang", "Zhou", "Wu"]
PROVINCES = ["Shaanxi", "Sichuan", "Henan", "Guangdong", "Yunnan", "Hunan", "Shandong"]


def main() -> None:
    setup()
    from django.utils import timezone

    from families import services
    from families.models import Photo, Sex, User

    rng = random.Random(6)
    photos = itertools.cycle(sorted(p.name for p in FACES_DIR.glob("img*.jpg")))
    now = timezone.now()

    def account(email: str) -> User:
        user = User.objects.create_user(email=email, password=PASSWORD, full_name=email)
        user.email_confirmed_at = now
        user.save(update_fields=["email_confirmed_at"])
        return user

    def case_for(user: User, number: int):
        born = rng.randint(1980, 2012)
        return services.case_create(
            actor=user, publish=True,
            fields={
                "given_name": rng.choice(GIVEN), "family_name": rng.choice(FAMILY),
                "sex": rng.choice([Sex.FEMALE, Sex.MALE]),
                "birth_year_min": born, "birth_year_max": born,
                "missing_date": f"{born + rng.randint(2, 6)}-0{rng.randint(1, 9)}-1{number % 9}",
                "missing_province": rng.choice(PROVINCES), "missing_city": "City",
                "contact_name": "Family", "circumstances": "Taken outside the market.",
            },
        )

    poster = account("load-poster@example.org")
    cases, public_photos = [], []
    for number in range(CASES):
        case = case_for(poster, number)
        cases.append(case.pk)
        if number < CASES_WITH_PHOTOS:
            photo = services.photo_add(
                actor=poster, case=case, data=(FACES_DIR / next(photos)).read_bytes(),
                kind=Photo.Kind.CHILDHOOD, age_in_photo=2,
            )
            public_photos.append(photo.pk)
    for number in range(SEEKERS):
        seeker = account(f"load-seeker-{number}@example.org")
        born = rng.randint(1980, 2012)
        posting = services.seeker_posting_create(
            actor=seeker,
            fields={"display_name": f"Seeker {number}", "sex": rng.choice([Sex.FEMALE, Sex.MALE]),
                    "birth_year_min": born - 1, "birth_year_max": born + 1,
                    "grew_up_province": rng.choice(PROVINCES), "consent_to_matching": True},
        )
        services.photo_add(actor=seeker, seeker_posting=posting,
                           data=(FACES_DIR / next(photos)).read_bytes(),
                           kind=Photo.Kind.RECENT, age_in_photo=30)
    uploaders = []
    for number in range(UPLOADERS):
        family = account(f"load-family-{number}@example.org")
        uploaders.append({"email": family.email, "password": PASSWORD,
                          "case": case_for(family, number).pk})

    out = ROOT / "var" / "bench" / "load"
    out.mkdir(parents=True, exist_ok=True)
    (out / "seed.json").write_text(json.dumps({
        "cases": cases, "photos": public_photos, "uploaders": uploaders,
        "names": GIVEN, "provinces": PROVINCES,
        "upload_files": sorted(p.name for p in FACES_DIR.glob("img*.jpg")),
        "faces_dir": str(FACES_DIR),
    }))
    print(f"seeded {len(cases)} cases, {len(public_photos)} case photos, {SEEKERS} seekers, "
          f"{UPLOADERS} uploaders")


if __name__ == "__main__":
    main()

"""Who may see or change what, and the public search."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from families import selectors, services
from families.models import CaseStatus, Photo, Sex
from matching.selectors.matches import photo_states
from tests import builders

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user, django_user_model):
    admin = django_user_model.objects.create_superuser(email="admin@example.org", password="x")
    return {
        "anonymous": AnonymousUser(), "family": make_user(), "other": make_user(),
        "seeker": make_user(), "volunteer": make_user(volunteer=True), "admin": admin,
    }


def test_case_visibility_and_management(people):
    published = builders.case(family=people["family"])
    draft = builders.case(family=people["family"], publish=False)
    for name, user in people.items():
        owner_or_staff = name in ("family", "volunteer", "admin")
        assert selectors.case_visible_to(user=user, case=published)
        assert selectors.case_visible_to(user=user, case=draft) == owner_or_staff, name
        assert selectors.case_manageable_by(user=user, case=published) == owner_or_staff, name


def test_seeker_postings_are_never_public(people):
    # Volunteers read a posting only through a candidate they review, never on its own pages.
    posting = builders.seeker_posting(seeker=people["seeker"])
    for name, user in people.items():
        allowed = name in ("seeker", "admin")
        assert selectors.seeker_posting_visible_to(user=user, posting=posting) == allowed, name


def test_photo_rules(people, photo_bytes):
    case = builders.case(family=people["family"])
    public = builders.photo(data=photo_bytes("img1.jpg"), case=case)
    hidden = builders.photo(data=photo_bytes("img2.jpg"), case=case)
    services.photo_update(actor=people["family"], photo=hidden, fields={"use_on_poster": False})
    seeker_photo = builders.photo(data=photo_bytes("img3.jpg"),
                                  posting=builders.seeker_posting(seeker=people["seeker"]))
    for name, user in people.items():
        staff = name in ("volunteer", "admin")
        assert selectors.photo_viewable_by(user=user, photo=public), name
        assert selectors.photo_viewable_by(user=user, photo=hidden) == (
            staff or name == "family"), name
        assert selectors.photo_viewable_by(user=user, photo=seeker_photo) == (
            name in ("admin", "seeker")), name
        assert selectors.photo_manageable_by(user=user, photo=public) == (
            staff or name == "family"), name
    assert selectors.public_photos(case) == [public]
    services.case_withdraw(actor=people["family"], case=case)
    public.refresh_from_db()
    assert not selectors.photo_viewable_by(user=people["anonymous"], photo=public)
    assert selectors.public_photos(case) == []


def test_public_search_filters(make_user):
    family = make_user()
    ming = builders.case(family=family)  # boy, born 1986, missing 1988 from Xi'an, Shaanxi
    builders.case(family=family, given_name="Hong", family_name="Zhang", nicknames="Hong-hong",
                  sex=Sex.FEMALE, birth_year_min=1990, birth_year_max=1991,
                  missing_date="1999-06-01", missing_province="Sichuan",
                  missing_city="Chengdu", missing_district="Wuhou")
    builders.case(family=family, given_name="Draft", publish=False)
    withdrawn = builders.case(family=family, given_name="Gone")
    services.case_withdraw(actor=family, case=withdrawn)

    def found(**filters):
        return {case.given_name for case in selectors.public_cases(**filters)}

    assert found() == {"Ming", "Hong"}
    assert found(name="li ming") == {"Ming"}
    assert found(name="hong-hong") == {"Hong"}
    assert found(sex=Sex.FEMALE) == {"Hong"}
    assert found(year_missing_from=1990) == {"Hong"}
    assert found(year_missing_to=1990) == {"Ming"}
    assert found(age_missing_from=5) == {"Hong"}   # Hong was 8 or 9
    assert found(age_missing_to=3) == {"Ming"}     # Ming was about 2
    assert found(age_missing_from=8, age_missing_to=8) == {"Hong"}
    assert found(place="chengdu") == {"Hong"}
    assert found(place="shaanxi") == {"Ming"}
    assert found(place="nowhere") == set()
    builders.case(family=family, given_name="明", family_name="李", missing_province="陕西省",
                  missing_city="西安市", missing_district="碑林区")
    # 李明 is Li Ming in pinyin: the case written in pinyin is found too.
    assert found(name="李明") == {"明", "Ming"}
    # The same place written in two scripts: found by its code either way.
    assert found(place="陕西省西安市") == {"Ming", "明"}
    assert found(place="西安市碑林区") == {"Ming", "明"}
    assert found(place="西安") == {"Ming", "明"}
    assert found(place="Xi'an Beilin") == {"Ming", "明"}
    ming.status = CaseStatus.DNA_PENDING
    ming.save()
    assert found(sex=Sex.MALE) == {"Ming", "明"}


def test_photo_states_only_for_managers(people, photo_bytes):
    case = builders.case(family=people["family"])
    photo = builders.photo(data=photo_bytes("img1.jpg"), case=case)
    assert photo_states(user=people["family"], ids=[photo.pk]) == [{
        "id": photo.pk, "state": Photo.FaceState.WAITING, "label": "waiting",
        "needs_pick": False, "match_state": "", "match_label": ""}]
    assert photo_states(user=people["other"], ids=[photo.pk]) == []
    assert photo_states(user=people["anonymous"], ids=[photo.pk]) == []

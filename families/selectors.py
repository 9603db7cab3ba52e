"""Reads of families' data, and who may see or change what.

Every view asks these functions before it shows or changes a case, a seeker
posting or a photo, so the rules live in one place: cases are public once
published, seeker postings never are; a case's private fields are for its family,
volunteers and admins, a posting's for its owner and admins (volunteers read it
through the candidates they review). No rule here depends on a candidate: an
answer that did would tell of one.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.db.models import F, Prefetch, Q, QuerySet
from django.db.models.functions import Concat, ExtractYear, Trim

from families import names
from families.models import (
    MATCHABLE_STATUSES,
    PUBLIC_NUMBER_ALPHABET,
    CaseStatus,
    MissingChildCase,
    PartnerAPIKey,
    PartnerImport,
    PartnerOrganisation,
    Photo,
    PublicContact,
    SeekerPosting,
    Tip,
    User,
)
from families.places import codes_named, in_codes, place_words, province_codes_and_names

AnyUser = User | AnonymousUser

#: Statuses whose cases appear on the public pages.
PUBLIC_STATUSES = (
    CaseStatus.PUBLISHED,
    CaseStatus.DNA_PENDING,
    CaseStatus.REUNITED,
)


def public_hotline() -> PublicContact | None:
    """The organisation's hotline in use (the newest set in the admin), if any."""
    return PublicContact.objects.first()


def deletable_by(*, user: AnyUser, owner_id: int) -> bool:
    """Deleting for good is the owner's choice, or an admin's; volunteers may only withdraw."""
    return bool(user.is_authenticated and (user.pk == owner_id or user.is_superuser))


def _photo_owner_id(photo: Photo) -> int:
    """The family of the photo's case, or the owner of its seeker posting."""
    return photo.case.family_id if photo.case_id else photo.seeker_posting.owner_id


def photo_deletable_by(*, user: AnyUser, photo: Photo) -> bool:
    """The family (or the posting's owner) and admins delete a photo; a volunteer only hides it."""
    return deletable_by(user=user, owner_id=_photo_owner_id(photo))


def photo_poster_changeable_by(*, user: AnyUser, photo: Photo) -> bool:
    """Whether a photo is on the poster is the family's choice (or an admin's), never a
    volunteer's."""
    return deletable_by(user=user, owner_id=_photo_owner_id(photo))


def photo_hideable_by(*, user: AnyUser, photo: Photo) -> bool:
    """Volunteers and admins who may manage the photo hide it, and show it again."""
    return is_volunteer(user) and photo_manageable_by(user=user, photo=photo)


def is_volunteer(user: AnyUser) -> bool:
    """Volunteers and admins, signed in (``User.is_volunteer`` says who they are): they may
    read private data (and every read is audited). The one check, for anyone who asks,
    anonymous or not."""
    return bool(user.is_authenticated and user.is_volunteer)


def case_manageable_by(*, user: AnyUser, case: MissingChildCase) -> bool:
    """The family that posted the case, volunteers and admins.

    No exception for a volunteer on the other side of one of the case's candidates:
    such an exception would itself tell them whom the matcher paired with their own
    posting (docs/PRIVACY.md, "No answer tells of a candidate").
    """
    if not user.is_authenticated:
        return False
    return case.family_id == user.pk or is_volunteer(user)


def case_publishable_by(*, user: AnyUser, case: MissingChildCase) -> bool:
    """Publishing is the family's decision alone: a volunteer never shows a draft or a
    withdrawn case to the public for them."""
    return bool(user.is_authenticated and case.family_id == user.pk)


def case_visible_to(*, user: AnyUser, case: MissingChildCase) -> bool:
    """Published cases are public; drafts and withdrawn cases only to who manages them."""
    return case.is_public or case_manageable_by(user=user, case=case)


def seeker_posting_visible_to(*, user: AnyUser, posting: SeekerPosting) -> bool:
    """The seeker (or who posted the found person), admins, and for a partner's found person
    every active member of its active organisation; never the public, a family or a volunteer.

    Volunteers read a seeker's posting only through a candidate they may review
    (``matching.selectors.access.candidate_reviewable_by``: its review, DNA, photo and face
    pages), never through these pages. So the answer to a volunteer never depends on
    whether the posting is paired with their own case, and a volunteer sees of adults'
    postings only what a review needs.
    """
    if not user.is_authenticated:
        return False
    if posting.owner_id == user.pk or user.is_superuser:
        return True
    # A partner's found person: every active member of its active organisation.
    return bool(posting.organisation_id) and partner_organisations_of(user).filter(
        pk=posting.organisation_id).exists()


def consent_changeable_by(*, user: AnyUser, posting: SeekerPosting) -> bool:
    """Consent to matching is the seeker's alone: for a found person, the one who posted
    them records the basis for matching instead."""
    return bool(user.is_authenticated and posting.owner_id == user.pk)


def seeker_posting_publishable_by(*, user: AnyUser, posting: SeekerPosting) -> bool:
    """Only a person can publish themself: the owner of a posting for themself. A found
    person's posting (a volunteer's, the police's, a partner's) is never public."""
    return consent_changeable_by(user=user, posting=posting) and not posting.is_found_person


def seeker_posting_manageable_by(*, user: AnyUser, posting: SeekerPosting) -> bool:
    return seeker_posting_visible_to(user=user, posting=posting)


def photo_is_public(photo: Photo) -> bool:
    """A case photo the family chose for the poster, of a published case; a seeker photo the
    seeker chose to show, of a posting they published.

    Age-progressed images made by Reunion are stored with ``use_on_poster``
    off until the family approves them, so an unapproved estimate is never public.
    """
    if photo.hidden_at is not None:
        return False
    if photo.case_id:
        return bool(photo.use_on_poster and photo.case.is_public)
    return bool(photo.use_on_poster and photo.seeker_posting.is_public)


def photo_viewable_by(*, user: AnyUser, photo: Photo) -> bool:
    """Public photos to anyone; everything else to whoever may read its case or posting."""
    if photo.case_id:
        return photo_is_public(photo) or case_manageable_by(user=user, case=photo.case)
    return photo_is_public(photo) or seeker_posting_visible_to(
        user=user, posting=photo.seeker_posting
    )


def photo_manageable_by(*, user: AnyUser, photo: Photo) -> bool:
    if photo.case_id:
        return case_manageable_by(user=user, case=photo.case)
    return seeker_posting_manageable_by(user=user, posting=photo.seeker_posting)


def public_photos(case: MissingChildCase) -> list[Photo]:
    """The photos shown on the public case page and the poster, childhood photos first."""
    if not case.is_public:
        return []
    kinds = {Photo.Kind.CHILDHOOD: 0, Photo.Kind.AGE_PROGRESSED: 1, Photo.Kind.RECENT: 2}
    photos = [p for p in case.photos.all() if p.use_on_poster and p.hidden_at is None]
    return sorted(photos, key=lambda p: (kinds.get(p.kind, 3), p.uploaded_at, p.pk))


def public_cases(
    *,
    name: str = "",
    sex: str = "",
    year_missing_from: int | None = None,
    year_missing_to: int | None = None,
    age_missing_from: int | None = None,
    age_missing_to: int | None = None,
    place: str = "",
    order: str = "newest",
) -> QuerySet[MissingChildCase]:
    """Published cases matching the public search, in ``order`` (``CASE_ORDERS``; newest
    first by default), with their poster photos.

    Age when missing is compared with the birth-year range: a case matches
    when any birth year in its range gives an age in the wanted range.
    """
    cases = MissingChildCase.objects.filter(status__in=PUBLIC_STATUSES)
    if sex:
        cases = cases.filter(sex=sex)
    if year_missing_from is not None:
        cases = cases.filter(missing_date__gte=date(year_missing_from, 1, 1))
    if year_missing_to is not None:
        cases = cases.filter(missing_date__lte=date(year_missing_to, 12, 31))
    if age_missing_from is not None or age_missing_to is not None:
        cases = cases.annotate(missing_year=ExtractYear("missing_date"))
    if age_missing_from is not None:
        # The oldest the child can have been: missing year − earliest birth year.
        cases = cases.filter(missing_year__gte=F("birth_year_min") + age_missing_from)
    if age_missing_to is not None:
        # The youngest the child can have been: missing year − latest birth year.
        cases = cases.filter(missing_year__lte=F("birth_year_max") + age_missing_to)
    if place.split():
        # Chinese places are typed largest first with no separators (陕西省西安市).
        cases = cases.annotate(
            place_joined=Concat("missing_province", "missing_city", "missing_district")
        )
    for word in place_words(place):
        # A division by any of its names (陕西, 陕西省, Shaanxi, 61), or the text written
        # (a place outside China, or one not in the list).
        cases = cases.filter(
            in_codes("missing_place_code", codes_named(word))
            | Q(missing_province__icontains=word)
            | Q(missing_city__icontains=word)
            | Q(missing_district__icontains=word)
            | Q(place_joined__icontains=word)
        )
    if name.strip():  # last: typos are forgiven only when the rest finds no one exactly
        cases = by_name(cases, name)
    poster_photos = Photo.objects.filter(use_on_poster=True, hidden_at__isnull=True).order_by(
        "uploaded_at", "pk")
    return cases.prefetch_related(
        Prefetch("photos", queryset=poster_photos, to_attr="poster_photos")
    ).order_by(*CASE_ORDERS.get(order, CASE_ORDERS["newest"]))


#: The orders of the public list of cases: newest posted first (the default), or by the
#: date the child went missing, most recent or longest ago first.
CASE_ORDERS: dict[str, tuple[str, ...]] = {
    "newest": ("-published_at", "-created_at", "-pk"),
    "missing_recent": ("-missing_date", "-published_at", "-pk"),
    "missing_longest": ("missing_date", "-published_at", "-pk"),
}


#: Typos are forgiven in pinyin of this many letters or more: under it, one letter more or
#: less is another name (li, lin), not a typo.
TYPO_FORGIVEN_FROM = 5


def by_name(queryset: QuerySet[Any], query: str) -> QuerySet[Any]:
    """Whom a name typed in a search box finds, by ``search_terms`` (families/names.py), the
    first of these that finds anyone: the query folded whole (xiao mei → xiaomei), or its
    hanzi's pinyin, found in the terms; every word of it found (Anna Smith finds Anna Maria
    Smith); typos forgiven (trigram word similarity, pg_trgm). So xiaomai finds Xiaomei, but
    a search for Xiaomei does not list every Xiaoming, as near in trigrams as a typo is."""
    forms = names.fold_query(query)
    whole = Q(pk__in=[])
    for form in forms:
        whole |= Q(search_terms__contains=form)
    found = queryset.filter(whole)
    if found.exists():
        return found
    words = [names.fold(word) for word in query.split()]
    if len(words) > 1 and all(words):
        every = Q()
        for word in words:
            every &= Q(search_terms__contains=word)
        found = queryset.filter(every)
        if found.exists():
            return found
    similar = Q(pk__in=[])
    for form in forms:
        if len(form) >= TYPO_FORGIVEN_FROM and form.isascii():
            similar |= Q(search_terms__trigram_word_similar=form)
    # Through the trigram index alone: with the other filters beside it, the planner reads
    # every row and computes the similarity of each (a second for 50,000 cases, not 0.1 s).
    near = queryset.model.objects.filter(similar).values("pk")
    return queryset.filter(pk__in=near)



def public_seeker_postings(
    *, name: str = "", sex: str = "", born_from: int | None = None, born_to: int | None = None,
    place: str = "",
) -> QuerySet[SeekerPosting]:
    """Seeker postings their owners published, newest first, with the photos they chose."""
    postings = SeekerPosting.objects.filter(
        published_at__isnull=False, consent_to_matching=True, status__in=MATCHABLE_STATUSES
    )
    if sex:
        postings = postings.filter(sex=sex)
    if born_from is not None:
        postings = postings.filter(birth_year_max__gte=born_from)
    if born_to is not None:
        postings = postings.filter(birth_year_min__lte=born_to)
    for word in place_words(place):
        postings = postings.filter(
            in_codes("grew_up_place_code", codes_named(word))
            | Q(grew_up_province__icontains=word) | Q(grew_up_city__icontains=word)
        )
    if name.strip():
        postings = by_name(postings, name)
    shown = Photo.objects.filter(use_on_poster=True, hidden_at__isnull=True).order_by(
        "uploaded_at", "pk")
    return postings.prefetch_related(
        Prefetch("photos", queryset=shown, to_attr="shown_photos")
    ).order_by("-published_at", "-pk")


def public_posting_photos(posting: SeekerPosting) -> list[Photo]:
    """The photos a seeker chose to show on their published posting."""
    if not posting.is_public:
        return []
    return list(posting.photos.filter(use_on_poster=True, hidden_at__isnull=True)
                .order_by("uploaded_at", "pk"))

def cases_of(user: User) -> QuerySet[MissingChildCase]:
    return MissingChildCase.objects.filter(family=user).order_by("-created_at", "-pk")


def seeker_postings_of(user: User) -> QuerySet[SeekerPosting]:
    """The member's own postings: never the people a partner organisation posted through
    them (those are the organisation's, in ``partner_postings_of``)."""
    return SeekerPosting.objects.filter(owner=user, organisation__isnull=True).order_by(
        "-created_at", "-pk")


def partner_postings_of(
    user: AnyUser, *, query: str = "", partner_import: int | None = None,
) -> QuerySet[SeekerPosting]:
    """The postings of the organisations ``user`` is an active member of, newest first:
    searched by name or reference, filtered by the import that brought them, each with
    its count of photos needing a face picked by hand."""
    postings = SeekerPosting.objects.filter(
        organisation__in=partner_organisations_of(user)).select_related("organisation")
    for word in query.split():
        postings = postings.filter(
            models.Q(display_name__icontains=word) | models.Q(partner_reference__icontains=word))
    if partner_import is not None:
        postings = postings.filter(partner_imports=partner_import)
    return postings.annotate(needs_pick=models.Count("photos", filter=models.Q(
        photos__face_state__in=Photo.NEEDS_PICK))).order_by("-created_at", "-pk")


def photos_of_case(case: MissingChildCase) -> QuerySet[Photo]:
    return case.photos.all().order_by("uploaded_at", "pk")


def photos_of_posting(posting: SeekerPosting) -> QuerySet[Photo]:
    return posting.photos.all().order_by("uploaded_at", "pk")


def tip_handleable_by(*, user: AnyUser, tip: Tip) -> bool:
    """The volunteers of the case's province and admins read and handle a case's tips, never
    the case's own family.

    "The case's province" is what new candidates are told by: a volunteer's
    ``review_provinces`` (empty: every province), as in ``tips_for_volunteer``.
    """
    if not is_volunteer(user) or tip.case.family_id == user.pk:
        return False
    return user.is_superuser or user.reviews_province(
        tip.case.missing_province, tip.case.missing_place_code)


def tips_for_volunteer(*, user: User, status: str = "") -> QuerySet[Tip]:
    """The tips a volunteer handles: of the provinces they review, never of their own cases.

    Newest first, with the tips nobody handled yet before the others, and among
    those the tips held for being sent past a limit last.
    """
    tips = Tip.objects.select_related("case").exclude(case__family=user)
    codes, names = province_codes_and_names(user.review_provinces)
    if (codes or names) and not user.is_superuser:
        # The same rule as ``tip_handleable_by`` (``User.reviews_province``): a province by
        # its code whatever its name, else its text, spaces and case not counting.
        tips = tips.annotate(case_province=Trim("case__missing_province"))
        in_region = in_codes("case__missing_place_code", sorted(codes))
        for province in names:
            in_region |= Q(case_province__iexact=province)
        tips = tips.filter(in_region)
    if status:
        tips = tips.filter(status=status)
    return tips.order_by(
        models.Case(models.When(status=Tip.Status.NEW, held_for_review=False, then=0),
                    models.When(status=Tip.Status.NEW, then=1), default=2),
        "-created_at", "-pk",
    )


# --- Partner organisations (docs/PARTNERS.md) -----------------------------------


def partner_key_from(raw_key: str) -> PartnerAPIKey | None:
    """The API key a partner sent (revoked or expired too, so its use can be recorded).

    None when no stored key has that prefix and hash.
    """
    prefix, dot, _ = raw_key.partition(".")
    if not dot or not prefix:
        return None
    key = (
        PartnerAPIKey.objects.select_related("organisation", "member")
        .filter(prefix=prefix).first()
    )
    if key is None or not key.is_valid(raw_key):
        return None
    return key


def partner_postings(
    *, organisation: PartnerOrganisation, status: str = "", reference: str = ""
) -> QuerySet[SeekerPosting]:
    """The organisation's own postings, newest first, with their photos."""
    postings = SeekerPosting.objects.filter(organisation=organisation)
    if status:
        postings = postings.filter(status=status)
    if reference:
        postings = postings.filter(partner_reference=reference)
    photos = Photo.objects.order_by("uploaded_at", "pk")
    return postings.prefetch_related(Prefetch("photos", queryset=photos)).order_by(
        "-created_at", "-pk"
    )


def partner_organisations_of(user: AnyUser) -> QuerySet[PartnerOrganisation]:
    """The active organisations ``user`` is an active member of."""
    if not (user.is_authenticated and user.is_active):
        return PartnerOrganisation.objects.none()
    return PartnerOrganisation.objects.filter(members=user, is_active=True)


def partner_imports_of(user: AnyUser) -> QuerySet[PartnerImport]:
    """The imports of the organisations ``user`` is a member of, newest first."""
    return PartnerImport.objects.filter(
        organisation__in=partner_organisations_of(user)
    ).select_related("organisation", "uploaded_by")


def partner_import_visible_to(*, user: AnyUser, partner_import: PartnerImport) -> bool:
    """Its organisation's members, and admins (whose every look is audited)."""
    return bool(user.is_authenticated and (
        user.is_superuser
        or partner_organisations_of(user).filter(pk=partner_import.organisation_id).exists()
    ))


def partner_import_photo_states(partner_import: PartnerImport) -> dict[str, int]:
    """How far the face pipeline has come with the import's photos, by what a member needs
    to know: embedded, still waiting, needing a face picked by hand, failed."""
    states = dict(partner_import.photos.values_list("face_state").annotate(
        count=models.Count("pk")).order_by())
    state = Photo.FaceState
    return {
        "embedded": states.get(state.FACE_FOUND, 0),
        "waiting": states.get(state.WAITING, 0) + states.get(state.PROCESSING, 0),
        "needs_pick": states.get(state.NO_FACE, 0) + states.get(state.SEVERAL_FACES, 0),
        "failed": states.get(state.FAILED, 0),
    }


def partner_organisations_left_alone(user: AnyUser) -> QuerySet[PartnerOrganisation]:
    """The organisations with postings owned by ``user`` and no other active member to take
    them over: ``user``'s account can't go before someone else joins (or the postings go)."""
    others = User.objects.filter(partner_organisations=models.OuterRef("pk"), is_active=True
                                 ).exclude(pk=user.pk)
    return PartnerOrganisation.objects.filter(
        postings__owner=user.pk).exclude(models.Exists(others)).distinct()


def public_case_by_number(text: str) -> MissingChildCase | None:
    """The public case whose case number is ``text`` (as read out or typed: any case, with or
    without the hyphen or spaces); ``None`` for anything else, a draft's number included."""
    code = "".join(text.split()).replace("-", "").upper()
    if len(code) != 8 or any(char not in PUBLIC_NUMBER_ALPHABET for char in code):
        return None
    return MissingChildCase.objects.filter(
        status__in=PUBLIC_STATUSES, public_number=f"{code[:4]}-{code[4:]}").first()

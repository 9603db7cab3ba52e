"""Age-progressed estimates Reunion makes from a childhood photo, and the family's say on them.

They are labelled estimates, stay off the poster and out of matching until the
family decides (docs/MATCHING.md: no measurement so far shows they help matching).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from families.audit import audit_record
from families.models import Photo, User
from families.selectors import photo_manageable_by, photo_poster_changeable_by
from families.uploads import normalise_photo
from matching.services.facts import faces_refresh_facts
from matching.services.match_jobs import photo_schedule_processing


def _may_manage_case_photo(actor: User, photo: Photo) -> bool:
    return bool(photo.case_id) and photo_manageable_by(user=actor, photo=photo)


def photo_estimate_age_progression(*, actor: User, photo: Photo, target_age: float) -> Photo:
    """Reunion's own estimate of a childhood photo at ``target_age``, stored beside it.

    The estimate is an age-progressed image labelled as an estimate, points to
    its source photo, and carries the target age as its age, so it is matched
    like a photo at that age. It stays off the poster, and out of matching
    unless ``AGE_PROGRESSION_USE_IN_MATCHING`` says otherwise (docs/MATCHING.md:
    no measurement so far shows it helps), until the family decides with
    ``photo_set_estimate_use``. The image is made before the transaction (about
    a second); its face is found and embedded by the workers like any upload.

    Raises ``PermissionDenied`` unless the actor manages the photo's case, and
    ``ValidationError`` for a photo that can't be aged (no age, no face, an estimate).
    """

    from matching import age_progression

    if not _may_manage_case_photo(actor, photo):
        raise PermissionDenied("Only the case's family or a volunteer may age its photos.")
    if photo.is_estimate:
        raise ValidationError(_("Make the estimate from a real photo, not from an estimate."))
    source_age = photo.age_years()
    if source_age is None:
        raise ValidationError(_("Give the child's age in this photo first."))
    if not source_age < target_age <= 120:
        raise ValidationError(
            _("Choose a target age older than the child in the photo (%(age)s years).")
            % {"age": f"{source_age:g}"}
        )
    face = photo.faces.order_by("-picked_by_id", "pk").first()
    box = (
        age_progression.FaceBox(face.box_x, face.box_y, face.box_x + face.box_w,
                                face.box_y + face.box_h)
        if face is not None and photo.face_state == Photo.FaceState.FACE_FOUND else None
    )
    with photo.image.open("rb") as handle:
        image = age_progression.decode_rgb(handle.read())
    try:
        result = age_progression.age_progress(
            image, source_age=source_age, target_age=target_age, box=box
        )
    except age_progression.NoFaceFound:
        raise ValidationError(_("No face was found in this photo to age.")) from None
    normalised = normalise_photo(age_progression.encode_jpeg(result.image))
    with transaction.atomic():
        estimate = Photo(
            owner=actor, case=photo.case, kind=Photo.Kind.AGE_PROGRESSED,
            sha256=normalised.sha256, width=normalised.width, height=normalised.height,
            age_in_photo=round(target_age, 1), is_estimate=True, source_photo=photo,
            use_in_matching=settings.AGE_PROGRESSION_USE_IN_MATCHING, use_on_poster=False,
        )
        estimate.image.save("estimate.jpg", ContentFile(normalised.content), save=False)
        try:
            estimate.save()
            audit_record(
                actor=actor, action="photo.age_progression_estimated", obj=estimate,
                detail={"source_photo": photo.pk, "source_age": source_age,
                        "target_age": target_age, "strain_k": round(result.strain, 4)},
            )
            photo_schedule_processing(actor=actor, photo=estimate)
        except Exception:
            estimate.image.delete(save=False)
            raise
    return estimate


def photo_set_estimate_use(
    *, actor: User, photo: Photo, use_in_matching: bool, use_on_poster: bool
) -> Photo:
    """The family's decision on an age-progressed image: used in matching, shown on the poster.

    A volunteer helping the family may decide on its use in matching, never on the
    poster (the family's choice, or an admin's). Its faces are made searchable (and
    matched) or withdrawn from search at once.
    """
    if not _may_manage_case_photo(actor, photo):
        raise PermissionDenied("Only the case's family or a volunteer may decide on its estimates.")
    if not photo.is_estimate:
        raise ValidationError(_("Only an age-progressed image is an estimate."))
    with transaction.atomic():
        photo = Photo.objects.select_for_update(of=("self",)).select_related("case").get(
            pk=photo.pk
        )
        changed = {
            name: value
            for name, value in (("use_in_matching", use_in_matching),
                                ("use_on_poster", use_on_poster))
            if getattr(photo, name) != value
        }
        if not changed:
            return photo
        if "use_on_poster" in changed and not photo_poster_changeable_by(user=actor, photo=photo):
            raise PermissionDenied("Only the family chooses the poster's photos.")
        for name, value in changed.items():
            setattr(photo, name, value)
        photo.save(update_fields=[*changed, "updated_at"])
        audit_record(actor=actor, action="photo.estimate_use_set", obj=photo, detail=changed)
        if "use_in_matching" in changed:
            faces_refresh_facts(case=photo.case, actor=actor)
    return photo

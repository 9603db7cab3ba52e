"""Families' and seekers' pages, and the public case pages (inside i18n_patterns).

A partner organisation's imports and postings are the partners' pages, in
``families/partners/urls.py``.

A photo's faces (crop, picker, estimates) are matching's pages, in ``matching/urls.py``.
"""

from django.urls import path

from families.views import (
    accounts,
    cases,
    photos,
    places,
    seeker_postings,
    tips,
)

app_name = "families"

urlpatterns = [
    path("signup/", accounts.signup, name="signup"),
    path("signup/sent/", accounts.signup_done, name="signup_done"),
    path("confirm/<str:token>/", accounts.confirm_email, name="confirm_email"),
    path("confirm/new-address/<str:token>/", accounts.confirm_email_change,
         name="confirm_email_change"),
    path("me/", accounts.dashboard, name="dashboard"),
    path("me/profile/", accounts.profile, name="profile"),
    path("me/confirm/", accounts.resend_confirmation, name="resend_confirmation"),
    path("cases/", cases.case_list, name="case_list"),
    path("cases/new/", cases.case_create, name="case_create"),
    path("cases/<int:pk>/", cases.case_detail, name="case_detail"),
    path("cases/<int:pk>/edit/", cases.case_edit, name="case_edit"),
    path("cases/<int:pk>/publish/", cases.case_publish, name="case_publish"),
    path("cases/<int:pk>/withdraw/", cases.case_withdraw, name="case_withdraw"),
    path("cases/<int:pk>/photos/", cases.case_photos, name="case_photos"),
    path("cases/<int:pk>/poster.pdf", cases.case_poster, name="case_poster"),
    path("cases/<int:pk>/poster.png", cases.case_poster_image, name="case_poster_png"),
    path("seekers/new/", seeker_postings.seeker_create, name="seeker_create"),
    path("seekers/<int:pk>/", seeker_postings.seeker_detail, name="seeker_detail"),
    path("seekers/<int:pk>/edit/", seeker_postings.seeker_edit, name="seeker_edit"),
    path("seekers/<int:pk>/withdraw/", seeker_postings.seeker_withdraw, name="seeker_withdraw"),
    path("seekers/<int:pk>/photos/", seeker_postings.seeker_photos, name="seeker_photos"),
    path("photos/states/", photos.photo_states, name="photo_states"),
    path("photos/<int:pk>/image/", photos.photo_image, name="photo_image"),
    path("photos/<int:pk>/edit/", photos.photo_edit, name="photo_edit"),
    path("photos/<int:pk>/delete/", photos.photo_delete, name="photo_delete"),
    path("photos/<int:pk>/hide/", photos.photo_hide, name="photo_hide"),
    path("me/inbox/", accounts.inbox, name="inbox"),
    path("me/inbox/<uuid:reference>/open/", accounts.notification_open, name="notification_open"),
    path("me/export/", accounts.account_export, name="account_export"),
    path("me/delete/", accounts.account_delete, name="account_delete"),
    path("cases/<int:pk>/delete/", cases.case_delete, name="case_delete"),
    path("seekers/<int:pk>/delete/", seeker_postings.seeker_delete, name="seeker_delete"),
    path("seekers/<int:pk>/publish/", seeker_postings.seeker_publish, name="seeker_publish"),
    path("people/", seeker_postings.public_seeker_list, name="public_seeker_list"),
    path("people/<int:pk>/", seeker_postings.public_seeker_detail, name="public_seeker_detail"),
    path("people/<int:pk>/poster.pdf", seeker_postings.public_seeker_poster,
         name="public_seeker_poster"),
    path("cases/<int:pk>/tip/", tips.tip_create, name="tip_create"),
    path("tips/", tips.tips_queue, name="tips_queue"),
    path("tips/<uuid:reference>/", tips.tip_detail, name="tip_detail"),
    path("tips/<uuid:reference>/photo/", tips.tip_photo, name="tip_photo"),
    path("places/divisions.json", places.place_divisions, name="place_divisions"),
]

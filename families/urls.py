"""Families' and seekers' pages, and the public case pages (inside i18n_patterns)."""

from django.urls import path

from families import views

app_name = "families"

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("signup/sent/", views.signup_done, name="signup_done"),
    path("confirm/<str:token>/", views.confirm_email, name="confirm_email"),
    path("confirm/new-address/<str:token>/", views.confirm_email_change,
         name="confirm_email_change"),
    path("me/", views.dashboard, name="dashboard"),
    path("me/profile/", views.profile, name="profile"),
    path("me/confirm/", views.resend_confirmation, name="resend_confirmation"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/new/", views.case_create, name="case_create"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/edit/", views.case_edit, name="case_edit"),
    path("cases/<int:pk>/publish/", views.case_publish, name="case_publish"),
    path("cases/<int:pk>/withdraw/", views.case_withdraw, name="case_withdraw"),
    path("cases/<int:pk>/photos/", views.case_photos, name="case_photos"),
    path("cases/<int:pk>/poster.pdf", views.case_poster, name="case_poster"),
    path("seekers/new/", views.seeker_create, name="seeker_create"),
    path("seekers/<int:pk>/", views.seeker_detail, name="seeker_detail"),
    path("seekers/<int:pk>/edit/", views.seeker_edit, name="seeker_edit"),
    path("seekers/<int:pk>/withdraw/", views.seeker_withdraw, name="seeker_withdraw"),
    path("seekers/<int:pk>/photos/", views.seeker_photos, name="seeker_photos"),
    path("photos/states/", views.photo_states, name="photo_states"),
    path("photos/<int:pk>/image/", views.photo_image, name="photo_image"),
    path("photos/<int:pk>/faces/<int:face_pk>/", views.photo_face, name="photo_face"),
    path("photos/<int:pk>/edit/", views.photo_edit, name="photo_edit"),
    path("photos/<int:pk>/delete/", views.photo_delete, name="photo_delete"),
    path("photos/<int:pk>/face/", views.face_picker, name="face_picker"),
    path("photos/<int:pk>/age-progression/", views.photo_age_progression,
         name="photo_age_progression"),
    path("me/inbox/", views.inbox, name="inbox"),
    path("me/inbox/<int:pk>/open/", views.notification_open, name="notification_open"),
    path("me/export/", views.account_export, name="account_export"),
    path("me/delete/", views.account_delete, name="account_delete"),
    path("cases/<int:pk>/delete/", views.case_delete, name="case_delete"),
    path("seekers/<int:pk>/delete/", views.seeker_delete, name="seeker_delete"),
]

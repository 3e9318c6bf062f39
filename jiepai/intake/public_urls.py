"""Public pages (no login): each channel's hosted lead form, at /f/<channel slug>/."""

from __future__ import annotations

from django.urls import path

from jiepai.intake import capture

app_name = "capture"

urlpatterns = [
    path("<slug:slug>/", capture.public_form, name="form"),
    path("<slug:slug>/thanks/", capture.public_thanks, name="thanks"),
]

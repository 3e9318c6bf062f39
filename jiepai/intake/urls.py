from django.urls import path  # noqa: F401

from jiepai.intake import views  # noqa: F401

app_name = "intake"

urlpatterns: list = []

from django.urls import path  # noqa: F401

from jiepai.pipeline import views  # noqa: F401

app_name = "pipeline"

urlpatterns: list = []

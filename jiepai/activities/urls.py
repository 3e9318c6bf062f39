from django.urls import path  # noqa: F401

from jiepai.activities import views  # noqa: F401

app_name = "activities"

urlpatterns: list = []

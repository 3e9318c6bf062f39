from django.urls import path  # noqa: F401

from jiepai.notify import views  # noqa: F401

app_name = "notify"

urlpatterns: list = []

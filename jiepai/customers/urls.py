from django.urls import path  # noqa: F401

from jiepai.customers import views  # noqa: F401

app_name = "customers"

urlpatterns: list = []

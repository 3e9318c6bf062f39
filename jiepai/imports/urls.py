from django.urls import path

from jiepai.imports import views

app_name = "imports"

urlpatterns = [
    path("", views.job_list, name="list"),
]

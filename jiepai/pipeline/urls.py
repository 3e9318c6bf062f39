from django.urls import path

from jiepai.pipeline import views

app_name = "pipeline"

urlpatterns = [
    path("", views.opportunity_list, name="opportunity_list"),
    path("new/", views.opportunity_create, name="opportunity_create"),
    path("<int:pk>/", views.opportunity_detail, name="opportunity_detail"),
    path("<int:pk>/edit/", views.opportunity_edit, name="opportunity_edit"),
]

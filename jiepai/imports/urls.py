from django.urls import path

from jiepai.imports import views

app_name = "imports"

urlpatterns = [
    path("", views.job_list, name="list"),
    path("upload", views.upload, name="upload"),
    path("template/<str:entity>.xlsx", views.template_download, name="template"),
    path("export/<str:entity>.<str:fmt>", views.export, name="export"),
    path("<uuid:public_id>/", views.job_detail, name="job"),
    path("<uuid:public_id>/mapping", views.job_mapping, name="mapping"),
    path("<uuid:public_id>/progress", views.job_progress, name="progress"),
    path("<uuid:public_id>/rerun", views.job_rerun, name="rerun"),
    path("<uuid:public_id>/report.xlsx", views.job_report, name="report"),
    path("<uuid:public_id>/options", views.add_unmatched_option, name="add_option"),
]

from django.urls import path

from jiepai.dedup import views

app_name = "dedup"

urlpatterns = [
    path("check/<str:entity>/", views.check, name="check"),
    path("request-access/<str:entity>/<int:pk>/", views.request_access, name="request_access"),
    path("access/<int:pk>/", views.access_request, name="access_request"),
    path("merge/<str:entity>/", views.merge_preview, name="merge"),
    path("merges/<int:pk>/", views.merge_detail, name="merge_detail"),
    path("merges/<int:pk>/undo/", views.merge_undo, name="merge_undo"),
    path("review/", views.review, name="review"),
    path("review/<str:entity>/", views.review, name="review_entity"),
    path("clusters/<int:pk>/dismiss/", views.dismiss_cluster, name="dismiss_cluster"),
    path("flags/<int:pk>/dismiss/", views.dismiss_flag, name="dismiss_flag"),
    path("report/", views.report, name="report"),
    path("settings/", views.settings_page, name="settings"),
    path("go/<str:entity>/<int:pk>/", views.go, name="go"),
]

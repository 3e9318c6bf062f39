from django.urls import path

from jiepai.intake import capture, queues, views

app_name = "intake"

urlpatterns = [
    path("", views.lead_list, name="lead_list"),
    path("new/", views.lead_create, name="lead_create"),
    path("<int:pk>/", views.lead_detail, name="lead_detail"),
    path("<int:pk>/edit/", views.lead_edit, name="lead_edit"),
    path("incomplete/", queues.incomplete_list, name="incomplete_list"),
    path("<int:pk>/complete/", queues.incomplete_fix, name="incomplete_fix"),
    path("rejected/", queues.rejected_list, name="rejected_list"),
    path("rejected/<int:pk>/", queues.rejected_detail, name="rejected_detail"),
    path("channels/", capture.channel_list, name="channel_list"),
    path("channels/<int:pk>/qr/", capture.channel_qr, name="channel_qr"),
    path("channels/<int:pk>/qr.<str:fmt>", capture.channel_qr_image, name="channel_qr_image"),
]

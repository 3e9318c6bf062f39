from django.urls import path

from jiepai.notify import views

app_name = "notify"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("badge", views.badge, name="badge"),
    path("<int:pk>/open", views.open_notification, name="open"),
    path("<int:pk>/read", views.mark_read, name="read"),
    path("read-all", views.mark_all_read, name="read_all"),
    path("settings", views.preferences, name="preferences"),
    path("deliveries", views.delivery_log, name="deliveries"),
    path("deliveries/<int:pk>/resend", views.resend, name="resend"),
]

from django.urls import path

from jiepai.activities import views

app_name = "activities"

urlpatterns = [
    path("", views.task_list, name="task_list"),
    path("new/", views.follow_up_create, name="follow_up_create"),
    path("customers/", views.customer_search, name="customer_search"),
    path("<int:pk>/", views.follow_up_detail, name="follow_up_detail"),
    path("tasks/<int:pk>/done/", views.task_done, name="task_done"),
    path("visits/", views.visit_home, name="visit_home"),
    path("visits/start/", views.visit_start, name="visit_start"),
    path("visits/<int:pk>/end/", views.visit_end, name="visit_end"),
    path("visits/day/", views.visit_day, name="visit_day"),
    path("visits/review/", views.review_queue, name="review_queue"),
    path("visits/flags/<int:pk>/review/", views.flag_review, name="flag_review"),
    path("quality/", views.quality, name="quality"),
]

from django.urls import path

from jiepai.pipeline import board, report_views, views

app_name = "pipeline"

urlpatterns = [
    path("", views.opportunity_list, name="opportunity_list"),
    path("new/", views.opportunity_create, name="opportunity_create"),
    path("<int:pk>/", views.opportunity_detail, name="opportunity_detail"),
    path("<int:pk>/edit/", views.opportunity_edit, name="opportunity_edit"),
    # stages, gates and reports (board.py, report_views.py)
    path("board/", board.board, name="board"),
    path("<int:pk>/move/", board.move, name="move"),
    path("<int:pk>/follow-up/", board.follow_up, name="follow_up"),
    path("reports/dwell/", report_views.dwell, name="dwell_report"),
    path("reports/health/", report_views.health, name="health_report"),
]

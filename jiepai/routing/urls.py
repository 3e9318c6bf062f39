from django.urls import path

from jiepai.routing import views

app_name = "routing"

urlpatterns = [
    path("my/", views.my_leads, name="my_leads"),
    path("offers/<int:pk>/", views.offer, name="offer"),
    path("offers/lead/<int:pk>/", views.lead_offer, name="lead_offer"),
    path("offers/<int:pk>/claim/", views.claim, name="claim"),
    path("leads/<int:pk>/contacted/", views.contacted, name="contacted"),
    path("leads/<int:pk>/reassign/", views.reassign, name="reassign"),
    path("leads/<int:pk>/route/", views.route_again, name="route_again"),
    path("me/presence/", views.presence, name="presence"),
    path("board/", views.board, name="board"),
    path("queue/", views.queue, name="queue"),
    path("health/", views.health, name="health"),
    path("health.xlsx", views.health_export, name="health_export"),
]

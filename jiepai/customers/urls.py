from django.urls import path

from jiepai.customers import views

app_name = "customers"

urlpatterns = [
    path("", views.account_list, name="account_list"),
    path("new/", views.account_create, name="account_create"),
    path("<int:pk>/", views.account_detail, name="account_detail"),
    path("<int:pk>/edit/", views.account_edit, name="account_edit"),
    path("contacts/", views.contact_list, name="contact_list"),
    path("contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/<int:pk>/", views.contact_detail, name="contact_detail"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
]

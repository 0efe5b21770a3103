from django.urls import path

from sdkapp import views

urlpatterns = [
    path("api/items/<int:item_id>", views.item),
    path("api/orders", views.orders),
    path("api/users/<int:user_id>/profile", views.profile),
    path("api/slow", views.slow),
    path("api/search", views.search),
]

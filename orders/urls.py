from django.urls import path

from orders import api

urlpatterns = [
    path("", api.OrderListApi.as_view(), name="orders-list"),
]

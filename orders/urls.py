from django.urls import path

from orders import api

urlpatterns = [
    path("", api.OrderListCreateApi.as_view(), name="orders-list"),
    path("cart/", api.CartApi.as_view(), name="orders-cart"),
    path("cart/items/", api.CartItemAddApi.as_view(), name="orders-cart-items"),
    path("cart/items/<uuid:product_id>/", api.CartItemApi.as_view(), name="orders-cart-item"),
    path("<uuid:order_id>/", api.OrderDetailApi.as_view(), name="orders-detail"),
    path("<uuid:order_id>/cancel/", api.OrderCancelApi.as_view(), name="orders-cancel"),
    path("staff/", api.StaffOrderListApi.as_view(), name="orders-staff-list"),
    path("staff/<uuid:order_id>/", api.StaffOrderDetailApi.as_view(), name="orders-staff-detail"),
    path("staff/<uuid:order_id>/status/", api.StaffOrderStatusApi.as_view(), name="orders-staff-status"),
    path("staff/<uuid:order_id>/cancel/", api.StaffOrderCancelApi.as_view(), name="orders-staff-cancel"),
]

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

# --- returns ---
urlpatterns += [
    path("<uuid:order_id>/returns/", api.OrderReturnCreateApi.as_view(), name="orders-returns-create"),
    path("returns/", api.ReturnListApi.as_view(), name="orders-returns"),
    path("returns/<uuid:return_id>/", api.ReturnDetailApi.as_view(), name="orders-return-detail"),
    path("staff/returns/", api.StaffReturnListApi.as_view(), name="orders-staff-returns"),
    path("staff/returns/<uuid:return_id>/", api.StaffReturnDetailApi.as_view(), name="orders-staff-return-detail"),
    path("staff/returns/<uuid:return_id>/approve/", api.StaffReturnApproveApi.as_view(), name="orders-return-approve"),
    path("staff/returns/<uuid:return_id>/reject/", api.StaffReturnRejectApi.as_view(), name="orders-return-reject"),
    path("staff/returns/<uuid:return_id>/receive/", api.StaffReturnReceiveApi.as_view(), name="orders-return-receive"),
    path("staff/returns/<uuid:return_id>/refund/", api.StaffReturnRefundApi.as_view(), name="orders-return-refund"),
]

# --- fulfilment ---
urlpatterns += [
    path("<uuid:order_id>/cancel-lines/", api.OrderCancelLinesApi.as_view(), name="orders-cancel-lines"),
    path("staff/<uuid:order_id>/cancel-lines/", api.StaffOrderCancelLinesApi.as_view(), name="orders-staff-lines"),
]

from django.urls import path

from payments import api

urlpatterns = [
    path("", api.PaymentListApi.as_view(), name="payments-list"),
    path("<uuid:payment_id>/", api.PaymentDetailApi.as_view(), name="payments-detail"),
    path("config/", api.PaymentConfigApi.as_view(), name="payments-config"),
    path("confirm/", api.PaymentConfirmApi.as_view(), name="payments-confirm"),
    path("webhooks/toss/", api.TossWebhookApi.as_view(), name="payments-webhook-toss"),
    path("webhooks/toss/deposit/", api.TossDepositCallbackApi.as_view(), name="payments-webhook-toss-deposit"),
    path("staff/", api.StaffPaymentListApi.as_view(), name="payments-staff-list"),
    path("staff/<uuid:payment_id>/refund/", api.StaffPaymentRefundApi.as_view(), name="payments-staff-refund"),
    path("staff/refunds/", api.StaffRefundListApi.as_view(), name="payments-staff-refunds"),
    path(
        "staff/<uuid:payment_id>/refunds/", api.StaffGoodwillRefundApi.as_view(), name="payments-staff-goodwill-refund"
    ),
    path("staff/fake-deposit/", api.StaffFakeDepositApi.as_view(), name="payments-staff-fake-deposit"),
]

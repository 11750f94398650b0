from django.urls import path

from customers import api

urlpatterns = [
    path("register/", api.RegisterApi.as_view(), name="customers-register"),
    path("token/", api.TokenObtainApi.as_view(), name="customers-token"),
    path("token/refresh/", api.TokenRefreshApi.as_view(), name="customers-token-refresh"),
    path("logout/", api.LogoutApi.as_view(), name="customers-logout"),
    path("password-reset/", api.PasswordResetApi.as_view(), name="customers-password-reset"),
    path("password-reset/confirm/", api.PasswordResetConfirmApi.as_view(), name="customers-password-reset-confirm"),
    path("me/", api.MeApi.as_view(), name="customers-me"),
    path("me/password/", api.PasswordChangeApi.as_view(), name="customers-password"),
    path("me/delete/", api.MeDeleteApi.as_view(), name="customers-delete"),
    path("me/addresses/", api.AddressListCreateApi.as_view(), name="customers-addresses"),
    path("me/addresses/<uuid:address_id>/", api.AddressDetailApi.as_view(), name="customers-address-detail"),
    path(
        "me/addresses/<uuid:address_id>/default/",
        api.AddressSetDefaultApi.as_view(),
        name="customers-address-default",
    ),
    path("staff/", api.StaffCustomerListCreateApi.as_view(), name="customers-staff-list"),
    path("staff/<uuid:customer_id>/", api.StaffCustomerDetailApi.as_view(), name="customers-staff-detail"),
]

from django.urls import path

from saga import api

urlpatterns = [
    path("", api.SagaListApi.as_view(), name="saga-list"),
    path("<uuid:saga_id>/", api.SagaDetailApi.as_view(), name="saga-detail"),
    path("<uuid:saga_id>/retry/", api.SagaRetryApi.as_view(), name="saga-retry"),
    path("<uuid:saga_id>/compensate/", api.SagaCompensateApi.as_view(), name="saga-compensate"),
]

"""Staff-only saga tracker: list and filter, one saga with its event timeline, retry, compensate."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from c4ang.actors import actor_of
from c4ang.api.pagination import BoundedCursorPagination
from c4ang.api.schema import domain_errors
from c4ang.api.views import FilteredListApi
from saga import errors, selectors, services
from saga.constants import SagaStatus


class SagaEventOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    step = serializers.CharField()
    event_type = serializers.CharField()
    payload = serializers.JSONField()
    created_at = serializers.DateTimeField()


class SagaOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    saga_type = serializers.CharField()
    status = serializers.CharField()
    current_step = serializers.IntegerField()
    attempts = serializers.IntegerField()
    lease_expires_at = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField()
    payload = serializers.JSONField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class SagaDetailOutputSerializer(SagaOutputSerializer):
    events = SagaEventOutputSerializer(many=True)


class SagaListApi(FilteredListApi):
    permission_classes = [IsAdminUser]
    serializer_class = SagaOutputSerializer
    pagination_class = BoundedCursorPagination

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=SagaStatus.choices, required=False)
        saga_type = serializers.CharField(max_length=50, required=False)

    selector = staticmethod(selectors.saga_list)


class SagaDetailApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(responses=SagaDetailOutputSerializer)
    def get(self, request, saga_id):
        return Response(SagaDetailOutputSerializer(selectors.saga_get_with_events(saga_id=saga_id)).data)


class SagaRetryApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        request=None,
        responses={200: SagaDetailOutputSerializer, **domain_errors(errors.SagaNotRetryable, errors.SagaBusy)},
    )
    def post(self, request, saga_id):
        saga = services.saga_retry(saga_id=saga_id)
        return Response(SagaDetailOutputSerializer(selectors.saga_get_with_events(saga_id=saga.pk)).data)


class SagaCompensateApi(APIView):
    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        # Free text from staff: the saga's note; its reason is always a staff request.
        reason = serializers.CharField(max_length=200, required=False, default="")

    @extend_schema(
        request=InputSerializer,
        responses={200: SagaDetailOutputSerializer, **domain_errors(errors.SagaNotCompensable, errors.SagaBusy)},
    )
    def post(self, request, saga_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        saga = services.saga_compensate_for_staff(
            saga_id=saga_id, by=actor_of(request), note=data.validated_data["reason"]
        )
        return Response(SagaDetailOutputSerializer(selectors.saga_get_with_events(saga_id=saga.pk)).data)

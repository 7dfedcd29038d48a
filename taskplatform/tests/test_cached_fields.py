"""Serializer fields built once per class: every instance gets its own bound copies."""

from __future__ import annotations

from unittest import mock

import pytest
from rest_framework import serializers
from rest_framework.utils import model_meta

from accounts.api.serializers import UserSerializer
from accounts.models import User
from taskplatform.api.cached_fields import CachedFieldsMixin

pytestmark = pytest.mark.django_db


class Plain(serializers.ModelSerializer):
    codes = serializers.ListField(
        child=serializers.CharField(max_length=3), required=False, write_only=True
    )

    class Meta:
        model = User
        fields = ["id", "email", "full_name", "timezone", "date_joined", "codes"]
        read_only_fields = ["id", "email", "date_joined"]


class Cached(CachedFieldsMixin, Plain):
    pass


class CachedChild(Cached):
    class Meta(Plain.Meta):
        fields = ["id", "full_name"]


def test_it_renders_and_validates_as_drf_does(user):
    assert Cached(user).data == Plain(user).data
    bad = {"full_name": "x" * 151, "codes": ["toolong"]}
    for _ in range(2):  # the second from the cache
        cached, plain = Cached(user, data=bad), Plain(user, data=bad)
        assert not cached.is_valid() and not plain.is_valid()
        assert cached.errors == plain.errors


def test_every_instance_gets_fields_bound_to_itself(user):
    first, second = Cached(user), Cached(user)
    for name in first.fields:
        assert first.fields[name] is not second.fields[name]
        assert first.fields[name].parent is first and second.fields[name].parent is second
    assert first.fields["codes"].child is not second.fields["codes"].child
    assert first.fields["codes"].child.parent is first.fields["codes"]
    assert first.fields["full_name"].validators is not second.fields["full_name"].validators


def test_the_model_is_introspected_once_per_class(user):
    Cached(user).data  # noqa: B018
    introspect_as_drf = model_meta.get_field_info
    with mock.patch.object(model_meta, "get_field_info", wraps=introspect_as_drf) as introspect:
        Cached(user).data  # noqa: B018
        CachedChild(user).data  # noqa: B018  # a subclass builds its own fields
        CachedChild(user).data  # noqa: B018
    assert introspect.call_count == 1  # CachedChild's first
    assert set(CachedChild(user).data) == {"id", "full_name"}


def test_the_user_serializer_keeps_its_output(user):
    assert UserSerializer(user).data == UserSerializer(user).data
    assert set(UserSerializer(user).data) == {
        "id",
        "email",
        "email_verified",
        "full_name",
        "timezone",
        "is_staff",
        "date_joined",
    }

import hashlib

import factory
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from accounts.tests.factories import UserFactory
from files.models import StoredFile, new_storage_key


class StoredFileFactory(factory.django.DjangoModelFactory):
    """A file whose blob really is in the default storage."""

    class Meta:
        model = StoredFile

    class Params:
        content = b"hello, world\n"

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"file-{n}.txt")
    content_type = "text/plain"
    size = factory.LazyAttribute(lambda o: len(o.content))
    sha256 = factory.LazyAttribute(lambda o: hashlib.sha256(o.content).hexdigest())
    storage_key = factory.LazyAttribute(
        lambda o: default_storage.save(new_storage_key(o.owner.pk), ContentFile(o.content))
    )

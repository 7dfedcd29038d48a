"""Abstract base models shared by every app."""

from django.db import models

# the largest id a BIGINT primary key holds: ids from clients above it are refused as invalid
MAX_ID = 2**63 - 1


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

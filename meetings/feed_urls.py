from django.urls import path

from .feeds import calendar_feed

urlpatterns = [path("<str:secret>.ics", calendar_feed, name="calendar-feed")]

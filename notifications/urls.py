"""The pages the emails' footer links open (server-rendered; the API has the preferences too)."""

from django.urls import path

from . import pages

urlpatterns = [
    path("unsubscribe/", pages.unsubscribe_page, name="unsubscribe-page"),
    path("email-preferences/", pages.preferences_page, name="email-preferences-page"),
]
